/**
 * Vertebral-body masks from corner landmarks: the AASCE / SpineWeb-16 spine set marks each of 17
 * vertebrae by its 4 corners in the order top-left, top-right, bottom-left, bottom-right
 * (resources/landmarks/spine-68.json); the quadrilateral TL → TR → BR → BL, filled, is the vertebral
 * body. Used as the shape prior and as the reference segmentation of the segmentation benchmark.
 *
 * Coordinates are image pixels with the centre of the top-left pixel at (0, 0) (the landmark
 * convention of main/io/landmarks); a pixel is inside when its centre is (even-odd rule, so a quad whose
 * noisy corners make it self-intersecting still fills sensibly).
 */

export interface Point {
  x: number;
  y: number;
}

export type Quad = [Point, Point, Point, Point];

/** Landmarks per vertebra in the spine-68 scheme. */
export const CORNERS_PER_VERTEBRA = 4;

/** The quadrilaterals (TL, TR, BR, BL) of consecutive groups of 4 corner landmarks (TL, TR, BL, BR). */
export function vertebraQuads(points: ReadonlyArray<Point | null | undefined>): Quad[] {
  if (points.length % CORNERS_PER_VERTEBRA !== 0) throw new Error(`expected a multiple of ${CORNERS_PER_VERTEBRA} corner landmarks, got ${points.length}`);
  const quads: Quad[] = [];
  for (let v = 0; v < points.length; v += CORNERS_PER_VERTEBRA) {
    const [tl, tr, bl, br] = points.slice(v, v + CORNERS_PER_VERTEBRA);
    if (!tl || !tr || !bl || !br) continue; // an unplaced corner: that vertebra is left out
    quads.push([tl, tr, br, bl]);
  }
  return quads;
}

/**
 * Fill polygons into a width × height 8-bit mask (`value` inside, 0 elsewhere): scanline even-odd fill
 * at pixel centres. Polygons are filled one by one (a pixel inside any of them is set).
 */
export function fillPolygons(polygons: ReadonlyArray<ReadonlyArray<Point>>, width: number, height: number, value = 255, out?: Uint8Array): Uint8Array {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new Error(`bad mask size ${width}×${height}`);
  const mask = out ?? new Uint8Array(width * height);
  if (mask.length < width * height) throw new Error('fillPolygons: output buffer too small');
  const xs: number[] = [];
  for (const poly of polygons) {
    if (poly.length < 3) continue;
    let minY = Infinity;
    let maxY = -Infinity;
    for (const p of poly) {
      minY = Math.min(minY, p.y);
      maxY = Math.max(maxY, p.y);
    }
    const y0 = Math.max(0, Math.ceil(minY));
    const y1 = Math.min(height - 1, Math.floor(maxY));
    for (let y = y0; y <= y1; y++) {
      xs.length = 0;
      for (let i = 0; i < poly.length; i++) {
        const a = poly[i];
        const b = poly[(i + 1) % poly.length];
        // half-open rule on y so a vertex on the scanline is counted once
        if ((a.y <= y && b.y > y) || (b.y <= y && a.y > y)) xs.push(a.x + ((y - a.y) / (b.y - a.y)) * (b.x - a.x));
      }
      xs.sort((p, q) => p - q);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const x0 = Math.max(0, Math.ceil(xs[k]));
        const x1 = Math.min(width - 1, Math.floor(xs[k + 1]));
        for (let x = x0; x <= x1; x++) mask[y * width + x] = value;
      }
    }
  }
  return mask;
}

/**
 * The vertebral-body mask of one image from its corner landmarks, rendered at `scale` × the image size
 * (rounded; default 1): 255 inside a vertebra, 0 elsewhere.
 */
export function vertebraMask(points: ReadonlyArray<Point | null | undefined>, width: number, height: number, scale = 1): { mask: Uint8Array; width: number; height: number } {
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const sx = w / width;
  const sy = h / height;
  // pixel centres map linearly: x' + 0.5 = (x + 0.5)·s
  const quads = vertebraQuads(points).map((q) => q.map((p) => ({ x: (p.x + 0.5) * sx - 0.5, y: (p.y + 0.5) * sy - 0.5 })));
  return { mask: fillPolygons(quads, w, h), width: w, height: h };
}

/** Dice = 2|P ∩ G| / (|P| + |G|) of two masks (non-zero = foreground); NaN when both are empty. */
export function dice(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (pred.length !== truth.length) throw new Error(`dice: masks of ${pred.length} and ${truth.length} pixels`);
  let inter = 0;
  let p = 0;
  let g = 0;
  for (let i = 0; i < pred.length; i++) {
    const a = pred[i] > 0;
    const b = truth[i] > 0;
    if (a) p++;
    if (b) g++;
    if (a && b) inter++;
  }
  return p + g === 0 ? NaN : (2 * inter) / (p + g);
}
