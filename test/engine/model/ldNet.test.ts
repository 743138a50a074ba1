/**
 * The LD network (ld-method.md §2): parameter counts against the spec's table (§2.3), the
 * initialisation laws, output shapes and normalisations, and evaluation-mode BatchNorm.
 */
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../../main/engine/backends';
import type { BnContext } from '../../../main/engine/model/batchNorm';
import { encode, ldForward, type ForwardOptions } from '../../../main/engine/model/ldNet';
import { initModel, type ParamStore } from '../../../main/engine/model/params';
import { allConvSpecs, encoderSpecs, trainableParameterCount, type ModelConfig } from '../../../main/engine/model/spec';
import { Rng } from '../../../main/engine/rng';
import { tf, type Tensor4D } from '../../../main/engine/tf';
import { maxAbs, randn, values } from './helpers';

const RGB_LD: ModelConfig = { inChannels: 3, embedDim: 32, clusters: 16 };
const RGB_STAGE1: ModelConfig = { inChannels: 3, embedDim: 32, clusters: 0 };
const RGB_SHAPE_GUIDED: ModelConfig = { inChannels: 3, embedDim: 32, clusters: 8 };
const XRAY_LD: ModelConfig = { inChannels: 1, embedDim: 32, clusters: 16 };

// Variables are registered by name in the tfjs engine, so only one model may exist at a time.
let live: ParamStore | undefined;
function model(config: ModelConfig, seed = 0): ParamStore {
  live?.dispose();
  live = initModel(config, new Rng(seed));
  return live;
}
afterEach(() => {
  live?.dispose();
  live = undefined;
});

beforeAll(async () => {
  await activateBackend('wasm');
});

const size = (v: tf.Variable) => v.shape.reduce((a, b) => a * b, 1);
const totalSize = (m: Map<string, tf.Variable>) => [...m.values()].reduce((s, v) => s + size(v), 0);

describe('parameter counts (ld-method.md §2.3)', () => {
  test('trainableParameterCount matches the table', () => {
    expect(trainableParameterCount(RGB_LD)).toBe(1_433_280);
    expect(trainableParameterCount(RGB_STAGE1)).toBe(1_426_304);
    expect(trainableParameterCount(RGB_SHAPE_GUIDED)).toBe(1_429_216);
    // 1-channel encoder: 922,608 instead of 922,896.
    expect(trainableParameterCount(XRAY_LD)).toBe(1_433_280 - 288);
  });

  test('per-layer encoder counts (conv + BN γ/β) match the table', () => {
    const perLayer = encoderSpecs(3).map((s) => 9 * s.cin * s.cout + s.cout + 2 * s.cout);
    expect(perLayer).toEqual([480, 2352, 4704, 9312, 18624, 37056, 37056, 74112, 147840, 147840, 147840, 147840, 147840]);
    expect(perLayer.reduce((a, b) => a + b, 0)).toBe(922_896);
  });

  test.each([
    [RGB_LD, 1_433_280],
    [RGB_STAGE1, 1_426_304],
    [RGB_SHAPE_GUIDED, 1_429_216],
  ] as const)('initModel creates exactly the trainable elements of the table: %o', (config, expected) => {
    const store = model(config);
    expect(totalSize(store.trainable)).toBe(expected);
    // BN running statistics: encoder 1,056 channels + decoder (trunk 336, emb_1 32, clu_1 K) channels, two floats each.
    const bnChannels = 1056 + 336 + 32 + config.clusters;
    expect(totalSize(store.buffers)).toBe(2 * bnChannels);
    for (const v of store.trainable.values()) expect(v.trainable).toBe(true);
    for (const v of store.buffers.values()) expect(v.trainable).toBe(false);
  });

  test('the LD model (K = 16) has 2,112 encoder and 768 decoder running-statistic floats', () => {
    const store = model(RGB_LD);
    const enc = [...store.buffers].filter(([n]) => n.startsWith('enc')).reduce((s, [, v]) => s + size(v), 0);
    expect(enc).toBe(2112);
    expect(totalSize(store.buffers) - enc).toBe(768);
  });
});

describe('initialisation', () => {
  test('encoder: Kaiming-normal fan_out weights (std √(2/(9·Cout))), zero bias, γ = 1, β = 0, running (0, 1)', async () => {
    const store = model(RGB_LD, 3);
    for (const spec of encoderSpecs(3)) {
      const w = await values(store.get(`${spec.name}.weight`));
      const n = w.length;
      const sigma = Math.sqrt(2 / (9 * spec.cout));
      const mean = w.reduce((a, b) => a + b, 0) / n;
      const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
      expect(Math.abs(mean), `${spec.name} mean`).toBeLessThan((5 * sigma) / Math.sqrt(n));
      expect(Math.abs(std / sigma - 1), `${spec.name} std ${std} vs ${sigma}`).toBeLessThan(5 / Math.sqrt(2 * n) + 0.005);
      // Normal, not uniform: some weights beyond 2σ (a uniform law with this std stops at √3·σ).
      expect(w.some((v) => Math.abs(v) > 2 * sigma)).toBe(true);
      expect(new Set(await values(store.get(`${spec.name}.bias`)))).toEqual(new Set([0]));
      expect(new Set(await values(store.get(`${spec.name}.bn.gamma`)))).toEqual(new Set([1]));
      expect(new Set(await values(store.get(`${spec.name}.bn.beta`)))).toEqual(new Set([0]));
      expect(new Set(await values(store.get(`${spec.name}.bn.running_mean`)))).toEqual(new Set([0]));
      expect(new Set(await values(store.get(`${spec.name}.bn.running_var`)))).toEqual(new Set([1]));
    }
  });

  test('decoder and heads: PyTorch default U(±1/√(9·Cin)) for weights and biases', async () => {
    const store = model(RGB_LD, 4);
    const decoder = allConvSpecs(RGB_LD).filter((s) => !s.name.startsWith('enc'));
    expect(decoder.map((s) => s.name)).toEqual(['u8_1', 'u8_2', 'u4_1', 'u4_2', 'u2_1', 'u2_2', 'emb_1', 'emb_2', 'clu_1', 'clu_2']);
    for (const spec of decoder) {
      const bound = 1 / Math.sqrt(9 * spec.cin);
      const w = await values(store.get(`${spec.name}.weight`));
      const b = await values(store.get(`${spec.name}.bias`));
      expect(w.every((v) => Math.abs(v) <= bound), `${spec.name} weight bound`).toBe(true);
      expect(b.every((v) => Math.abs(v) <= bound), `${spec.name} bias bound`).toBe(true);
      // Uniform over the whole interval: the extremes are reached and the std is bound/√3.
      const maxW = maxAbs(w);
      expect(maxW, `${spec.name} max`).toBeGreaterThan(0.95 * bound);
      const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
      expect(Math.abs(std / (bound / Math.sqrt(3)) - 1), `${spec.name} std`).toBeLessThan(6 / Math.sqrt(w.length) + 0.01);
      // Biases are drawn, not zero.
      expect(new Set(b).size).toBe(b.length);
    }
  });

  test('the same seed gives an identical model; another seed does not', async () => {
    const first = await model(RGB_LD, 11).toArrays();
    const again = await model(RGB_LD, 11).toArrays();
    expect([...again.keys()]).toEqual([...first.keys()]);
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const [name, a] of first) expect(bytes(again.get(name)!.data).equals(bytes(a.data)), name).toBe(true);
    const other = await model(RGB_LD, 12).toArrays();
    expect(bytes(other.get('enc1_1.weight')!.data).equals(bytes(first.get('enc1_1.weight')!.data))).toBe(false);
    expect(bytes(other.get('u8_1.bias')!.data).equals(bytes(first.get('u8_1.bias')!.data))).toBe(false);
  });
});

describe('ldForward', () => {
  test.each([
    [32, 32],
    [48, 64],
  ])('%i×%i input, N = 2: z is (N,H,W,32) with unit norm per pixel, a is (N,H,W,16) on the simplex', async (h, w) => {
    const store = model(RGB_LD, 5);
    const bn: BnContext = { training: true, pendingStats: [] };
    const x = tf.tensor4d(randn(2 * h * w * 3, 1), [2, h, w, 3]);
    const out = ldForward(x, store, RGB_LD, { ...bn, filterGrad: 'im2col' });
    expect(out.z.shape).toEqual([2, h, w, 32]);
    expect(out.a?.shape).toEqual([2, h, w, 16]);
    const z = await out.z.data();
    const a = await out.a!.data();
    let worstNorm = 0;
    let worstSum = 0;
    for (let p = 0; p < 2 * h * w; p++) {
      let n2 = 0;
      for (let d = 0; d < 32; d++) n2 += z[p * 32 + d] ** 2;
      worstNorm = Math.max(worstNorm, Math.abs(Math.sqrt(n2) - 1));
      let s = 0;
      for (let k = 0; k < 16; k++) s += a[p * 16 + k];
      worstSum = Math.max(worstSum, Math.abs(s - 1));
    }
    expect(worstNorm).toBeLessThan(1e-5);
    expect(worstSum).toBeLessThan(1e-5);
    expect(a.every((v) => v > 0 && v < 1)).toBe(true);
    // 21 BN layers (13 encoder, 6 trunk, emb_1, clu_1) each queue a running mean and a running variance.
    expect(bn.pendingStats).toHaveLength(42);
    tf.dispose([x, out.z, out.a!, ...bn.pendingStats!.map((p) => p.value)]);
  });

  test('encoder skips are the activations before each pool: 16, 32, 64, 128, 128 channels at strides 1…16', () => {
    const store = model(RGB_LD, 9);
    const x = tf.tensor4d(randn(2 * 32 * 48 * 3, 3), [2, 32, 48, 3]);
    const skips = encode(x, store, { training: true, filterGrad: 'im2col' });
    expect(skips.map((t) => t.shape)).toEqual([
      [2, 32, 48, 16],
      [2, 16, 24, 32],
      [2, 8, 12, 64],
      [2, 4, 6, 128],
      [2, 2, 3, 128],
    ]);
    tf.dispose([x, ...skips]);
  });

  test('heads: z = v/(‖v‖ + 1e-10) of the last conv; a = (σ + 1e-9) L1-normalised (not a softmax)', async () => {
    const store = model({ ...RGB_LD, clusters: 4 }, 10);
    // Zero the last convs' kernels so every pixel's pre-activation is the bias.
    const v = [3, -4, ...new Array(30).fill(0)];
    const logits = [2, -1, 0.5, -3];
    store.get('emb_2.weight').assign(tf.zeros([3, 3, 32, 32]));
    store.get('emb_2.bias').assign(tf.tensor1d(v));
    store.get('clu_2.weight').assign(tf.zeros([3, 3, 4, 4]));
    store.get('clu_2.bias').assign(tf.tensor1d(logits));
    const x = tf.tensor4d(randn(32 * 32 * 3, 4), [1, 32, 32, 3]);
    const out = ldForward(x, store, { ...RGB_LD, clusters: 4 }, { training: true, filterGrad: 'im2col' });
    const z = await out.z.data();
    const a = await out.a!.data();
    const zExpected = v.map((c) => c / 5);
    const sig = logits.map((l) => 1 / (1 + Math.exp(-l)) + 1e-9);
    const aExpected = sig.map((s) => s / sig.reduce((t, u) => t + u, 0));
    for (const p of [0, 17, 32 * 32 - 1]) {
      expect(Array.from(z.subarray(p * 32, p * 32 + 32)).map((c, i) => Math.abs(c - zExpected[i])).every((e) => e < 1e-6)).toBe(true);
      expect(Array.from(a.subarray(p * 4, p * 4 + 4)).map((c, i) => Math.abs(c - aExpected[i])).every((e) => e < 1e-6), `a at ${p}`).toBe(true);
    }
    tf.dispose([x, out.z, out.a!]);
  });

  test('stage-1 model (K = 0) returns z only', () => {
    const store = model(RGB_STAGE1, 6);
    const x = tf.tensor4d(randn(2 * 32 * 32 * 3, 2), [2, 32, 32, 3]);
    const out = ldForward(x, store, RGB_STAGE1, { training: true, filterGrad: 'im2col' });
    expect(out.z.shape).toEqual([2, 32, 32, 32]);
    expect(out.a).toBeUndefined();
    tf.dispose([x, out.z]);
  });

  test('a side that is not a multiple of 16 throws a clear error', () => {
    const store = model(RGB_LD, 7);
    for (const [h, w] of [
      [40, 32],
      [32, 24],
    ]) {
      const x = tf.zeros([1, h, w, 3]) as Tensor4D;
      expect(() => ldForward(x, store, RGB_LD, { training: false, filterGrad: 'im2col' })).toThrow(/multiples? of 16/);
      expect(() => ldForward(x, store, RGB_LD, { training: false, filterGrad: 'im2col' })).toThrow(new RegExp(`${h}\\D+${w}`));
      x.dispose();
    }
  });

  test('evaluation mode uses the running statistics: an image’s output does not depend on its batch companions', async () => {
    const store = model(RGB_LD, 8);
    const s = 32;
    const px = s * s * 3;
    const img0 = randn(px, 20);
    const img1 = randn(px, 21);
    const img2 = randn(px, 22, 3);
    const batch = (other: Float32Array) => {
      const data = new Float32Array(2 * px);
      data.set(img0, 0);
      data.set(other, px);
      return tf.tensor4d(data, [2, s, s, 3]);
    };
    const first = async (other: Float32Array, opts: ForwardOptions) => {
      const x = batch(other);
      const out = ldForward(x, store, RGB_LD, opts);
      const z0 = Array.from((await out.z.data()).subarray(0, s * s * 32));
      tf.dispose([x, out.z, out.a!]);
      return z0;
    };
    const evalOpts: ForwardOptions = { training: false, filterGrad: 'im2col' };
    const runningBefore = await values(store.get('enc3_2.bn.running_var'));

    const evalA = await first(img1, evalOpts);
    const evalB = await first(img2, evalOpts);
    expect(evalB).toEqual(evalA);
    // Control: in training mode the batch statistics differ, so image 0's output does too.
    const trainA = await first(img1, { training: true, filterGrad: 'im2col' });
    const trainB = await first(img2, { training: true, filterGrad: 'im2col' });
    expect(Math.max(...trainA.map((v, i) => Math.abs(v - trainB[i])))).toBeGreaterThan(1e-3);
    // Evaluation neither queues nor applies running-statistic updates.
    expect(await values(store.get('enc3_2.bn.running_var'))).toEqual(runningBefore);

    // Changing a layer's running statistics changes the evaluation output.
    store.get('emb_1.bn.running_mean').assign(tf.fill([32], 0.5));
    store.get('emb_1.bn.running_var').assign(tf.fill([32], 4));
    const evalC = await first(img1, evalOpts);
    expect(Math.max(...evalC.map((v, i) => Math.abs(v - evalA[i])))).toBeGreaterThan(1e-3);
  });
});
