/**
 * Small numeric helpers shared by the model, loss and optimiser tests (plain JS, float64).
 */
import { expect } from 'vitest';
import { Rng } from '../../../main/engine/rng';
import { tf } from '../../../main/engine/tf';

/** n standard-normal draws (deterministic from `seed`), as float32. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

/** n uniform draws in [lo, hi). */
export function randu(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi);
  return out;
}

/** A tensor's values as a plain float64 array. */
export async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

export const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** max|a − e| / max(max|e|, floor): a relative error that is not fooled by one tiny element. */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-12): number {
  expect(actual.length).toBe(expected.length);
  let err = 0;
  for (let i = 0; i < expected.length; i++) err = Math.max(err, Math.abs(actual[i] - expected[i]));
  return err / Math.max(maxAbs(expected), floor);
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, floor = 1e-12, what = ''): void {
  for (let i = 0; i < expected.length; i++) {
    if (!Number.isFinite(actual[i])) throw new Error(`${what}: element ${i} is ${actual[i]}`);
  }
  const e = relErr(actual, expected, floor);
  expect(e, `${what}: relative error ${e}`).toBeLessThanOrEqual(tol);
}

export const normalize = (v: number[]): number[] => {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / (n + 1e-10));
};

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Central finite-difference gradient of a float64 function. */
export function finiteDiff(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const xp = x.slice();
    const xm = x.slice();
    xp[i] += h;
    xm[i] -= h;
    return (f(xp) - f(xm)) / (2 * h);
  });
}
