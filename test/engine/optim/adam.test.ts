/**
 * Adam (main/engine/optim/adam.ts) against PyTorch's update rule written out in float64 JS
 * (ld-method.md §3.6, §9.16), and an exact save/restore of its state.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../../main/engine/backends';
import { Adam, PAPER_ADAM, type AdamConfig } from '../../../main/engine/optim/adam';
import { tf } from '../../../main/engine/tf';
import { randn, relErr, values } from '../model/helpers';

beforeAll(async () => {
  await activateBackend('wasm');
});

/** torch.optim.Adam (amsgrad off, no weight decay), one parameter element, float64. */
function torchAdam(p0: number, grads: number[], c: AdamConfig, lrs?: number[]): number[] {
  let p = p0;
  let m = 0;
  let v = 0;
  return grads.map((g, i) => {
    const t = i + 1;
    m = c.beta1 * m + (1 - c.beta1) * g;
    v = c.beta2 * v + (1 - c.beta2) * g * g;
    const bc1 = 1 - c.beta1 ** t;
    const bc2 = 1 - c.beta2 ** t;
    const denom = Math.sqrt(v) / Math.sqrt(bc2) + c.eps;
    p -= ((lrs?.[i] ?? c.lr) / bc1) * (m / denom);
    return p;
  });
}

/** tf.train.adam's rule: p −= lr·√bc2/bc1 · m/(√v + 1e-7), eps on the uncorrected √v. The port must NOT match it. */
function tfjsAdam(p0: number, grads: number[], lr: number): number[] {
  let p = p0;
  let m = 0;
  let v = 0;
  return grads.map((g, i) => {
    const t = i + 1;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    p -= ((lr * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t)) * (m / (Math.sqrt(v) + 1e-7));
    return p;
  });
}

async function runScalar(p0: number, grads: number[], lrs?: number[]): Promise<number[]> {
  const p = tf.variable(tf.scalar(p0));
  const adam = new Adam();
  const params = new Map([['p', p]]);
  const out: number[] = [];
  for (let i = 0; i < grads.length; i++) {
    const g = tf.scalar(grads[i]);
    adam.apply(params, { p: g }, lrs?.[i]);
    g.dispose();
    out.push((await values(p))[0]);
  }
  expect(adam.step).toBe(grads.length);
  adam.dispose();
  p.dispose();
  return out;
}

describe('Adam update rule', () => {
  test('paper defaults: lr 1e-3, β (0.9, 0.999), eps 1e-8', () => {
    expect(PAPER_ADAM).toEqual({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
  });

  test('one scalar, 3 steps, ordinary gradients: equals PyTorch Adam', async () => {
    const grads = [0.1, -0.2, 0.3];
    const ours = await runScalar(0, grads);
    const torch = torchAdam(0, grads, PAPER_ADAM);
    // First step of Adam moves by exactly lr·sign(g) (up to eps).
    expect(torch[0]).toBeCloseTo(-1e-3, 9);
    expect(relErr(ours, torch)).toBeLessThan(1e-5);
  });

  test('tiny gradients, where the placement and size of eps matter: equals PyTorch, not tf.train.adam', async () => {
    const grads = [1e-6, 2e-6, -1e-6];
    const ours = await runScalar(0.5, grads);
    const torch = torchAdam(0.5, grads, PAPER_ADAM);
    const deltas = (a: number[]) => a.map((v) => v - 0.5);
    // Compare the displacements (≈1e-3), not the parameter (float32 spacing at 0.5 is 6e-8).
    expect(relErr(deltas(ours), deltas(torch))).toBeLessThan(2e-4);
    // Control: the tfjs rule is ≥ 5 % away here, so the test tells them apart.
    expect(relErr(deltas(tfjsAdam(0.5, grads, 1e-3)), deltas(torch))).toBeGreaterThan(0.05);
  });

  test('a per-call learning rate overrides the configured one', async () => {
    const grads = [0.5, 0.25, -0.75];
    const lrs = [1e-3, 5e-4, 2.5e-4];
    expect(relErr(await runScalar(0, grads, lrs), torchAdam(0, grads, PAPER_ADAM, lrs))).toBeLessThan(1e-5);
  });

  test('element-wise on tensors; a parameter without a gradient is left alone and gets no state', async () => {
    const a = tf.variable(tf.tensor1d([0, 1, -1]));
    const b = tf.variable(tf.tensor1d([2, 2]));
    const adam = new Adam();
    const params = new Map([
      ['a', a],
      ['b', b],
    ]);
    const g = [
      [0.1, -0.3, 2],
      [-0.05, 0.2, 1],
    ];
    for (const row of g) {
      const t = tf.tensor1d(row);
      adam.apply(params, { a: t });
      t.dispose();
    }
    const got = await values(a);
    const expected = [0, 1, 2].map((j) => torchAdam([0, 1, -1][j], g.map((r) => r[j]), PAPER_ADAM)[1]);
    expect(relErr(got.map((v, j) => v - [0, 1, -1][j]), expected.map((v, j) => v - [0, 1, -1][j]))).toBeLessThan(1e-4);
    expect(await values(b)).toEqual([2, 2]);
    expect([...(await adam.toArrays()).keys()].sort()).toEqual(['adam.m.a', 'adam.v.a']);
    adam.dispose();
    tf.dispose([a, b]);
  });

  test('apply leaks no tensors after the first step', async () => {
    const p = tf.variable(tf.tensor2d(randn(6, 1), [2, 3]));
    const adam = new Adam();
    const params = new Map([['p', p]]);
    const g = tf.tensor2d(randn(6, 2), [2, 3]);
    adam.apply(params, { p: g });
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) adam.apply(params, { p: g });
    expect(tf.memory().numTensors).toBe(after1);
    adam.dispose();
    tf.dispose([p, g]);
  });
});

describe('Adam state save/restore', () => {
  test('toArrays + load restores the state exactly: the next updates are bitwise those of an uninterrupted optimiser (wasm)', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const shapes: Record<string, number[]> = { 'enc.weight': [3, 3, 1, 2], 'enc.bias': [2], scalar: [] };
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const grads = (step: number) =>
      Object.fromEntries(Object.entries(shapes).map(([name, s], i) => [name, tf.tensor(randn(size(s), 100 * step + i, 0.1 * (step + 1)), s)]));
    const makeParams = (init: Map<string, Float32Array>) =>
      new Map(Object.entries(shapes).map(([name, s]) => [name, tf.variable(tf.tensor(init.get(name)!, s))]));
    const init = new Map(Object.entries(shapes).map(([name, s], i) => [name, randn(size(s), 50 + i)]));

    // Uninterrupted: 5 steps.
    const paramsA = makeParams(init);
    const adamA = new Adam();
    const stepWith = (adam: Adam, params: Map<string, tf.Variable>, step: number) => {
      const g = grads(step);
      adam.apply(params, g, 1e-3 / (1 + step));
      tf.dispose(Object.values(g));
    };
    for (let step = 0; step < 3; step++) stepWith(adamA, paramsA, step);

    // Snapshot after 3 steps (parameters and optimiser state, through plain arrays as a checkpoint would).
    const savedParams = new Map<string, Float32Array>();
    for (const [name, v] of paramsA) savedParams.set(name, Float32Array.from(await v.data()));
    const savedState = await adamA.toArrays();
    const copied = new Map([...savedState].map(([k, a]) => [k, { shape: [...a.shape], data: Float32Array.from(a.data) }]));
    expect([...copied.keys()].sort()).toEqual(['adam.m.enc.bias', 'adam.m.enc.weight', 'adam.m.scalar', 'adam.v.enc.bias', 'adam.v.enc.weight', 'adam.v.scalar']);
    // Unrelated checkpoint entries are ignored by load.
    copied.set('enc.weight', { shape: [3, 3, 1, 2], data: new Float32Array(18) });
    const savedStep = adamA.step;

    for (let step = 3; step < 5; step++) stepWith(adamA, paramsA, step);

    // Resumed: fresh parameters and optimiser from the snapshot.
    const paramsB = makeParams(savedParams);
    const adamB = new Adam();
    adamB.load(copied, savedStep);
    expect(adamB.step).toBe(3);
    for (let step = 3; step < 5; step++) stepWith(adamB, paramsB, step);

    const bytes = (a: ArrayLike<number>) => Buffer.from(Float32Array.from(a).buffer);
    for (const [name, v] of paramsA) {
      const b = await paramsB.get(name)!.data();
      expect(bytes(b).equals(bytes(await v.data())), `parameter ${name}`).toBe(true);
    }
    const stateA = await adamA.toArrays();
    const stateB = await adamB.toArrays();
    expect([...stateB.keys()].sort()).toEqual([...stateA.keys()].sort());
    for (const [key, a] of stateA) expect(bytes(stateB.get(key)!.data).equals(bytes(a.data)), key).toBe(true);

    // Control: a resume that forgets the step count (bias correction restarts) does not match.
    const paramsC = makeParams(savedParams);
    const adamC = new Adam();
    adamC.load(copied, 0);
    stepWith(adamC, paramsC, 3);
    const paramsD = makeParams(savedParams);
    const adamD = new Adam();
    adamD.load(copied, savedStep);
    stepWith(adamD, paramsD, 3);
    expect(bytes(await paramsC.get('enc.weight')!.data()).equals(bytes(await paramsD.get('enc.weight')!.data()))).toBe(false);

    for (const adam of [adamA, adamB, adamC, adamD]) adam.dispose();
    for (const ps of [paramsA, paramsB, paramsC, paramsD]) tf.dispose([...ps.values()]);
  });
});
