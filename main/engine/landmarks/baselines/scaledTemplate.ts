/** The simplest baseline: the template's landmarks stretched to the target's size. */
import type { Point } from '../types';
import { mapPoint, type Size } from './greyImage';

export function scaledTemplate(templatePoints: ReadonlyArray<Point | null>, templateSize: Size, targetSize: Size): Array<Point | null> {
  return templatePoints.map((p) => (p ? mapPoint(p, templateSize, targetSize) : null));
}
