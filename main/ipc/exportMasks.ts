/**
 * `export:masks`: the project's masks as files any tool reads, whatever the images' format (DICOM
 * sources also have DICOM-SEG, export.ts):
 *   png   one `<image stem>_mask.png` per image (8-bit grey, 0 outside, 255 inside, the image's size),
 *         as `ld-studio segment` writes them
 *   coco  `masks.coco.json`: COCO instance segmentation, one RLE annotation per image
 * The images: `imageIds`, else every image with a mask. A mask file that cannot be read is listed in
 * `skipped` and the others are written; nothing replaces an existing file unless `overwrite`.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ImportFailure, RequestOf, ResponseOf } from '../../common/api';
import { PreconditionError } from '../../common/errors';
import type { Mask } from '../../common/mask';
import { writeFileAtomic } from '../io/atomicWrite';
import { cocoSegmentation } from '../io/exporters/cocoSegmentation';
import { refuseToReplace } from '../io/noClobber';
import { writeMaskFiles } from '../io/raster/maskPng';
import { readMask } from '../project/masks';
import type { ProjectStore } from '../project/projectStore';

const stemOf = (name: string) => name.replace(/\.(dcm|dicom|dic|ima|png|jpe?g|tiff?)$/i, '').replace(/[\\/:*?"<>|]/g, '_') || 'image';

export async function exportMasks(store: ProjectStore, request: RequestOf<'export:masks'>): Promise<ResponseOf<'export:masks'>> {
  const masks = new Map(store.data.masks.map((m) => [m.imageId, m]));
  const images = request.imageIds ? [...new Set(request.imageIds)].map((id) => store.image(id)) : store.data.images.filter((im) => masks.has(im.id));
  if (images.length === 0) throw new PreconditionError('no image has a mask yet: segment the images (Segment) or import a DICOM-SEG first');
  const without = images.filter((im) => !masks.has(im.id));
  if (without.length) throw new PreconditionError(`${without.slice(0, 5).map((im) => im.name).join(', ')}${without.length > 5 ? ' …' : ''}: no mask yet`);

  // unique stems, case-insensitively (two folders may hold 001.png)
  const used = new Set<string>();
  const stems = images.map((im) => {
    let stem = stemOf(im.name);
    for (let i = 2; used.has(stem.toLowerCase()); i++) stem = `${stemOf(im.name)}-${i}`;
    used.add(stem.toLowerCase());
    return stem;
  });
  const out = resolve(request.dir);
  const files = request.format === 'png' ? stems.map((s) => join(out, `${s}_mask.png`)) : [join(out, 'masks.coco.json')];
  refuseToReplace(files, request.overwrite);

  const skipped: ImportFailure[] = [];
  const read: Array<{ index: number; mask: Mask }> = [];
  for (const [index, im] of images.entries()) {
    try {
      read.push({ index, mask: await readMask(store.dir, masks.get(im.id)!, im.width, im.height) });
    } catch (err) {
      skipped.push({ path: store.imagePath(im), reason: (err as Error).message });
    }
  }
  if (read.length === 0) throw new PreconditionError(`no mask could be read: ${skipped[0].reason}`);
  mkdirSync(out, { recursive: true });
  if (request.format === 'coco') {
    const doc = cocoSegmentation(read.map(({ index, mask }) => ({ fileName: images[index].name, mask: { width: mask.width, height: mask.height, inside: mask.inside } })), request.label ?? 'structure');
    writeFileAtomic(files[0], `${JSON.stringify(doc)}\n`);
    return { files, skipped };
  }
  const written: string[] = [];
  for (const { index, mask } of read) {
    await writeMaskFiles({ width: mask.width, height: mask.height, inside: mask.inside }, { mask: files[index] });
    written.push(files[index]);
  }
  return { files: written, skipped };
}
