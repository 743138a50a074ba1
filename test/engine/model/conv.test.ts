/**
 * The hand-written gradients of model/conv.ts against tfjs autograd on the cpu backend (which has
 * a Conv2DBackpropFilter kernel), and the BatchNorm statistics of model/batchNorm.ts by hand.
 * The custom ops also run on wasm, which has no Conv2DBackpropFilter: that is why im2col exists.
 */
import { describe, expect, test } from 'vitest';
import { activateBackend, type BackendName } from '../../../main/engine/backends';
import { applyPendingStats, batchNormEval, BN_MOMENTUM, statsCollector, type BnContext } from '../../../main/engine/model/batchNorm';
import {
  BN_EPSILON,
  conv3x3,
  convBnReluTrain,
  filterGrad,
  filterGradIm2col,
  inputGrad3x3,
  type BatchStats,
  type FilterGradMode,
} from '../../../main/engine/model/conv';
import { upsample2 } from '../../../main/engine/model/ldNet';
import { initConv, ParamStore } from '../../../main/engine/model/params';
import { Rng } from '../../../main/engine/rng';
import { tf, type Tensor4D } from '../../../main/engine/tf';
import { expectClose, maxAbs, randn, values } from './helpers';

interface Shape {
  n: number;
  h: number;
  w: number;
  c: number;
  cout: number;
}

const SHAPES: Shape[] = [
  { n: 1, h: 4, w: 4, c: 1, cout: 1 },
  { n: 1, h: 5, w: 5, c: 3, cout: 3 },
  { n: 2, h: 5, w: 7, c: 3, cout: 4 }, // N > 1, H ≠ W, Cout ≠ C
  { n: 3, h: 6, w: 3, c: 2, cout: 5 },
  { n: 2, h: 3, w: 8, c: 5, cout: 2 }, // Cout < C
];

const TOL = 1e-4;
const name = (s: Shape) => `N=${s.n} H=${s.h} W=${s.w} C=${s.c} Cout=${s.cout}`;

interface Inputs {
  x: Float32Array;
  k: Float32Array;
  b: Float32Array;
  g: Float32Array;
  beta: Float32Array;
  dy: Float32Array;
}

function inputs(s: Shape, seed: number): Inputs {
  const g = randn(s.cout, seed + 4, 0.3).map((v) => 1 + v);
  return {
    x: randn(s.n * s.h * s.w * s.c, seed + 1),
    k: randn(9 * s.c * s.cout, seed + 2, 0.4),
    b: randn(s.cout, seed + 3, 0.2),
    g,
    beta: randn(s.cout, seed + 5, 0.2),
    dy: randn(s.n * s.h * s.w * s.cout, seed + 6),
  };
}

/** Activate `backend`, build the tensors, run `fn` in a tidy and return its outputs as plain arrays. */
async function on(backend: BackendName, s: Shape, a: Inputs, fn: (t: Record<keyof Inputs, tf.Tensor>) => tf.Tensor[]): Promise<number[][]> {
  await activateBackend(backend);
  const outs = tf.tidy(() => {
    const t = {
      x: tf.tensor4d(a.x, [s.n, s.h, s.w, s.c]),
      k: tf.tensor4d(a.k, [3, 3, s.c, s.cout]),
      b: tf.tensor1d(a.b),
      g: tf.tensor1d(a.g),
      beta: tf.tensor1d(a.beta),
      dy: tf.tensor4d(a.dy, [s.n, s.h, s.w, s.cout]),
    };
    return fn(t);
  });
  const result = await Promise.all(outs.map(values));
  tf.dispose(outs);
  return result;
}

/** dW by the definition, six nested loops in float64 (pads 1 on each side, stride 1). */
function filterGradLoops(s: Shape, x: Float32Array, dy: Float32Array): number[] {
  const out = new Array(9 * s.c * s.cout).fill(0);
  for (let kh = 0; kh < 3; kh++)
    for (let kw = 0; kw < 3; kw++)
      for (let n = 0; n < s.n; n++)
        for (let y = 0; y < s.h; y++)
          for (let xx = 0; xx < s.w; xx++) {
            const iy = y + kh - 1;
            const ix = xx + kw - 1;
            if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
            for (let ci = 0; ci < s.c; ci++)
              for (let co = 0; co < s.cout; co++) {
                out[((kh * 3 + kw) * s.c + ci) * s.cout + co] += x[((n * s.h + iy) * s.w + ix) * s.c + ci] * dy[((n * s.h + y) * s.w + xx) * s.cout + co];
              }
          }
  return out;
}

/** The plain tfjs composition: conv2d + bias + BN (moments, biased variance, eps 1e-5) + ReLU. */
function plainConvBnRelu(x: tf.Tensor, k: tf.Tensor, b: tf.Tensor, g: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const c = tf.add(tf.conv2d(x as Tensor4D, k as tf.Tensor4D, 1, 'same'), b);
  const { mean, variance } = tf.moments(c, [0, 1, 2]);
  return tf.relu(tf.add(tf.mul(tf.div(tf.sub(c, mean), tf.sqrt(tf.add(variance, 1e-5))), g), beta));
}

describe('filterGradIm2col', () => {
  test.each(SHAPES)('equals cpu Conv2DBackpropFilter (autograd) and the definition: %o', async (s) => {
    const a = inputs(s, 10);
    const [ref] = await on('cpu', s, a, (t) => [tf.grad((k) => tf.sum(tf.mul(tf.conv2d(t.x as Tensor4D, k as tf.Tensor4D, 1, 'same'), t.dy)))(t.k)]);
    expectClose(ref, filterGradLoops(s, a.x, a.dy), 1e-5, 1e-12, `cpu autograd vs loops, ${name(s)}`);
    for (const backend of ['cpu', 'wasm'] as const) {
      const [ours] = await on(backend, s, a, (t) => {
        const dw = filterGradIm2col(t.x as Tensor4D, t.dy as Tensor4D);
        expect(dw.shape).toEqual([3, 3, s.c, s.cout]);
        return [dw];
      });
      expectClose(ours, ref, TOL, 1e-12, `im2col on ${backend}, ${name(s)}`);
    }
  });

  test('is additive over the batch (the chunked path sums per-chunk products): N=4 equals the sum of 4 single-image calls', async () => {
    // MAX_CHUNK_FLOATS (32 Mi floats) is not exported, and reaching chunk < N needs N·H·W·max(C, Cout) > 32 Mi
    // floats (> 128 MB per operand, ~10× that live inside the tidy), too big for a unit test. The chunk loop
    // adds per-chunk results, so its correctness reduces to this additivity.
    const s: Shape = { n: 4, h: 6, w: 5, c: 3, cout: 2 };
    const a = inputs(s, 20);
    const [whole, summed] = await on('wasm', s, a, (t) => {
      const parts = [0, 1, 2, 3].map((i) =>
        filterGradIm2col(tf.slice(t.x, [i, 0, 0, 0], [1, s.h, s.w, s.c]) as Tensor4D, tf.slice(t.dy, [i, 0, 0, 0], [1, s.h, s.w, s.cout]) as Tensor4D),
      );
      return [filterGradIm2col(t.x as Tensor4D, t.dy as Tensor4D), tf.addN(parts)];
    });
    expectClose(whole, summed, 1e-5, 1e-12, 'N=4 vs Σ singles');
    expectClose(whole, filterGradLoops(s, a.x, a.dy), TOL, 1e-12, 'N=4 vs loops');
  });

  test("'native' mode (the backend's Conv2DBackpropFilter) equals im2col on cpu", async () => {
    const s = SHAPES[2];
    const a = inputs(s, 30);
    const [im2col, native] = await on('cpu', s, a, (t) => [
      filterGrad(t.x as Tensor4D, t.dy as Tensor4D, [3, 3, s.c, s.cout], 'im2col'),
      filterGrad(t.x as Tensor4D, t.dy as Tensor4D, [3, 3, s.c, s.cout], 'native'),
    ]);
    expectClose(native, im2col, TOL, 1e-12, 'native vs im2col');
  });
});

describe('inputGrad3x3', () => {
  test.each(SHAPES)('equals autograd dx of a same-padded conv2d: %o', async (s) => {
    const a = inputs(s, 40);
    const [ref] = await on('cpu', s, a, (t) => [tf.grad((x) => tf.sum(tf.mul(tf.conv2d(x as Tensor4D, t.k as tf.Tensor4D, 1, 'same'), t.dy)))(t.x)]);
    for (const backend of ['cpu', 'wasm'] as const) {
      const [ours] = await on(backend, s, a, (t) => [inputGrad3x3(t.dy as Tensor4D, t.k as tf.Tensor4D)]);
      expectClose(ours, ref, TOL, 1e-12, `inputGrad3x3 on ${backend}, ${name(s)}`);
    }
  });
});

const RUNS: Array<{ backend: BackendName; mode: FilterGradMode }> = [
  { backend: 'cpu', mode: 'im2col' },
  { backend: 'cpu', mode: 'native' },
  { backend: 'wasm', mode: 'im2col' },
];

describe('conv3x3 (custom gradient)', () => {
  test.each(SHAPES)('value and gradients w.r.t. x, kernel, bias equal tfjs autograd: %o', async (s) => {
    const a = inputs(s, 50);
    const ref = await on('cpu', s, a, (t) => {
      const f = (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => tf.add(tf.conv2d(x as Tensor4D, k as tf.Tensor4D, 1, 'same'), b);
      const grads = tf.grads((x, k, b) => tf.sum(tf.mul(f(x, k, b), t.dy)))([t.x, t.k, t.b]);
      return [f(t.x, t.k, t.b), ...grads];
    });
    for (const { backend, mode } of RUNS) {
      const ours = await on(backend, s, a, (t) => {
        const f = (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => conv3x3(x as Tensor4D, k as tf.Tensor4D, b as tf.Tensor1D, mode);
        const grads = tf.grads((x, k, b) => tf.sum(tf.mul(f(x, k, b), t.dy)))([t.x, t.k, t.b]);
        return [f(t.x, t.k, t.b), ...grads];
      });
      ['value', 'dx', 'dkernel', 'dbias'].forEach((what, i) => expectClose(ours[i], ref[i], TOL, 1e-12, `${what} on ${backend}/${mode}, ${name(s)}`));
    }
  });
});

describe('convBnReluTrain (fused conv → BN → ReLU, custom gradient)', () => {
  test.each(SHAPES.filter((s) => s.n * s.h * s.w > 1))('value and gradients w.r.t. x, kernel, bias, gamma, beta equal autograd of the plain composition: %o', async (s) => {
    const a = inputs(s, 60);
    const ref = await on('cpu', s, a, (t) => {
      const grads = tf.grads((x, k, b, g, beta) => tf.sum(tf.mul(plainConvBnRelu(x, k, b, g, beta), t.dy)))([t.x, t.k, t.b, t.g, t.beta]);
      return [plainConvBnRelu(t.x, t.k, t.b, t.g, t.beta), ...grads];
    });
    // Sanity: the ReLU is active on some but not all outputs, so both branches of its gradient are exercised.
    const positive = ref[0].filter((v) => v > 0).length;
    expect(positive).toBeGreaterThan(0);
    expect(positive).toBeLessThan(ref[0].length);
    // ∂L/∂bias is ~0 (BN removes a per-channel shift); judge it on the scale of ∂L/∂β.
    const biasFloor = maxAbs(ref[5]);
    for (const { backend, mode } of RUNS) {
      const ours = await on(backend, s, a, (t) => {
        const f = (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor, g: tf.Tensor, beta: tf.Tensor) =>
          convBnReluTrain(x as Tensor4D, k as tf.Tensor4D, b as tf.Tensor1D, g as tf.Tensor1D, beta as tf.Tensor1D, mode);
        const grads = tf.grads((x, k, b, g, beta) => tf.sum(tf.mul(f(x, k, b, g, beta), t.dy)))([t.x, t.k, t.b, t.g, t.beta]);
        return [f(t.x, t.k, t.b, t.g, t.beta), ...grads];
      });
      ['value', 'dx', 'dkernel', 'dbias', 'dgamma', 'dbeta'].forEach((what, i) =>
        expectClose(ours[i], ref[i], TOL, what === 'dbias' ? biasFloor : 1e-12, `${what} on ${backend}/${mode}, ${name(s)}`),
      );
    }
  });

  test('trains on wasm: a few gradient steps on the fused op lower a regression loss', async () => {
    await activateBackend('wasm');
    // The reason for im2col: tfjs-wasm registers no Conv2DBackpropFilter kernel (cpu does).
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeUndefined();
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')).toBeDefined();
    const s: Shape = { n: 2, h: 4, w: 4, c: 2, cout: 3 };
    const a = inputs(s, 70);
    const x = tf.tensor4d(a.x, [s.n, s.h, s.w, s.c]);
    const target = tf.tensor4d(a.dy.map((v) => Math.abs(v)), [s.n, s.h, s.w, s.cout]);
    const vars = [tf.variable(tf.tensor4d(a.k, [3, 3, s.c, s.cout])), tf.variable(tf.tensor1d(a.b)), tf.variable(tf.tensor1d(a.g)), tf.variable(tf.tensor1d(a.beta))];
    const loss = () =>
      tf.mean(tf.square(tf.sub(convBnReluTrain(x, vars[0] as tf.Tensor4D, vars[1] as tf.Tensor1D, vars[2] as tf.Tensor1D, vars[3] as tf.Tensor1D, 'im2col'), target))) as tf.Scalar;
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { value, grads } = tf.variableGrads(loss, vars);
      losses.push((await value.data())[0]);
      tf.tidy(() => vars.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name], 0.1)))));
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(0.8 * losses[0]);
    tf.dispose([x, target, ...vars]);
  });
});

describe('BatchNorm statistics', () => {
  /** A 1→2-channel conv whose kernel is the centre tap: channel 0 = x, channel 1 = 2x + 1. */
  async function statsLayer(layer: string): Promise<ParamStore> {
    await activateBackend('wasm');
    const store = new ParamStore();
    initConv(store, { name: layer, cin: 1, cout: 2, bn: true, init: 'kaiming-fan-out' }, new Rng(1));
    const k = new Float32Array(18);
    k[(4 * 1 + 0) * 2 + 0] = 1; // [kh=1, kw=1, ci=0, co=0]
    k[(4 * 1 + 0) * 2 + 1] = 2; // [kh=1, kw=1, ci=0, co=1]
    store.get(`${layer}.weight`).assign(tf.tensor4d(k, [3, 3, 1, 2]));
    store.get(`${layer}.bias`).assign(tf.tensor1d([0, 1]));
    return store;
  }
  const run = (store: ParamStore, layer: string, xs: number[], onStats?: (s: BatchStats) => void) =>
    tf.tidy(() =>
      convBnReluTrain(
        tf.tensor4d(xs, [2, 1, 3, 1]), // N = 2, H = 1, W = 3: the statistics pool over N, H and W
        store.get(`${layer}.weight`) as tf.Tensor4D,
        store.get(`${layer}.bias`) as tf.Tensor1D,
        store.get(`${layer}.bn.gamma`) as tf.Tensor1D,
        store.get(`${layer}.bn.beta`) as tf.Tensor1D,
        'im2col',
        onStats,
      ),
    );

  test('onStats reports the batch mean and the BIASED variance, with the element count', async () => {
    const store = await statsLayer('stats_a');
    let got: { mean: number[]; variance: number[]; count: number } | undefined;
    let kept: tf.Tensor[] = [];
    const y = run(store, 'stats_a', [1, 2, 3, 4, 5, 6], (s) => {
      kept = [s.mean, s.variance];
      got = { mean: Array.from(s.mean.dataSync()), variance: Array.from(s.variance.dataSync()), count: s.count };
    });
    expect(got).toBeDefined();
    // x = 1..6: mean 3.5, Σ(x − 3.5)² = 17.5, biased variance 17.5/6; channel 1 = 2x + 1: mean 8, variance 4·17.5/6.
    expect(got!.count).toBe(6);
    expectClose(got!.mean, [3.5, 8], 1e-6, 1e-12, 'mean');
    expectClose(got!.variance, [17.5 / 6, 70 / 6], 1e-6, 1e-12, 'biased variance');
    // The output is the batch-normalised ReLU: channel 0 = relu((x − 3.5)/√(17.5/6 + 1e-5)).
    const expected0 = [1, 2, 3, 4, 5, 6].map((v) => Math.max(0, (v - 3.5) / Math.sqrt(17.5 / 6 + BN_EPSILON)));
    const yv = await values(y);
    expectClose(yv.filter((_, i) => i % 2 === 0), expected0, 1e-5, 1e-12, 'normalised output');
    tf.dispose([y, ...kept]);
    store.dispose();
  });

  test('statsCollector + applyPendingStats: momentum 0.1 with the UNBIASED variance; nothing moves before apply', async () => {
    expect(BN_MOMENTUM).toBe(0.1);
    const store = await statsLayer('stats_b');
    const ctx: BnContext = { training: true, pendingStats: [] };
    const before = tf.memory().numTensors;
    tf.dispose(run(store, 'stats_b', [1, 2, 3, 4, 5, 6], statsCollector(store, 'stats_b.bn', ctx)));
    expect(ctx.pendingStats).toHaveLength(2);
    expect(await values(store.get('stats_b.bn.running_mean'))).toEqual([0, 0]);
    expect(await values(store.get('stats_b.bn.running_var'))).toEqual([1, 1]);
    applyPendingStats(ctx);
    expect(ctx.pendingStats).toHaveLength(0);
    // Unbiased variance = biased · 6/5: [3.5, 14]. From (mean 0, var 1):
    expectClose(await values(store.get('stats_b.bn.running_mean')), [0.35, 0.8], 1e-6, 1e-12, 'running mean after 1');
    expectClose(await values(store.get('stats_b.bn.running_var')), [0.9 + 0.35, 0.9 + 1.4], 1e-6, 1e-12, 'running var after 1');
    // A second batch, x = 0, 0, 0, 2, 2, 2: channel 0 mean 1, unbiased var 6/5; channel 1 mean 3, unbiased var 24/5.
    tf.dispose(run(store, 'stats_b', [0, 0, 0, 2, 2, 2], statsCollector(store, 'stats_b.bn', ctx)));
    applyPendingStats(ctx);
    expectClose(await values(store.get('stats_b.bn.running_mean')), [0.9 * 0.35 + 0.1, 0.9 * 0.8 + 0.3], 1e-6, 1e-12, 'running mean after 2');
    expectClose(await values(store.get('stats_b.bn.running_var')), [0.9 * 1.25 + 0.12, 0.9 * 2.3 + 0.48], 1e-6, 1e-12, 'running var after 2');
    // No tensor is left behind by the collector (the store's variables are reassigned in place).
    expect(tf.memory().numTensors).toBe(before);
    store.dispose();
  });

  test('statsCollector is a no-op without a pending list (evaluation)', async () => {
    const store = await statsLayer('stats_c');
    expect(statsCollector(store, 'stats_c.bn', { training: false })).toBeUndefined();
    store.dispose();
  });

  test('batchNormEval normalises with the running statistics, γ, β and eps 1e-5', async () => {
    const store = await statsLayer('stats_d');
    store.get('stats_d.bn.running_mean').assign(tf.tensor1d([1, -2]));
    store.get('stats_d.bn.running_var').assign(tf.tensor1d([4, 0.25]));
    store.get('stats_d.bn.gamma').assign(tf.tensor1d([2, -1]));
    store.get('stats_d.bn.beta').assign(tf.tensor1d([0.5, 3]));
    const xs = [3, 0, -1, 1, 5, -2]; // (1, 1, 3, 2): pixels (3, 0), (−1, 1), (5, −2)
    const y = tf.tidy(() => batchNormEval(tf.tensor4d(xs, [1, 1, 3, 2]), store, 'stats_d.bn'));
    const mean = [1, -2];
    const variance = [4, 0.25];
    const gamma = [2, -1];
    const beta = [0.5, 3];
    const expected = xs.map((v, i) => ((v - mean[i % 2]) / Math.sqrt(variance[i % 2] + 1e-5)) * gamma[i % 2] + beta[i % 2]);
    expectClose(await values(y), expected, 1e-6, 1e-12, 'eval BN');
    y.dispose();
    store.dispose();
  });
});

describe('nearest ×2 upsampling', () => {
  test.each(['cpu', 'wasm'] as const)('its gradient is the 2×2 block sum on %s', async (backend) => {
    await activateBackend(backend);
        const x = tf.tensor4d(Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i / 7), [2, 3, 2, 2]);
    const up = upsample2(x);
    expect(up.shape).toEqual([2, 6, 4, 2]);
    expect(up.arraySync()[1][5][3]).toEqual(x.arraySync()[1][2][1]);
    const weights = tf.tensor4d(Array.from({ length: 2 * 6 * 4 * 2 }, (_, i) => ((i * 37) % 11) - 5), [2, 6, 4, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(upsample2(t as tf.Tensor4D), weights)))(x);
    const w = weights.arraySync();
    const expected = x.arraySync().map((img, n) => img.map((row, i) => row.map((px, j) => px.map((_, c) => w[n][2 * i][2 * j][c] + w[n][2 * i + 1][2 * j][c] + w[n][2 * i][2 * j + 1][c] + w[n][2 * i + 1][2 * j + 1][c]))));
    expect(g.arraySync()).toEqual(expected);
  });
});
