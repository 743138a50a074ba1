/**
 * One optimisation step (main/engine/trainer/step.ts) on the wasm backend with a tiny batch
 * (32×32, B = 1, so 5 images): finite losses, no leaked tensors, running statistics that move, and a
 * fixed batch that the model can overfit.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../../main/engine/backends';
import { alignGridIndex, drawWarp, warpMatrix } from '../../../main/engine/data/augment';
import { ldLosses, type BatchMeta } from '../../../main/engine/losses';
import { ldForward } from '../../../main/engine/model/ldNet';
import { initModel, type ParamStore } from '../../../main/engine/model/params';
import type { ModelConfig } from '../../../main/engine/model/spec';
import { Adam } from '../../../main/engine/optim/adam';
import { Rng } from '../../../main/engine/rng';
import { tf } from '../../../main/engine/tf';
import { microBatchInput, trainStep, type LossValues, type StepInput } from '../../../main/engine/trainer/step';

const SIZE = 32;
const PAIRS = 1;

/** A smooth image plus a little noise, normalised to mean 0 / std ~0.5 like the pipeline's output. */
function smoothImage(rng: Rng): Float32Array {
  const fx = rng.uniform(1, 3);
  const fy = rng.uniform(1, 3);
  const phase = rng.uniform(0, 6.28);
  const img = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) img[y * SIZE + x] = Math.sin((fx * x) / SIZE * 6.28 + phase) * Math.cos((fy * y) / SIZE * 6.28) * 0.5 + 0.1 * (rng.next() - 0.5);
  return img;
}

/** X = [img1_1, img2_1, img1_2, img2_2, mix] with identity view-2 geometry (views differ by noise only). */
function fixedBatch(): StepInput {
  const rng = new Rng(2024);
  const img1 = smoothImage(rng);
  const img2 = smoothImage(rng);
  const noisy = (img: Float32Array) => img.map((v) => v + 0.05 * (rng.next() - 0.5));
  const w = Math.fround(0.35);
  const mix = img1.map((v, i) => w * v + (1 - w) * img2[i]);
  const px = SIZE * SIZE;
  const x = new Float32Array(5 * PAIRS * px);
  [noisy(img1), noisy(img2), noisy(img1), noisy(img2), mix].forEach((img, i) => x.set(img, i * px));
  const meta: BatchMeta = { pairs: PAIRS, w: Float32Array.from([w]), alignment: { src: [alignGridIndex(0, 0, 8), alignGridIndex(0, 0, 8)] } };
  return { x, shape: [5 * PAIRS, SIZE, SIZE, 1], meta };
}

interface History {
  losses: LossValues[];
  memory: Array<{ numTensors: number; numBytes: number }>;
  running0: Map<string, Float32Array>;
  running1: Map<string, Float32Array>;
  weights0: Float32Array;
  weights1: Float32Array;
  ms: number;
}

async function snapshotBuffers(store: ParamStore): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of store.buffers) out.set(name, Float32Array.from(await v.data()));
  return out;
}

const cases = [
  { stage: 2, steps: 30, model: { inChannels: 1, embedDim: 32, clusters: 4 } as ModelConfig },
  { stage: 1, steps: 20, model: { inChannels: 1, embedDim: 32, clusters: 0 } as ModelConfig },
];

describe.each(cases)('trainStep, stage $stage (K = $model.clusters), $steps steps on wasm', ({ model, steps }) => {
  let store: ParamStore;
  let adam: Adam;
  const h: History = {} as History;

  beforeAll(async () => {
    await activateBackend('wasm');
    store = initModel(model, new Rng(1));
    adam = new Adam();
    const ctx = { store, model, adam, filterGrad: 'im2col' as const };
    const input = fixedBatch();
    h.losses = [];
    h.memory = [];
    h.running0 = await snapshotBuffers(store);
    h.weights0 = Float32Array.from(await store.get('enc1_1.weight').data());
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      h.losses.push(await trainStep(ctx, input, 1e-3));
      const { numTensors, numBytes } = tf.memory();
      h.memory.push({ numTensors, numBytes });
      if (i === 0) {
        h.running1 = await snapshotBuffers(store);
        h.weights1 = Float32Array.from(await store.get('enc1_1.weight').data());
      }
    }
    h.ms = performance.now() - t0;
  });

  afterAll(() => {
    adam?.dispose();
    store?.dispose();
  });

  test('returns finite loss terms whose weighted sum is the total', () => {
    for (const l of h.losses) {
      expect(Number.isFinite(l.pd) && Number.isFinite(l.mix) && Number.isFinite(l.loss)).toBe(true);
      if (model.clusters > 0) {
        expect(Number.isFinite(l.rd!) && Number.isFinite(l.ent!)).toBe(true);
        expect(Math.abs(l.loss - (l.pd + l.mix + 10 * l.rd! + 0.1 * l.ent!)) / Math.abs(l.loss)).toBeLessThan(1e-5);
      } else {
        expect(l.rd).toBeUndefined();
        expect(l.ent).toBeUndefined();
        expect(Math.abs(l.loss - (l.pd + l.mix)) / Math.abs(l.loss)).toBeLessThan(1e-5);
      }
    }
  });

  test('leaks nothing: tf.memory() is exactly constant from the first step on', () => {
    const first = h.memory[0];
    const drift = h.memory.map((m, i) => ({ step: i + 1, dTensors: m.numTensors - first.numTensors, dBytes: m.numBytes - first.numBytes })).filter((d) => d.dTensors || d.dBytes);
    expect(drift).toEqual([]);
    expect(h.memory).toHaveLength(steps);
  });

  test('one step moves the BatchNorm running statistics and the weights', () => {
    const changed = [...h.running0].filter(([name, before]) => {
      const after = h.running1.get(name)!;
      return before.some((v, i) => v !== after[i]);
    });
    // Every running mean and variance moves (momentum 0.1 towards a batch statistic that is not exactly 0 / 1).
    expect(changed.length).toBe(h.running0.size);
    expect(h.weights1.some((v, i) => v !== h.weights0[i])).toBe(true);
  });

  test('overfitting one fixed batch at lr 1e-3 lowers the total loss', () => {
    const losses = h.losses.map((l) => l.loss);
    const first = losses[0];
    const last = losses[losses.length - 1];
    const trace = `losses: ${losses.map((v) => v.toFixed(4)).join(' ')} (${Math.round(h.ms)} ms)`;
    expect(last, trace).toBeLessThan(first);
    // Observed: 22.4 → 1.5 (stage 2, 30 steps) and 8.5 → 0.3 (stage 1, 20 steps); demand at least a halving.
    expect(last, trace).toBeLessThan(0.5 * first);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
  });
});

describe('micro-batches', () => {
  test('a micro-batched step averages the losses of its parts, each with its own statistics', async () => {
    await activateBackend('wasm');
    const model = { inChannels: 1 as const, embedDim: 32, clusters: 4 };
    const size = 32;
    const rng = new Rng(11);
    const x = new Float32Array(10 * size * size).map(() => rng.uniform(-1, 1));
    const ident = Int32Array.from({ length: 64 }, (_, i) => i);
    const input = { x, shape: [10, size, size, 1] as [number, number, number, number], meta: { pairs: 2, w: new Float32Array([0.3, 0.6]), alignment: { src: [ident, ident, ident, ident] } } };

    const micro = initModel(model, new Rng(5));
    const together = await trainStep({ store: micro, model, adam: new Adam(), filterGrad: 'im2col', microBatch: 1 }, input, 1e-3);
    micro.dispose();

    const parts: number[] = [];
    for (const p0 of [0, 1]) {
      const store = initModel(model, new Rng(5));
      const part = microBatchInput(input, p0, 1);
      const loss = tf.tidy(() => ldLosses(ldForward(tf.tensor4d(part.x, part.shape), store, model, { training: true, filterGrad: 'im2col' }), part.meta).total.dataSync()[0]);
      parts.push(loss);
      store.dispose();
    }
    expect(together.loss).toBeCloseTo((parts[0] + parts[1]) / 2, 4);
    // the second micro-batch takes rows 1, 3, 5, 7, 9 of the 5B layout
    const second = microBatchInput(input, 1, 1);
    const px = size * size;
    for (let block = 0; block < 5; block++) expect(second.x.subarray(block * px, (block + 1) * px)).toEqual(x.subarray((2 * block + 1) * px, (2 * block + 2) * px));
    expect(Array.from(second.meta.w)).toEqual([Math.fround(0.6)]);
  });

  test('with view-2 warps too: the micro-batched step averages its parts, each with its own warps', async () => {
    await activateBackend('wasm');
    const model = { inChannels: 1 as const, embedDim: 32, clusters: 0 };
    const size = 32;
    const rng = new Rng(12);
    const x = new Float32Array(10 * size * size).map(() => rng.uniform(-1, 1));
    const ident = Int32Array.from({ length: 64 }, (_, i) => i);
    const warps = new Float64Array(4 * 6);
    for (let v = 0; v < 4; v++) warps.set(warpMatrix(drawWarp(rng, [1.25, 10, 0.1]), size), 6 * v);
    const input = { x, shape: [10, size, size, 1] as [number, number, number, number], meta: { pairs: 2, w: new Float32Array([0.3, 0.6]), alignment: { src: [ident, ident, ident, ident] }, centreSigma: 1, warps } };
    const micro = initModel(model, new Rng(5));
    const together = await trainStep({ store: micro, model, adam: new Adam(), filterGrad: 'im2col', microBatch: 1 }, input, 1e-3);
    micro.dispose();
    expect(Number.isFinite(together.loss)).toBe(true);
    const parts: number[] = [];
    for (const p0 of [0, 1]) {
      const store = initModel(model, new Rng(5));
      const part = microBatchInput(input, p0, 1);
      parts.push(tf.tidy(() => ldLosses(ldForward(tf.tensor4d(part.x, part.shape), store, model, { training: true, filterGrad: 'im2col' }), part.meta).total.dataSync()[0]));
      store.dispose();
    }
    expect(together.loss).toBeCloseTo((parts[0] + parts[1]) / 2, 4);
  });

  test('view-2 warps are sliced with their rows: micro-batch pairs [p0, p0 + m) take warps p0.. and B + p0..', () => {
    const B = 4;
    const ident = Int32Array.from({ length: 64 }, (_, i) => i);
    const warps = Float64Array.from({ length: 2 * B * 6 }, (_, i) => i); // warp v = values 6v..6v+5
    const input = { x: new Float32Array(5 * B), shape: [5 * B, 1, 1, 1] as [number, number, number, number], meta: { pairs: B, w: new Float32Array(B), alignment: { src: Array(2 * B).fill(ident) }, warps } };
    const part = microBatchInput(input, 2, 2);
    const rowsOf = (v: number[]) => v.flatMap((k) => Array.from({ length: 6 }, (_, i) => 6 * k + i));
    expect(Array.from(part.meta.warps!)).toEqual(rowsOf([2, 3, B + 2, B + 3]));
    expect(microBatchInput({ ...input, meta: { ...input.meta, warps: undefined } }, 0, 2).meta.warps).toBeUndefined();
  });
});
