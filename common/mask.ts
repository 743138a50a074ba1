/**
 * A segmentation mask in memory: the one form it has from the segmentation loop (or a correction, or
 * an imported SEG) to the file writer (main/io/raster/maskPng.ts), which alone turns it into file
 * bytes and back. Runtime-neutral, so every layer may hold one.
 */
export interface Mask {
  width: number;
  height: number;
  /** width·height values, row-major: 1 inside, 0 outside. */
  inside: Uint8Array;
  /** The probability of inside in [0, 1] per pixel, when the mask has one (predicted, or a FRACTIONAL SEG). */
  probability?: Float32Array;
}

/** Why `mask` is not a W×H mask of its own size (undefined when it is). */
export function maskProblem(mask: Mask): string | undefined {
  const n = mask.width * mask.height;
  if (mask.inside.length !== n) return `a ${mask.width}×${mask.height} mask needs ${n} values, got ${mask.inside.length}`;
  if (mask.probability && mask.probability.length !== n) return `a ${mask.width}×${mask.height} probability map needs ${n} values, got ${mask.probability.length}`;
  return undefined;
}

/** Probabilities over `threshold` → inside (the rule of every predicted mask). */
export function maskFromProbability(width: number, height: number, probability: Float32Array, threshold: number): Required<Mask> {
  return { width, height, inside: insideOf(probability, threshold), probability };
}

export function insideOf(probability: Float32Array, threshold: number): Uint8Array {
  const inside = new Uint8Array(probability.length);
  for (let i = 0; i < probability.length; i++) inside[i] = probability[i] > threshold ? 1 : 0;
  return inside;
}

/** Fraction of the pixels inside. */
export function foregroundOf(mask: Mask): number {
  const n = mask.inside.length;
  if (n === 0) return 0;
  let on = 0;
  for (let i = 0; i < n; i++) if (mask.inside[i]) on++;
  return on / n;
}
