/** Shape-guided training in the tfjs engine (ld-method.md §5.4): one step, and the trainer's checkpoints. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../../main/engine/backends';
import { alignGridIndex, makeBatch, type PreparedImage } from '../../../main/engine/data';
import { GRID, ldLosses } from '../../../main/engine/losses';
import { ldForward } from '../../../main/engine/model/ldNet';
import { initModel, ParamStore } from '../../../main/engine/model/params';
import { Adam, PAPER_ADAM } from '../../../main/engine/optim/adam';
import { Rng } from '../../../main/engine/rng';
import { defaultShapeGuided } from '../../../main/engine/shapeGuided/config';
import { discriminatorForward, discriminatorLoss, fakeMaps, initDiscriminator } from '../../../main/engine/shapeGuided/discriminator';
import { drawPriorBatch, type PriorMask } from '../../../main/engine/shapeGuided/priors';
import { tf } from '../../../main/engine/tf';
import type { TrainConfig } from '../../../main/engine/trainer/config';
import { trainStep, type ShapeStepContext } from '../../../main/engine/trainer/step';
import { tensorMemory, Trainer, type StepReport } from '../../../main/engine/trainer/trainer';
import { loadTrainingImages } from '../../../main/jobs/trainingImages';
import { RunDir } from '../../../main/jobs/runDir';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';

const SIZE = 160;

function ellipses(): PriorMask[] {
  return [[180, 240], [240, 200]].map(([w, h], k) => {
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (((x - w / 2) / (w / 4)) ** 2 + ((y - h / 2) / (h / (3 + k))) ** 2 < 1) data[y * w + x] = 255;
    return { id: `e${k}`, width: w, height: h, data };
  });
}

const snapshot = async (store: ParamStore) => new Map(await Promise.all([...store.trainable].map(async ([k, v]) => [k, Float32Array.from(await v.data())] as const)));
const changed = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => [...a].filter(([k, v]) => v.some((x, i) => x !== b.get(k)![i])).map(([k]) => k);

describe.skipIf(!hasSharedData)(`shape-guided training, tfjs${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let images: PreparedImage[];
  beforeAll(async () => {
    await activateBackend('wasm');
    ({ images } = await loadTrainingImages(dataPath('landmarks/hand'), { cropSize: SIZE, channels: 1 }));
  });

  test('one step: finite losses; G and D both move; D does not move in G\'s step; D\'s loss uses the fakes from before G\'s update', { timeout: 300_000 }, async () => {
    const rng = new Rng(11);
    const model = { inChannels: 1 as const, embedDim: 32, clusters: 8 };
    const store = initModel(model, rng);
    const disc = initDiscriminator(new ParamStore(), rng);
    const batch = makeBatch(images, rng, { pairs: 1, cropSize: SIZE, channels: 1 });
    const real = drawPriorBatch(ellipses(), rng, 1, SIZE);
    const meta = { pairs: 1, w: batch.w, alignment: { src: [0, 1].map((i) => alignGridIndex(batch.f[i], batch.k[i], GRID)) } };
    const input = { x: batch.x, shape: [5, SIZE, SIZE, 1] as [number, number, number, number], meta, real };

    // what D's loss must be: D's weights before its step, G's fakes before G's step
    const x = tf.tensor4d(batch.x, input.shape);
    const expectedD = tf.tidy(() => {
      const out = ldForward(x, store, model, { training: true, filterGrad: 'im2col' });
      const ld = ldLosses(out, meta);
      const p = discriminatorForward(tf.concat([tf.tensor4d(real, [4, SIZE, SIZE, 1]), fakeMaps(out.a!, 4)]) as tf.Tensor4D, disc, { slope: 0.01, filterGrad: 'im2col' });
      return [discriminatorLoss(tf.slice(p, [0], [4]), tf.slice(p, [4], [4])).dataSync()[0], ld.total.dataSync()[0]];
    });
    x.dispose();

    const g0 = await snapshot(store);
    const d0 = await snapshot(disc);
    const shape = (discLrFactor: number): ShapeStepContext => ({ disc, discAdam: new Adam(PAPER_ADAM), slope: 0.01, gWeight: 1, discLrFactor, cluster: 0 });
    // discLrFactor 0: D's own step does nothing, so any change of D would come from G's step
    const frozen = await trainStep({ store, model, adam: new Adam(PAPER_ADAM), filterGrad: 'im2col', shape: shape(0) }, input, 1e-3);
    expect(changed(d0, await snapshot(disc))).toEqual([]);
    const g1 = await snapshot(store);
    expect(changed(g0, g1).length).toBeGreaterThan(50);
    for (const key of ['pd', 'mix', 'rd', 'ent', 'g', 'd', 'loss'] as const) expect(Number.isFinite(frozen[key]), key).toBe(true);
    expect(frozen.d!).toBeCloseTo(expectedD[0], 5);
    expect(frozen.loss).toBeCloseTo(expectedD[1] + frozen.g!, 3);

    // the paper's factor: now D moves too (every one of its 18 tensors)
    const moving = await trainStep({ store, model, adam: new Adam(PAPER_ADAM), filterGrad: 'im2col', shape: shape(0.05) }, input, 1e-3);
    expect(changed(d0, await snapshot(disc))).toHaveLength(18);
    expect(changed(g1, await snapshot(store)).length).toBeGreaterThan(50);
    expect(Number.isFinite(moving.d)).toBe(true);
    store.dispose();
    disc.dispose();
  });

  test('the trainer leaks no tensors, checkpoints the discriminator and its Adam state, and resumes bit for bit', { timeout: 600_000 }, async () => {
    const config: TrainConfig = {
      stage: '2', steps: 3, stage1Steps: 0, size: SIZE, batch: 1, channels: 1, clusters: 8, embedDim: 32,
      lr: 1e-3, lrHalveEvery: 10_000, seed: 3, checkpointEvery: 1_000, filterGrad: 'im2col',
      shapeGuided: defaultShapeGuided('/unused', SIZE),
    };
    const priors = ellipses();
    const memory: Array<{ tensors: number; bytes: number }> = [];
    const run = async (trainer: Trainer, until?: number) => {
      const reports: StepReport[] = [];
      const cancel = { cancelled: false };
      await trainer.run({ onStep: (r) => { reports.push(r); memory.push(tensorMemory()); if (until && r.step >= until) cancel.cancelled = true; }, onCheckpoint: () => {} }, cancel);
      return reports;
    };
    const straight = new Trainer(config, images, undefined, { priors });
    const expected = await run(straight);
    straight.dispose();
    // step 1 creates both optimisers' moments; from then on every step ends with the same tensors
    expect(memory[2]).toEqual(memory[1]);
    expect(expected.every((r) => Number.isFinite(r.losses.g) && Number.isFinite(r.losses.d))).toBe(true);

    const dir = new RunDir(mkdtempSync(join(tmpdir(), 'ld-sg-resume-')));
    dir.create();
    const first = new Trainer(config, images, undefined, { priors });
    await run(first, 2);
    const ckpt = await first.checkpoint();
    first.dispose();
    const keys = [...ckpt.tensors.keys()];
    expect(keys.filter((k) => /^disc_\d\.(weight|bias)$/.test(k))).toHaveLength(18);
    expect(keys.filter((k) => k.startsWith('disc_adam.m.'))).toHaveLength(18);
    expect(keys.filter((k) => k.startsWith('adam.m.disc'))).toEqual([]); // G's optimiser state stays G's
    dir.writeCheckpoint(ckpt, 'test');
    const resumed = new Trainer(config, images, dir.readCheckpoint(2), { priors });
    const rest = await run(resumed);
    resumed.dispose();
    expect(rest.map((r) => r.step)).toEqual([3]);
    expect(rest[0].losses).toEqual(expected[2].losses);
  });

  test('without prior masks a shape-guided trainer refuses to start', () => {
    const config = { stage: '2', steps: 1, stage1Steps: 0, size: SIZE, batch: 1, channels: 1, clusters: 8, embedDim: 32, lr: 1e-3, lrHalveEvery: 10, seed: 0, checkpointEvery: 10, filterGrad: 'im2col', shapeGuided: defaultShapeGuided('/x', SIZE) } as TrainConfig;
    expect(() => new Trainer(config, images)).toThrow(/needs prior masks/);
  });
});
