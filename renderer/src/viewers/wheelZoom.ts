/** The wheel zoom's camera arithmetic (pure; createViewer applies it to the stack viewport's camera). */

/**
 * Zooming by `factor` (> 1 zooms in) about a world point: the point under the cursor stays under
 * it. `parallelScale` is half the visible height in world units; the focal point moves towards the
 * cursor by the same proportion as the view shrinks. Limits keep a few pixels in view at most zoom
 * and the image from vanishing at the least.
 */
export function zoomAbout(
  camera: { focalPoint: readonly [number, number]; parallelScale: number },
  about: readonly [number, number],
  factor: number,
  limits: { min: number; max: number },
): { focalPoint: [number, number]; parallelScale: number } {
  const parallelScale = Math.min(limits.max, Math.max(limits.min, camera.parallelScale / factor));
  const f = camera.parallelScale / parallelScale; // the factor the limits allow
  const [fx, fy] = camera.focalPoint;
  return { focalPoint: [about[0] + (fx - about[0]) / f, about[1] + (fy - about[1]) / f], parallelScale };
}

/** A wheel event's zoom factor: one notch (100 px of deltaY) up zooms in by about 1.2×. */
export function wheelFactor(deltaY: number, deltaMode = 0): number {
  const px = deltaMode === 1 ? deltaY * 33 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-Math.max(-300, Math.min(300, px)) * 0.0018);
}
