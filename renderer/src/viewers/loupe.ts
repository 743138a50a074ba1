/**
 * The magnifier shown while a landmark is dragged: a round inset near the cursor with the image
 * around the cursor scaled up, copied from the viewport's canvas (Cornerstone draws each frame into
 * a 2D canvas, so a drawImage of a region is all it takes). Its geometry is pure and tested.
 */

export interface LoupeGeometry {
  /** Source rectangle in the canvas' own (device) pixels. */
  sx: number;
  sy: number;
  sw: number;
  sh: number;
  /** The inset's top-left corner in CSS pixels relative to the viewer element. */
  left: number;
  top: number;
}

export interface LoupeInput {
  /** Cursor in CSS pixels relative to the element. */
  cursor: { x: number; y: number };
  /** The element's CSS size. */
  width: number;
  height: number;
  /** Canvas device pixels per CSS pixel. */
  ratio: number;
  /** Inset diameter in CSS pixels. */
  size: number;
  zoom: number;
  /** Gap between the cursor and the inset's nearest edge. */
  gap?: number;
}

/**
 * The source region is centred on the cursor, size / zoom CSS pixels across. The inset sits above
 * and to the right of the cursor, out of the way of the hand, flipping to the other side where it
 * would leave the element, and never covers the cursor itself.
 */
export function loupeGeometry({ cursor, width, height, ratio, size, zoom, gap = 24 }: LoupeInput): LoupeGeometry {
  const span = size / zoom;
  const sx = (cursor.x - span / 2) * ratio;
  const sy = (cursor.y - span / 2) * ratio;
  let left = cursor.x + gap;
  if (left + size > width) left = cursor.x - gap - size;
  let top = cursor.y - gap - size;
  if (top < 0) top = cursor.y + gap;
  // a viewer smaller than the inset: keep it inside as far as possible
  left = Math.max(0, Math.min(left, Math.max(0, width - size)));
  top = Math.max(0, Math.min(top, Math.max(0, height - size)));
  return { sx, sy, sw: span * ratio, sh: span * ratio, left, top };
}

/** Draws the magnified region and a crosshair at its centre into the loupe's own canvas. */
export function drawLoupe(target: HTMLCanvasElement, source: CanvasImageSource, g: LoupeGeometry): void {
  const ctx = target.getContext('2d');
  if (!ctx) return;
  const { width: w, height: h } = target;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, w, h);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(source, g.sx, g.sy, g.sw, g.sh, 0, 0, w, h);
  ctx.strokeStyle = 'rgba(255, 255, 0, 0.9)';
  ctx.lineWidth = Math.max(1, w / 120);
  ctx.beginPath();
  const c = w / 2;
  const gap = w / 24;
  const arm = w / 6;
  ctx.moveTo(c - arm, c);
  ctx.lineTo(c - gap, c);
  ctx.moveTo(c + gap, c);
  ctx.lineTo(c + arm, c);
  ctx.moveTo(c, c - arm);
  ctx.lineTo(c, c - gap);
  ctx.moveTo(c, c + gap);
  ctx.lineTo(c, c + arm);
  ctx.stroke();
}
