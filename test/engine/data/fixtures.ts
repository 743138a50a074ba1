import { Rng } from '../../../main/engine/rng';
import type { PreparedImage } from '../../../main/engine/data/prepare';

/** A smooth-plus-noise synthetic image in [0, 1] (deterministic from `seed`). */
export function synthImage(id: string, size: number, channels: 1 | 3, seed: number): PreparedImage {
  const rng = new Rng(seed);
  const data = new Float32Array(size * size * channels);
  const fx = rng.uniform(1, 4);
  const fy = rng.uniform(1, 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < channels; c++) {
        const v = 0.5 + 0.3 * Math.sin((fx * x) / size * 6.28 + c) * Math.cos((fy * y) / size * 6.28) + 0.1 * (rng.next() - 0.5);
        data[(y * size + x) * channels + c] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return { id, size, channels, data };
}

/** Row-major 2-D array → Float32Array (1 channel). */
export const grid = (rows: number[][]) => Float32Array.from(rows.flat());

/** Float32Array (1 channel) → rows. */
export function toRows(a: Float32Array, h: number, w: number): number[][] {
  return Array.from({ length: h }, (_, i) => Array.from(a.subarray(i * w, (i + 1) * w)));
}
