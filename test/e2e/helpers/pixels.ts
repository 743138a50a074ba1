import { PNG } from 'pngjs';

/** Luminance spread of a PNG screenshot: ~0 for a blank (single-colour) canvas. */
export function luminanceStats(png: Buffer): { mean: number; sd: number; distinct: number } {
  const img = PNG.sync.read(png);
  const n = img.width * img.height;
  let sum = 0;
  let sum2 = 0;
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const y = 0.299 * img.data[4 * i] + 0.587 * img.data[4 * i + 1] + 0.114 * img.data[4 * i + 2];
    sum += y;
    sum2 += y * y;
    seen.add(Math.round(y));
  }
  const mean = sum / n;
  return { mean, sd: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), distinct: seen.size };
}
