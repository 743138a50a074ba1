/**
 * COCO instance segmentation of binary masks: one annotation per image holding its whole mask as an
 * uncompressed RLE (`{ counts, size: [height, width] }`, column-major runs starting with background,
 * `iscrowd: 1`, as pycocotools' frPyObjects reads it), with its area and bounding box.
 */
import type { Mask } from '../../../common/mask';

export interface CocoMaskImage {
  fileName: string;
  mask: Mask;
}

/** Column-major run lengths, the first run counting background (0 when the first pixel is inside). */
export function cocoRle(mask: Mask): { counts: number[]; size: [number, number] } {
  const { width, height, inside } = mask;
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = inside[y * width + x] ? 1 : 0;
      if (v === value) run++;
      else {
        counts.push(run);
        value = v;
        run = 1;
      }
    }
  }
  counts.push(run);
  return { counts, size: [height, width] };
}

/** [x, y, width, height] of the inside pixels (pixel edges), or null for an empty mask. */
export function maskBox(mask: Mask): [number, number, number, number] | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (!mask.inside[y * mask.width + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

export function cocoSegmentation(images: readonly CocoMaskImage[], label: string): object {
  const annotations = [];
  for (const [i, { mask }] of images.entries()) {
    const box = maskBox(mask);
    if (!box) continue; // an empty mask has no instance to annotate
    let area = 0;
    for (const v of mask.inside) if (v) area++;
    annotations.push({ id: annotations.length + 1, image_id: i + 1, category_id: 1, segmentation: cocoRle(mask), area, bbox: box, iscrowd: 1 });
  }
  return {
    info: { description: `LD Studio masks: ${label}`, date_created: new Date().toISOString() },
    images: images.map((im, i) => ({ id: i + 1, file_name: im.fileName, width: im.mask.width, height: im.mask.height })),
    annotations,
    categories: [{ id: 1, name: label, supercategory: label }],
  };
}
