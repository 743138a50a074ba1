/** Non-trivial test masks at a source image's size: an ellipse, a star polygon, a soft probability blob. */
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

/** 255 inside the ellipse (centre and radii as fractions of the image size), 0 outside. */
export function ellipseMask(width: number, height: number, cx = 0.45, cy = 0.5, rx = 0.25, ry = 0.3): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = (x + 0.5 - cx * width) / (rx * width);
      const dy = (y + 0.5 - cy * height) / (ry * height);
      if (dx * dx + dy * dy <= 1) out[y * width + x] = 255;
    }
  }
  return out;
}

/** 255 inside a five-pointed star (even-odd rule), centred at (cx, cy) with outer radius r (fractions). */
export function starMask(width: number, height: number, cx = 0.6, cy = 0.4, r = 0.2): Uint8Array {
  const points: Array<[number, number]> = [];
  const size = Math.min(width, height);
  for (let k = 0; k < 10; k++) {
    const radius = (k % 2 === 0 ? r : r * 0.4) * size;
    const angle = -Math.PI / 2 + (k * Math.PI) / 5;
    points.push([cx * width + radius * Math.cos(angle), cy * height + radius * Math.sin(angle)]);
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const py = y + 0.5;
    // crossings of this row with the polygon edges
    const xs: number[] = [];
    for (let i = 0; i < points.length; i++) {
      const [x1, y1] = points[i];
      const [x2, y2] = points[(i + 1) % points.length];
      if ((y1 <= py && y2 > py) || (y2 <= py && y1 > py)) xs.push(x1 + ((py - y1) / (y2 - y1)) * (x2 - x1));
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      for (let x = Math.max(0, Math.ceil(xs[i] - 0.5)); x < Math.min(width, Math.ceil(xs[i + 1] - 0.5)); x++) out[y * width + x] = 255;
    }
  }
  return out;
}

/** A probability map 0…255: highest at the centre of an ellipse, falling to 0 at its edge, plus a ramp strip. */
export function softMask(width: number, height: number, cx = 0.5, cy = 0.45, rx = 0.3, ry = 0.25): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = (x + 0.5 - cx * width) / (rx * width);
      const dy = (y + 0.5 - cy * height) / (ry * height);
      const r = dx * dx + dy * dy;
      out[y * width + x] = r < 1 ? Math.round(255 * (1 - r)) : 0;
    }
  }
  // every grey value 0…255 appears: a strip along the top rows
  for (let x = 0; x < Math.min(width, 256); x++) out[x] = x;
  return out;
}

/** Union of masks (max). */
export const union = (...masks: Uint8Array[]) => masks.reduce((a, b) => a.map((v, i) => Math.max(v, b[i])));

export function writeGreyPng(path: string, width: number, height: number, data: Uint8Array): void {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(data);
  writeFileSync(path, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}

/** What a SEG stores for a mask: 0/1 for BINARY (non-zero inside), the grey value for FRACTIONAL. */
export const storedValues = (mask: Uint8Array, type: 'BINARY' | 'FRACTIONAL') => (type === 'BINARY' ? mask.map((v) => (v ? 1 : 0)) : mask);

export const countNonZero = (a: ArrayLike<number>) => {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i]) n++;
  return n;
};
