/**
 * Training and propagation through the handler table, as the app does them: a tiny PyTorch run on
 * three hand radiographs (64 px crops, batch 1, 4 steps) while the main event loop stays responsive,
 * cancel + resume, the cluster map, then one-shot propagation of a 3-point template, a correction
 * that survives re-propagation, and the export.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ImageEntry, RunSummary, TrainSettings } from '../../common/api';
import { readSlicerMarkupsFile } from '../../main/io/landmarks';
import { PROJECT_FILE_NAME } from '../../main/project/projectFile';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { hasTorch, torchSkipReason } from '../helpers/torch';
import { eventLoopLag, harness, waitFor, type Harness } from './harness';

const IMAGES = ['3167.png', '3177.png', '3229.png'];
const SETTINGS: TrainSettings = { stage: '1', steps: 4, size: 64, batch: 1, lr: 1e-3, lrHalveEvery: 1000, clusters: 8, seed: 0, checkpointEvery: 2, centreSensitive: true };

const skip = !hasTorch || !hasSharedData;
describe.skipIf(skip)(`training and propagation through the handler table${skip ? ` (skipped: ${torchSkipReason || sharedDataSkipReason})` : ''}`, () => {
  let h: Harness;
  let images: ImageEntry[];
  let firstRun: RunSummary;
  const ended = (runId: string) => h.eventsOf('train:state').find((s) => s.id === runId && s.status !== 'running');

  beforeAll(async () => {
    h = harness();
    await h.invoke('project:create', { dir: join(h.root, 'project'), name: 'Hands' });
    const res = await h.invoke('images:import', { jobId: 'import', paths: IMAGES.map((f) => dataPath('landmarks/hand', f)) });
    images = res.imported;
    expect(images).toHaveLength(3);
  });
  afterAll(() => h?.dispose());

  test('train:options finds the PyTorch engine and suggests CPU settings', async () => {
    const options = await h.invoke('train:options');
    const torch = options.engines.find((e) => e.id === 'torch')!;
    expect(torch.available).toBe(true);
    expect(torch.detail).toMatch(/^torch \d+\.\d+/);
    if (!/CUDA/.test(torch.detail)) expect(options.suggested).toMatchObject({ stage: '1', size: 128, batch: 2, centreSensitive: true });
  });

  test('train:start (torch) reports progress and completes while the event loop stays responsive; one run at a time', async () => {
    const lag = eventLoopLag();
    try {
      const run = await h.invoke('train:start', { engine: 'torch', settings: SETTINGS });
      expect(run).toMatchObject({ engine: 'torch', status: 'running', totalSteps: 4, dir: `runs/${run.id}` });
      await expect(h.invoke('train:start', { engine: 'torch', settings: SETTINGS })).rejects.toThrow(/already in progress/);
      const t = performance.now();
      await h.invoke('app:ping', { nonce: 'during training' });
      expect(performance.now() - t).toBeLessThan(200);
      await waitFor(() => Boolean(ended(run.id)), 180_000, 'the run to end');
      firstRun = ended(run.id)!;
    } finally {
      lag.stop();
    }
    expect(firstRun, JSON.stringify(h.eventsOf('app:notice'))).toMatchObject({ status: 'completed', step: 4, totalSteps: 4, hasCheckpoint: true });
    expect(firstRun.lastLosses).toMatchObject({ l_pd: expect.any(Number), l_mix: expect.any(Number), loss: expect.any(Number) });
    const progress = h.eventsOf('train:progress').filter((p) => p.runId === firstRun.id);
    expect(progress.some((p) => p.phase === 'loading')).toBe(true);
    expect(progress.some((p) => p.phase === 'checkpoint')).toBe(true);
    const training = progress.filter((p) => p.phase === 'training');
    expect(training.at(-1)).toMatchObject({ step: 4, totalSteps: 4, stage: 1 });
    for (const p of training) {
      expect(Number.isFinite(p.losses!.loss) && p.stepSeconds! > 0 && p.etaSeconds! >= 0).toBe(true);
    }
    // the main thread never trained: its event loop stayed responsive throughout
    const maxLagMs = lag.maxMs();
    console.info(`main event loop during training: max delay ${maxLagMs.toFixed(0)} ms`);
    expect(maxLagMs).toBeLessThan(500);

    const losses = await h.invoke('train:losses', { runId: firstRun.id });
    expect(losses.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(losses[0]).toMatchObject({ stage: 1, losses: { l_pd: expect.any(Number), l_mix: expect.any(Number), loss: expect.any(Number) } });
    const snapshot = (await h.invoke('project:get'))!;
    expect(snapshot.activeRunId).toBe(firstRun.id);
    expect(snapshot.runs[0]).toMatchObject({ id: firstRun.id, status: 'completed', step: 4 });
    const json = JSON.parse(readFileSync(join(h.root, 'project', PROJECT_FILE_NAME), 'utf8'));
    expect(json.runs[0]).toMatchObject({ id: firstRun.id, dir: `runs/${firstRun.id}`, engine: 'torch' });
    expect(json.activeRunId).toBe(firstRun.id);
  });

  test('cancel writes a checkpoint and stops; resume continues from it', async () => {
    const run = await h.invoke('train:start', { engine: 'torch', settings: { ...SETTINGS, steps: 100_000, checkpointEvery: 10_000 } });
    await waitFor(() => h.eventsOf('train:progress').some((p) => p.runId === run.id && p.phase === 'training'), 120_000, 'the first step');
    const cancelled = await h.invoke('train:cancel', { runId: run.id });
    expect(cancelled).toMatchObject({ status: 'cancelled', hasCheckpoint: true });
    expect(cancelled.step).toBeGreaterThanOrEqual(1);
    expect(h.eventsOf('train:progress').some((p) => p.runId === run.id && p.phase === 'checkpoint' && /cancel/.test(p.message ?? ''))).toBe(true);
    await expect(h.invoke('train:resume', { runId: run.id, steps: cancelled.step })).rejects.toThrow(/already has \d+ steps/);

    const target = cancelled.step + 2;
    const resumed = await h.invoke('train:resume', { runId: run.id, steps: target });
    expect(resumed).toMatchObject({ status: 'running', totalSteps: target });
    await waitFor(() => h.eventsOf('train:state').filter((s) => s.id === run.id && s.status !== 'running').length >= 2, 180_000, 'the resumed run to end');
    const done = h.eventsOf('train:state').filter((s) => s.id === run.id).at(-1)!;
    expect(done).toMatchObject({ status: 'completed', step: target });
    expect((await h.invoke('train:losses', { runId: run.id })).map((r) => r.step)).toEqual(Array.from({ length: target }, (_, i) => i + 1));
    // the completed run became the active one; the first run is used below explicitly
    await h.invoke('train:setActive', { runId: firstRun.id });
  });

  test('train:clusterMap of a stage-1 run: k-means of the embedding, a coloured overlay at the image size', async () => {
    const image = images[0];
    const map = await h.invoke('train:clusterMap', { runId: firstRun.id, imageId: image.id });
    expect(map).toMatchObject({ source: 'k-means-of-embedding', clusters: 8 });
    const png = PNG.sync.read(Buffer.from(map.dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
    expect([png.width, png.height]).toEqual([image.width, image.height]);
    const alpha = png.data[3];
    expect(alpha).toBeGreaterThan(0);
    expect(alpha).toBeLessThan(255); // semi-transparent
    // deterministic
    expect((await h.invoke('train:clusterMap', { runId: firstRun.id, imageId: image.id })).dataUrl).toBe(map.dataUrl);
  });

  test('propagate a 3-point template to the other images; a correction survives re-propagation and is exported', async () => {
    const csv = readFileSync(dataPath('landmarks/hand/landmarks.csv'), 'utf8').trim().split('\n');
    const row = csv.find((line) => line.startsWith('3167,'))!.split(',').map(Number);
    const [template, second, third] = images;
    await h.invoke('landmarks:setTemplate', { imageId: template.id, names: ['p1', 'p2', 'p3'] });
    for (let i = 0; i < 3; i++) await h.invoke('landmarks:setTemplatePoint', { name: `p${i + 1}`, point: { x: row[1 + 2 * i], y: row[2 + 2 * i] } });

    const lag = eventLoopLag();
    const result = await h.invoke('landmarks:propagate', { jobId: 'prop-1', runId: firstRun.id }).finally(() => lag.stop());
    // decoding, inference and the search ran in a worker: the main event loop stayed responsive
    console.info(`main event loop during propagation: max delay ${lag.maxMs().toFixed(0)} ms`);
    expect(lag.maxMs()).toBeLessThan(500);
    expect(result.failed).toEqual([]);
    expect(result.images).toBe(2);
    expect(result.landmarks.map((l) => l.imageId).sort()).toEqual([second.id, third.id].sort());
    for (const l of result.landmarks) {
      expect(l.points.map((p) => p.name)).toEqual(['p1', 'p2', 'p3']);
      for (const p of l.points) {
        expect(p.status).toBe('predicted');
        expect(p.confidence).toBeGreaterThanOrEqual(0);
        expect(p.confidence).toBeLessThanOrEqual(1);
        const image = images.find((im) => im.id === l.imageId)!;
        expect(p.x).toBeGreaterThanOrEqual(-0.5);
        expect(p.x).toBeLessThanOrEqual(image.width);
        expect(p.y).toBeLessThanOrEqual(image.height);
      }
      expect(l.runId).toBe(firstRun.id);
    }
    const progress = h.eventsOf('job:progress').filter((p) => p.jobId === 'prop-1');
    expect(progress.at(-1)).toMatchObject({ kind: 'propagate', done: 2, total: 2 });

    // a correction is kept when the template is propagated again
    await h.invoke('landmarks:setPoint', { imageId: second.id, name: 'p2', point: { x: 400.25, y: 1900.75 } });
    const again = await h.invoke('landmarks:propagate', { jobId: 'prop-2' });
    const kept = again.landmarks.find((l) => l.imageId === second.id)!.points.find((p) => p.name === 'p2')!;
    expect(kept).toMatchObject({ x: 400.25, y: 1900.75, status: 'corrected' });
    expect(again.landmarks.find((l) => l.imageId === second.id)!.points.filter((p) => p.status === 'predicted')).toHaveLength(2);

    const out = join(h.root, 'export');
    const { files } = await h.invoke('export:landmarks', { format: 'mrk.json', dir: out });
    expect(files).toHaveLength(3);
    const exported = await readSlicerMarkupsFile(join(out, `${second.name.replace(/\.png$/, '')}.mrk.json`));
    expect(exported.images[0].points[1]).toMatchObject({ x: 400.25, y: 1900.75 });
    const predicted = again.landmarks.find((l) => l.imageId === third.id)!.points[0];
    const thirdFile = await readSlicerMarkupsFile(join(out, `${third.name.replace(/\.png$/, '')}.mrk.json`));
    expect(thirdFile.images[0].points[0]!.x).toBeCloseTo(predicted.x, 6);
    expect(thirdFile.images[0].points[0]!.y).toBeCloseTo(predicted.y, 6);
    expect(thirdFile.images[0].points[0]!.confidence).toBeCloseTo(predicted.confidence!, 6);

    expect(again.templates).toBe(1);

    // an accepted image becomes a template: the next propagation covers the others only, from two templates
    const acceptedPoints = again.landmarks.find((l) => l.imageId === second.id)!.points.map((p) => ({ x: p.x, y: p.y }));
    await h.invoke('landmarks:accept', { imageId: second.id, accepted: true });
    const fromTwo = await h.invoke('landmarks:propagate', { jobId: 'prop-3' });
    expect(fromTwo.templates).toBe(2);
    expect(fromTwo.landmarks.map((l) => l.imageId)).toEqual([third.id]);
    expect(fromTwo.failed).toEqual([]);
    // the accepted image voted: the third image's answers moved from those of the template alone
    const before = again.landmarks.find((l) => l.imageId === third.id)!.points;
    const moved = fromTwo.landmarks[0].points.map((p, i) => Math.hypot(p.x - before[i].x, p.y - before[i].y));
    expect(Math.max(...moved)).toBeGreaterThan(0.01);
    const snapshotAfter = await h.invoke('project:get');
    const secondAfter = snapshotAfter!.landmarks.find((l) => l.imageId === second.id)!;
    expect(secondAfter.accepted).toBe(true);
    expect(secondAfter.points.map((p) => ({ x: p.x, y: p.y }))).toEqual(acceptedPoints); // left as accepted
    await h.invoke('landmarks:accept', { imageId: second.id, accepted: false });
  });
});

describe.skipIf(!hasSharedData)(`the tfjs engine through the handler table${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  test('train:start (tfjs, wasm) trains in the worker thread and completes', async () => {
    const h = harness();
    try {
      await h.invoke('project:create', { dir: join(h.root, 'project') });
      await h.invoke('images:import', { jobId: 'import', paths: IMAGES.slice(0, 2).map((f) => dataPath('landmarks/hand', f)) });
      const run = await h.invoke('train:start', { engine: 'tfjs', backend: 'wasm', settings: { ...SETTINGS, size: 32, steps: 2, checkpointEvery: 10 } });
      expect(run).toMatchObject({ engine: 'tfjs', status: 'running' });
      await waitFor(() => h.eventsOf('train:state').some((s) => s.id === run.id && s.status !== 'running'), 180_000, 'the tfjs run to end');
      const done = h.eventsOf('train:state').find((s) => s.id === run.id && s.status !== 'running')!;
      expect(done, JSON.stringify(h.eventsOf('app:notice'))).toMatchObject({ status: 'completed', step: 2, backend: 'wasm', hasCheckpoint: true });
      expect(h.eventsOf('train:progress').filter((p) => p.runId === run.id && p.phase === 'training').at(-1)).toMatchObject({ step: 2, losses: { loss: expect.any(Number) } });
    } finally {
      await h.dispose();
    }
  });
});
