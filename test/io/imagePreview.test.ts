/** Viewer pixels, thumbnails, the PNG writer and the cluster-map pieces on synthetic records. */
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { readImage } from '../../main/io';
import type { ImageRecord } from '../../main/io/imageRecord';
import { argmaxPlanes, kMeansLabels, paletteRgba, upsampleLabels } from '../../main/jobs/clusterMap';
import { pixelsFromRecord, thumbnailFromRecord } from '../../main/io/imagePreview';
import { LruCache } from '../../main/jobs/lruCache';
import { encodePng } from '../../main/io/raster/pngEncode';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';

function record(width: number, height: number, values: (i: number) => number, extra: Partial<ImageRecord> = {}): ImageRecord {
  const channels = extra.channels ?? 1;
  const pixels = new Float32Array(width * height * channels).map((_, i) => values(i));
  let min = Infinity;
  let max = -Infinity;
  for (const v of pixels) [min, max] = [Math.min(min, v), Math.max(max, v)];
  return { id: 'x', path: '/x', format: 'png', width, height, channels, frames: 1, pixels, range: { min, max }, bitsStored: 8, inverted: false, ...extra };
}

describe('pixelsFromRecord', () => {
  it('chooses the smallest exact element type', () => {
    expect(pixelsFromRecord(record(4, 3, (i) => i * 10)).header.dtype).toBe('uint8');
    const u16 = pixelsFromRecord(record(4, 3, (i) => i * 1000, { bitsStored: 16 }));
    expect(u16.header).toMatchObject({ dtype: 'uint16', min: 0, max: 11_000, windowCenter: 5500, windowWidth: 11_000 });
    expect(u16.body.length).toBe(4 * 3 * 2);
    expect(u16.header.rescale).toBeUndefined(); // no DICOM, no rescale
    const s16 = pixelsFromRecord(record(4, 3, (i) => i * 100 - 1000, { bitsStored: 16, format: 'dicom' }));
    expect(s16.header.dtype).toBe('int16');
    expect(new Int16Array(s16.body.buffer, s16.body.byteOffset, 12)[0]).toBe(-1000);
    const f32 = pixelsFromRecord(record(4, 3, (i) => i * 0.5 - 0.25, { bitsStored: 16 }));
    expect(f32.header.dtype).toBe('float32');
    expect(f32.body.length).toBe(4 * 3 * 4);
  });

  it("starts from the DICOM file's own window where it has one (a CT's soft-tissue window)", async () => {
    if (!hasSharedData) return console.warn(`[skip] the CT window: ${sharedDataSkipReason}`);
    const ct = pixelsFromRecord(await readImage(dataPath('dicom/ct-3slice-seg/01.dcm')));
    expect(ct.header).toMatchObject({ dtype: 'int16', min: -3024, windowCenter: 40, windowWidth: 400 });
    // the values are rescaled (HU); the viewer's status line gives back the stored ones
    expect(ct.header.rescale).toEqual({ slope: 1, intercept: -1024 });
  });

  it('colour becomes luma; spacing is passed on', () => {
    const rgb = pixelsFromRecord(record(2, 2, (i) => (i % 3 === 0 ? 255 : 0), { channels: 3, spacing: { row: 0.2, column: 0.25 } }));
    expect(rgb.header).toMatchObject({ dtype: 'uint8', width: 2, height: 2, spacing: [0.2, 0.25] });
    expect([...rgb.body]).toEqual([76, 76, 76, 76]); // 0.299 · 255
  });
});

describe('thumbnailFromRecord', () => {
  it('keeps the aspect ratio, box-averages and windows to the range', () => {
    const t = thumbnailFromRecord(record(400, 200, (i) => ((i % 400) < 200 ? 0 : 1000), { bitsStored: 16 }), 100);
    expect([t.width, t.height]).toEqual([100, 50]);
    expect(t.data[0]).toBe(0);
    expect(t.data[99]).toBe(255);
    const small = thumbnailFromRecord(record(10, 20, () => 5), 128); // never enlarged
    expect([small.width, small.height]).toEqual([10, 20]);
  });
});

describe('encodePng', () => {
  it('writes grey and palette PNGs that a decoder reads back', async () => {
    const grey = PNG.sync.read(await encodePng({ width: 3, height: 2, data: Uint8Array.from([0, 128, 255, 1, 2, 3]) }));
    expect([grey.width, grey.height]).toEqual([3, 2]);
    expect(grey.data[4]).toBe(128);
    const palette = paletteRgba(2, 100);
    const pal = PNG.sync.read(await encodePng({ width: 2, height: 1, data: Uint8Array.from([0, 1]), palette }));
    expect([...pal.data.subarray(0, 8)]).toEqual([...palette.subarray(0, 8)]);
  });
});

describe('cluster map pieces', () => {
  it('argmax over planes, and nearest-neighbour upsampling', () => {
    // 2 clusters × 4 pixels
    expect([...argmaxPlanes(Float32Array.from([0.9, 0.1, 0.6, 0.2, 0.1, 0.9, 0.4, 0.8]), 2, 4)]).toEqual([0, 1, 0, 1]);
    expect([...upsampleLabels(Uint8Array.from([1, 2, 3, 4]), 2, 2, 4, 2)]).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('k-means separates clear groups, deterministically, largest cluster first', () => {
    // 2-D points (CHW with d = 2): 6 near (0,0), 3 near (10,10)
    const xs = [0, 0.1, 0.2, 0, 0.1, 0.2, 10, 10.1, 10.2];
    const ys = [0, 0.1, 0, 0.2, 0.1, 0.2, 10, 10.1, 10];
    const chw = Float32Array.from([...xs, ...ys]);
    const labels = kMeansLabels(chw, 2, 9, 2);
    expect([...labels]).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect([...kMeansLabels(chw, 2, 9, 2)]).toEqual([...labels]);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used by count and by cost', () => {
    const c = new LruCache<number>(2, 10);
    c.set('a', 1, 4);
    c.set('b', 2, 4);
    c.get('a');
    c.set('c', 3, 4); // over count and cost: b goes
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([1, undefined, 3]);
    c.set('huge', 4, 11); // bigger than the budget: not kept
    expect(c.get('huge')).toBeUndefined();
    c.deletePrefix('a');
    expect(c.size).toBe(1);
  });
});
