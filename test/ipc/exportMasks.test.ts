/**
 * `export:masks`: masks out for every source format — label PNGs at each image's size (read back
 * equal to what was saved) and a COCO segmentation file whose RLE decodes to the same pixels; an
 * existing file is refused unless `overwrite`; an image without a mask is named.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMaskRle, type ImageEntry } from '../../common/api';
import { readImage } from '../../main/io';
import { harness, type Harness } from './harness';

function grey(path: string, width: number, height: number): void {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.set([i % 200, i % 200, i % 200, 255], i * 4);
  writeFileSync(path, PNG.sync.write(png));
}

/** COCO's uncompressed RLE (column-major, background first) back to a row-major 0/1 array. */
function decodeCocoRle(rle: { counts: number[]; size: [number, number] }): Uint8Array {
  const [h, w] = rle.size;
  const out = new Uint8Array(w * h);
  let k = 0;
  rle.counts.forEach((n, i) => {
    for (let j = 0; j < n; j++, k++) if (i % 2) out[(k % h) * w + Math.floor(k / h)] = 1;
  });
  expect(k).toBe(w * h);
  return out;
}

describe('export:masks', () => {
  let h: Harness;
  let images: ImageEntry[];
  const drawn = new Map<string, Uint8Array>();
  beforeAll(async () => {
    h = harness();
    const files = ['a.png', 'b.png', 'c.png'].map((f) => join(h.root, f));
    grey(files[0], 40, 30);
    grey(files[1], 25, 50);
    grey(files[2], 10, 10);
    await h.invoke('project:create', { dir: join(h.root, 'project'), name: 'Masks' });
    images = (await h.invoke('images:import', { jobId: 'import', paths: files })).imported;
    for (const im of images.slice(0, 2)) {
      const mask = new Uint8Array(im.width * im.height);
      // a rectangle off the centre, so row/column order mistakes show
      for (let y = 3; y < 12; y++) for (let x = 5; x < 9; x++) mask[y * im.width + x] = 1;
      drawn.set(im.name, mask);
      await h.invoke('segment:saveMask', { imageId: im.id, mask: encodeMaskRle(mask, im.width, im.height) });
    }
  });
  afterAll(() => h.dispose());

  it('writes a label PNG per masked image, at its size, 255 inside', async () => {
    const dir = join(h.root, 'out-png');
    const res = await h.invoke('export:masks', { dir, format: 'png' });
    expect(res.files).toEqual([join(dir, 'a_mask.png'), join(dir, 'b_mask.png')]);
    expect(res.skipped).toEqual([]);
    for (const name of ['a.png', 'b.png']) {
      const record = await readImage(join(dir, name.replace('.png', '_mask.png')));
      const im = images.find((i) => i.name === name)!;
      expect([record.width, record.height]).toEqual([im.width, im.height]);
      const back = Uint8Array.from(record.pixels, (v) => (v > 0 ? 1 : 0));
      expect(back).toEqual(drawn.get(name));
      expect(Math.max(...record.pixels)).toBe(255);
    }
  });

  it('writes one COCO file whose RLE decodes to the saved masks, with area and box', async () => {
    const dir = join(h.root, 'out-coco');
    const res = await h.invoke('export:masks', { dir, format: 'coco', label: 'vertebra' });
    const doc = JSON.parse(readFileSync(res.files[0], 'utf8'));
    expect(doc.categories).toEqual([{ id: 1, name: 'vertebra', supercategory: 'vertebra' }]);
    expect(doc.images.map((i: { file_name: string; width: number; height: number }) => [i.file_name, i.width, i.height])).toEqual([['a.png', 40, 30], ['b.png', 25, 50]]);
    for (const [i, ann] of doc.annotations.entries()) {
      expect(ann).toMatchObject({ image_id: i + 1, category_id: 1, iscrowd: 1, area: 36, bbox: [5, 3, 4, 9] });
      expect(decodeCocoRle(ann.segmentation)).toEqual(drawn.get(doc.images[i].file_name));
    }
  });

  it('refuses to replace files without overwrite, and names an image without a mask', async () => {
    const dir = join(h.root, 'out-png');
    await expect(h.invoke('export:masks', { dir, format: 'png' })).rejects.toMatchObject({ code: 'conflict' });
    expect((await h.invoke('export:masks', { dir, format: 'png', overwrite: true })).files).toHaveLength(2);
    await expect(h.invoke('export:masks', { dir: join(h.root, 'x'), format: 'png', imageIds: [images[2].id] })).rejects.toThrow(/c\.png: no mask yet/);
    expect(existsSync(join(h.root, 'x'))).toBe(false);
  });
});
