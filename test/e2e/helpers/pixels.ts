import type { Fit } from './viewerGeometry';
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

/**
 * Pearson correlation between what the viewer shows (a screenshot of the canvas `fit.box`) and the
 * image's own grey values, over a 40×40 grid of image points: near 1 when the image is shown the right
 * way up and the right polarity, negative when its grey levels are inverted. `window`: the display window,
 * outside which the viewer clips (the image's values are clipped the same way).
 */
export function greyCorrelation(
  canvasPng: Buffer,
  fit: Fit,
  image: { width: number; height: number; channels: number; pixels: ArrayLike<number> },
  window?: { center: number; width: number },
): number {
  const [lo, hi] = window ? [window.center - window.width / 2, window.center + window.width / 2] : [-Infinity, Infinity];
  const shot = PNG.sync.read(canvasPng);
  const shown: number[] = [];
  const source: number[] = [];
  for (let gy = 0; gy < 40; gy++) {
    for (let gx = 0; gx < 40; gx++) {
      const x = Math.round(((gx + 0.5) / 40) * image.width - 0.5);
      const y = Math.round(((gy + 0.5) / 40) * image.height - 0.5);
      const s = fit.toScreen({ x, y });
      const px = Math.floor(s.x - fit.box.x);
      const py = Math.floor(s.y - fit.box.y);
      if (px < 0 || py < 0 || px >= shot.width || py >= shot.height) continue;
      const k = 4 * (py * shot.width + px);
      shown.push(0.299 * shot.data[k] + 0.587 * shot.data[k + 1] + 0.114 * shot.data[k + 2]);
      source.push(Math.min(hi, Math.max(lo, image.pixels[(y * image.width + x) * image.channels])));
    }
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const [ma, mb] = [mean(shown), mean(source)];
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < shown.length; i++) {
    const [a, b] = [shown[i] - ma, source[i] - mb];
    sab += a * b;
    saa += a * a;
    sbb += b * b;
  }
  return sab / Math.sqrt(saa * sbb);
}
