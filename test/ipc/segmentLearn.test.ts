/**
 * `segment:learn` as the app does it: three spine radiographs, a tiny LD run (PyTorch engine), one
 * corrected + accepted mask (the vertebral-body quads of its corner landmarks) → a segmentation head
 * fine-tuned for a few steps → the other images get 'predicted' masks at their size, a second learn
 * changes them, the corrected mask is never touched. Refused, naming what to do, without a mask to learn from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeMaskRle, type ImageEntry, type RunSummary, type TrainSettings } from '../../common/api';
import { vertebraMask } from '../../main/engine/shapeGuided/quadMasks';
import { readImage } from '../../main/io';
import { readSpineCsvFiles } from '../../main/io/landmarks/formats/spineCsv';
import { readImageSize } from '../../main/io/landmarks/imageSize';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { hasTorch, torchSkipReason } from '../helpers/torch';
import { harness, waitFor, type Harness } from './harness';

const LD: TrainSettings = { stage: '1', steps: 2, size: 64, batch: 1, lr: 1e-3, lrHalveEvery: 1000, clusters: 4, seed: 0, checkpointEvery: 2, centreSensitive: false };

const skip = !hasTorch || !hasSharedData;
describe.skipIf(skip)(`segment:learn (few-shot from corrected masks)${skip ? ` (skipped: ${torchSkipReason || sharedDataSkipReason})` : ''}`, () => {
  let h: Harness;
  let images: ImageEntry[];
  let run: RunSummary;
  let corrected: Uint8Array;

  beforeAll(async () => {
    h = harness();
    const spine = dataPath('landmarks/spine');
    const table = await readSpineCsvFiles(join(spine, 'labels/training/landmarks.csv'), join(spine, 'labels/training/filenames.csv'), (name) =>
      readImageSize(join(spine, 'images/training', name)),
    );
    const first = table.images.slice(0, 3);
    await h.invoke('project:create', { dir: join(h.root, 'project'), name: 'Spines' });
    images = (await h.invoke('images:import', { jobId: 'import', paths: first.map((im) => join(spine, 'images/training', im.image)) })).imported;
    expect(images).toHaveLength(3);
    const started = await h.invoke('train:start', { engine: 'torch', settings: LD });
    await waitFor(() => h.eventsOf('train:state').some((s) => s.id === started.id && s.status !== 'running'), 300_000, `run ${started.id} to end`);
    run = h.eventsOf('train:state').find((s) => s.id === started.id && s.status !== 'running')!;
    expect(run, JSON.stringify(h.eventsOf('app:notice'))).toMatchObject({ status: 'completed', hasCheckpoint: true });
    const im = first[0];
    const { mask } = vertebraMask(im.points, im.width!, im.height!);
    corrected = new Uint8Array(mask.length);
    for (let i = 0; i < mask.length; i++) corrected[i] = mask[i] ? 1 : 0;
  }, 400_000);
  afterAll(() => h?.dispose());

  test('refused without an accepted corrected or imported mask, naming what to do', async () => {
    await expect(h.invoke('segment:learn', { jobId: 'learn-none', steps: 1 })).rejects.toThrow(/no accepted corrected or imported masks.*correct a mask in Segment mode.*accept it/);
    const image = images[0];
    await h.invoke('segment:saveMask', { imageId: image.id, mask: encodeMaskRle(corrected, image.width, image.height) });
    // corrected but not yet accepted: still nothing to learn from
    await expect(h.invoke('segment:learn', { jobId: 'learn-none-2', steps: 1 })).rejects.toThrow(/no accepted corrected or imported masks/);
    await h.invoke('segment:accept', { imageId: image.id, accepted: true });
  });

  test('learns from the corrected mask and re-segments the other images; a second learn changes their masks', async () => {
    const res = await h.invoke('segment:learn', { jobId: 'learn-1', steps: 3, seed: 0 });
    expect(res).toMatchObject({ status: 'completed', trained: 1, completedSteps: 3, images: 2, failed: [] });
    expect(res.masks.map((m) => m.imageId)).toEqual([images[1].id, images[2].id]);
    for (const m of res.masks) expect(m).toMatchObject({ source: 'predicted', runId: run.id, accepted: false, threshold: 0.5 });
    const progress = h.eventsOf('job:progress').filter((p) => p.jobId === 'learn-1');
    expect(progress.every((p) => p.kind === 'segment')).toBe(true);
    expect(progress.some((p) => /training the segmentation head: step 3\/3/.test(p.message ?? ''))).toBe(true);
    expect(progress.at(-1)).toMatchObject({ done: 5, total: 5, message: 'done: learned from 1 mask(s), 2 image(s) segmented' });
    const headDir = join(h.root, 'project', run.dir, 'segmentation-head');
    expect(existsSync(join(headDir, 'segmentation.onnx'))).toBe(true);
    expect(JSON.parse(readFileSync(join(headDir, 'head.json'), 'utf8'))).toMatchObject({ status: 'completed', pairs: [images[0].id] });

    const masksDir = join(h.root, 'project', 'masks');
    const before = new Map<string, Float32Array>();
    for (const image of images.slice(1)) {
      const mask = await readImage(join(masksDir, `${image.id}.png`));
      expect([mask.width, mask.height]).toEqual([image.width, image.height]);
      before.set(image.id, (await readImage(join(masksDir, `${image.id}.prob.png`))).pixels as Float32Array);
    }
    const correctedFile = readFileSync(join(masksDir, `${images[0].id}.png`));

    const again = await h.invoke('segment:learn', { jobId: 'learn-2', steps: 2, seed: 5 });
    expect(again).toMatchObject({ status: 'completed', images: 2 });
    for (const image of images.slice(1)) {
      const after = (await readImage(join(masksDir, `${image.id}.prob.png`))).pixels;
      const old = before.get(image.id)!;
      let changed = 0;
      for (let i = 0; i < after.length; i++) if (after[i] !== old[i]) changed++;
      expect(changed, `${image.name}: probability pixels changed`).toBeGreaterThan(0);
    }
    expect(readFileSync(join(masksDir, `${images[0].id}.png`)).equals(correctedFile)).toBe(true);
    const list = await h.invoke('segment:list');
    expect(list.find((m) => m.imageId === images[0].id)).toMatchObject({ source: 'corrected', accepted: true });
  }, 600_000);

  test('job:cancel stops the training: nothing is segmented', async () => {
    const pending = h.invoke('segment:learn', { jobId: 'learn-cancel', steps: 500 });
    await waitFor(() => h.eventsOf('job:progress').some((p) => p.jobId === 'learn-cancel' && /step 1\//.test(p.message ?? '')), 120_000, 'the first step');
    expect(await h.invoke('job:cancel', { jobId: 'learn-cancel' })).toEqual({ cancelled: true });
    const res = await pending;
    expect(res.status).toBe('cancelled');
    expect(res.completedSteps).toBeLessThan(500);
    expect(res.images).toBe(0);
    expect(h.eventsOf('job:progress').filter((p) => p.jobId === 'learn-cancel').at(-1)!.message).toMatch(/^cancelled/);
  }, 300_000);
});
