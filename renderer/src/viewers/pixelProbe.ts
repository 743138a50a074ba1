/**
 * What the viewer's status line says about the pixel under the cursor: its image coordinates and
 * value. World coordinates are pixel-centre image coordinates (imagePixels.ts), so pixel (c, r)
 * covers x ∈ [c − ½, c + ½). The viewer holds the values main sent (PixelsHeader); for DICOM these
 * are the rescaled (modality) values, and the header's `rescale` gives back the stored value.
 */
import type { PixelsHeader, XY } from '../../../common/api';

export interface PixelProbe {
  /** The cursor in image coordinates (pixel centres at integers). */
  x: number;
  y: number;
  /** The pixel it is over. */
  column: number;
  row: number;
  /** The value as stored in the file. */
  stored: number;
  /** The rescaled (modality) value, where the image has a non-identity Rescale Slope/Intercept. */
  rescaled?: number;
}

export type ValueArray = ArrayLike<number>;

/** The pixel under an image-coordinate point, or null off the image. */
export function probePixel(header: Pick<PixelsHeader, 'width' | 'height' | 'rescale'>, data: ValueArray, p: XY): PixelProbe | null {
  const column = Math.round(p.x);
  const row = Math.round(p.y);
  if (!(column >= 0 && row >= 0 && column < header.width && row < header.height)) return null;
  const value = data[row * header.width + column];
  const r = header.rescale;
  if (!r || (r.slope === 1 && r.intercept === 0) || !r.slope) return { x: p.x, y: p.y, column, row, stored: value };
  return { x: p.x, y: p.y, column, row, stored: Math.round(((value - r.intercept) / r.slope) * 1e6) / 1e6, rescaled: value };
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4).replace(/\.?0+$/, ''));

/** "x 120.4, y 88.0 · px (120, 88) · value 1032" (+ " · rescaled −24" for DICOM with a rescale). */
export function probeText(probe: PixelProbe): string {
  const parts = [`x ${probe.x.toFixed(1)}, y ${probe.y.toFixed(1)}`, `px (${probe.column}, ${probe.row})`, `value ${num(probe.stored)}`];
  if (probe.rescaled !== undefined) parts.push(`rescaled ${num(probe.rescaled)}`);
  return parts.join(' · ');
}
