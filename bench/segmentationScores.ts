/**
 * What the segmentation benchmark reports per method: Dice and HD95 (main/engine/shapeGuided/
 * surfaceDistance.ts) per test image at the original size, summarised as mean ± SD; the row type and
 * its table.
 */
import { dice } from '../main/engine/shapeGuided/quadMasks';
import { hd95 } from '../main/engine/shapeGuided/surfaceDistance';

export interface Summary {
  mean: number;
  sd: number;
  /** Images with a finite value (the mean and SD are over these). */
  n: number;
  /** Images left out: Dice NaN (both masks empty); HD95 NaN or Infinity (one or both empty). */
  empty: number;
}

export interface MethodRow {
  method: string;
  dice: Summary;
  /** HD95 in original pixels, and as % of each image's height. */
  hd95?: { px: Summary; pctHeight: Summary };
  steps: number | null;
  /** Network input: a side (n²) or 'HxW'. */
  size: number | string | null;
  /** Training seconds (from the runs' own timing) + inference seconds on the test set. */
  trainSeconds: number | null;
  inferSeconds: number;
  detail?: string;
}

export const meanSd = (xs: number[]): Summary => {
  const v = xs.filter(Number.isFinite);
  const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
  return { mean: v.length ? mean : NaN, sd: v.length > 1 ? sd : v.length ? 0 : NaN, n: v.length, empty: xs.length - v.length };
};

/** Per-image Dice and HD95 of one method, collected image by image. */
export class Scores {
  readonly dice: number[] = [];
  readonly hd95Px: number[] = [];
  readonly hd95Pct: number[] = [];

  /** One image: the predicted and true masks (non-zero = inside) at its width × height. */
  add(pred: ArrayLike<number>, truth: ArrayLike<number>, width: number, height: number): { dice: number; hd95: number } {
    const d = dice(pred, truth);
    const h = hd95(pred, truth, width, height);
    this.dice.push(d);
    this.hd95Px.push(h);
    this.hd95Pct.push((100 * h) / height);
    return { dice: d, hd95: h };
  }

  summary(): Pick<MethodRow, 'dice' | 'hd95'> {
    return { dice: meanSd(this.dice), hd95: { px: meanSd(this.hd95Px), pctHeight: meanSd(this.hd95Pct) } };
  }
}

export function formatSegmentationTable(rows: MethodRow[]): string[][] {
  const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '—');
  const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');
  const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '—');
  const left = (s: { empty: number }) => (s.empty ? ` (+${s.empty} empty)` : '');
  return [
    ['method', 'Dice mean ± SD', 'HD95 px mean ± SD', 'HD95 % of height', 'images', 'steps', 'size', 'train s', 'infer s'],
    ...rows.map((r) => [
      r.method, `${f3(r.dice.mean)} ± ${f3(r.dice.sd)}`,
      r.hd95 ? `${f1(r.hd95.px.mean)} ± ${f1(r.hd95.px.sd)}${left(r.hd95.px)}` : '—',
      r.hd95 ? `${f2(r.hd95.pctHeight.mean)} ± ${f2(r.hd95.pctHeight.sd)}` : '—',
      `${r.dice.n}${left(r.dice)}`, r.steps == null ? '—' : String(r.steps),
      r.size == null ? '—' : typeof r.size === 'number' ? `${r.size}²` : r.size, r.trainSeconds == null ? '—' : r.trainSeconds.toFixed(0), r.inferSeconds.toFixed(1),
    ]),
  ];
}
