/**
 * pydicom's own small test files: encodings the shared data lacks (big endian, deflate, implicit,
 * RGB by plane, YBR, 8-bit JPEG, RLE colour, 32-bit, multi-frame). Pixels are compared with what
 * pydicom (+ GDCM where installed) decodes when numpy is available; shapes are checked regardless.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ImageReadError, readImage } from '../../main/io';
import { maxAbsDiff, meanAbsDiff } from './helpers/compare';
import {
  gdcmSkipReason,
  hasPydicomFiles,
  hasPydicomGdcm,
  hasPydicomNumpy,
  numpySkipReason,
  pydicomFilesDir,
  pydicomReference,
  pydicomSkipReason,
  type PydicomReference,
} from './helpers/pydicom';

/** [file, frames, rows, columns, channels, transfer syntax, tolerance] */
type Case = [file: string, frames: number, rows: number, columns: number, channels: 1 | 3, syntax: string, tolerance: 'exact' | 'lossy' | 'float32'];

const LE = '1.2.840.10008.1.2.1';
const CASES: Case[] = [
  ['CT_small.dcm', 1, 128, 128, 1, LE, 'exact'],
  ['MR_small.dcm', 1, 64, 64, 1, LE, 'exact'],
  ['MR_small_implicit.dcm', 1, 64, 64, 1, '1.2.840.10008.1.2', 'exact'],
  ['MR_small_bigendian.dcm', 1, 64, 64, 1, '1.2.840.10008.1.2.2', 'exact'],
  ['MR_small_padded.dcm', 1, 64, 64, 1, LE, 'exact'],
  ['MR_small_RLE.dcm', 1, 64, 64, 1, '1.2.840.10008.1.2.5', 'exact'],
  ['MR_small_jp2klossless.dcm', 1, 64, 64, 1, '1.2.840.10008.1.2.4.90', 'exact'],
  ['MR_small_jpeg_ls_lossless.dcm', 1, 64, 64, 1, '1.2.840.10008.1.2.4.80', 'exact'],
  ['JPEG2000.dcm', 1, 1024, 256, 1, '1.2.840.10008.1.2.4.91', 'exact'],
  ['693_J2KI.dcm', 1, 512, 512, 1, '1.2.840.10008.1.2.4.91', 'exact'],
  ['J2K_pixelrep_mismatch.dcm', 1, 512, 512, 1, '1.2.840.10008.1.2.4.90', 'exact'],
  ['image_dfl.dcm', 1, 512, 512, 1, '1.2.840.10008.1.2.1.99', 'exact'],
  ['ExplVR_BigEnd.dcm', 1, 60, 80, 3, '1.2.840.10008.1.2.2', 'exact'], // RGB by plane, big endian
  ['SC_rgb_small_odd.dcm', 1, 3, 3, 3, LE, 'exact'],
  ['SC_ybr_full_422_uncompressed.dcm', 1, 100, 100, 3, LE, 'exact'],
  ['SC_rgb_rle.dcm', 1, 100, 100, 3, '1.2.840.10008.1.2.5', 'exact'],
  ['SC_rgb_rle_2frame.dcm', 2, 100, 100, 3, '1.2.840.10008.1.2.5', 'exact'],
  ['SC_rgb_rle_16bit_2frame.dcm', 2, 100, 100, 3, '1.2.840.10008.1.2.5', 'exact'],
  ['SC_rgb_rle_32bit_2frame.dcm', 2, 100, 100, 3, '1.2.840.10008.1.2.5', 'float32'],
  ['SC_rgb_jpeg_gdcm.dcm', 1, 100, 100, 3, '1.2.840.10008.1.2.4.70', 'exact'], // lossless RGB
  ['rtdose.dcm', 15, 10, 10, 1, '1.2.840.10008.1.2', 'exact'], // 32-bit, multi-frame
  ['rtdose_expb.dcm', 15, 10, 10, 1, '1.2.840.10008.1.2.2', 'exact'],
  ['rtdose_rle.dcm', 15, 10, 10, 1, '1.2.840.10008.1.2.5', 'exact'],
  ['liver_1frame.dcm', 1, 512, 512, 1, LE, 'exact'], // 1-bit SEG
  ['liver_expb_1frame.dcm', 1, 512, 512, 1, '1.2.840.10008.1.2.2', 'exact'],
  // 8-bit lossy JPEG: libjpeg builds may round the inverse DCT differently
  ['SC_rgb_jpeg_dcmtk.dcm', 1, 100, 100, 3, '1.2.840.10008.1.2.4.50', 'lossy'], // YBR_FULL
  ['SC_rgb_dcmtk_+eb+cy+np.dcm', 1, 100, 100, 3, '1.2.840.10008.1.2.4.50', 'lossy'], // YBR_FULL_422
  ['SC_rgb_dcmtk_+eb+cy+s4.dcm', 1, 100, 100, 3, '1.2.840.10008.1.2.4.50', 'lossy'],
  ['SC_rgb_dcmtk_+eb+cr.dcm', 1, 100, 100, 3, '1.2.840.10008.1.2.4.50', 'lossy'], // RGB, Adobe marker
  ['SC_rgb_jpeg_app14_dcmd.dcm', 1, 256, 256, 3, '1.2.840.10008.1.2.4.50', 'lossy'],
  ['SC_jpeg_no_color_transform.dcm', 1, 256, 256, 3, '1.2.840.10008.1.2.4.50', 'lossy'], // RGB, no marker
  ['SC_jpeg_no_color_transform_2.dcm', 1, 256, 256, 3, '1.2.840.10008.1.2.4.50', 'lossy'],
  ['SC_rgb_small_odd_jpeg.dcm', 1, 3, 3, 3, '1.2.840.10008.1.2.4.50', 'lossy'],
];

/** Syntaxes pydicom decodes by itself (native, deflated, RLE). */
const NEEDS_NO_GDCM = new Set(['1.2.840.10008.1.2', LE, '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.5']);

const skipNote = hasPydicomFiles ? '' : ` [skipped: ${pydicomSkipReason}]`;
const numpyNote = hasPydicomNumpy ? '' : ` [skipped: ${numpySkipReason}]`;
const file = (name: string) => join(pydicomFilesDir, name);

describe.skipIf(!hasPydicomFiles)(`pydicom test files${skipNote}`, () => {
  let reference = new Map<string, PydicomReference>();

  beforeAll(() => {
    if (hasPydicomNumpy) reference = pydicomReference(CASES.map(([name]) => file(name)));
  });

  it.each(CASES)('%s: %i frame(s) of %i×%i×%i in %s', async (name, frames, rows, columns, channels, syntax) => {
    const record = await readImage(file(name));
    expect(record).toMatchObject({ frames, height: rows, width: columns, channels });
    expect(record.dicom?.transferSyntaxUID).toBe(syntax);
    expect(record.pixels).toHaveLength(frames * rows * columns * channels);
  });

  it.skipIf(!hasPydicomNumpy).each(CASES)(`%s has the pixel values pydicom gives${numpyNote}`, async (name, ...rest) => {
    const [, , , , syntax, tolerance] = rest;
    if (!hasPydicomGdcm && !NEEDS_NO_GDCM.has(syntax)) {
      console.warn(`[skip] ${name}: ${gdcmSkipReason}`);
      return;
    }
    const ref = reference.get(file(name));
    expect(ref?.error).toBeUndefined();
    const refPixels = ref?.pixels ?? new Float64Array();
    const { pixels } = await readImage(file(name));
    expect(pixels.length).toBe(refPixels.length);
    if (tolerance === 'exact') expect(maxAbsDiff(pixels, refPixels)).toBe(0);
    if (tolerance === 'lossy') {
      expect(maxAbsDiff(pixels, refPixels)).toBeLessThanOrEqual(2);
      expect(meanAbsDiff(pixels, refPixels)).toBeLessThan(0.1);
    }
    if (tolerance === 'float32') {
      // 32-bit samples keep 24 significant bits in a Float32Array
      for (let i = 0; i < pixels.length; i++) expect(Math.abs(pixels[i] - refPixels[i])).toBeLessThanOrEqual(Math.abs(refPixels[i]) * 2 ** -24);
    }
  });

  it('decodes a JPEG labelled RGB that is really YCbCr 4:2:0 as the stream says (GDCM does not)', async () => {
    // the frame has chroma subsampling and ids 1,2,3: YCbCr whatever the header says; its rows are colour bars
    const { pixels, width } = await readImage(file('SC_rgb_jpeg_lossy_gdcm.dcm'));
    const at = (x: number, y: number) => Array.from(pixels.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
    const [r, g, b] = at(50, 3);
    expect(r).toBeGreaterThan(230);
    expect(g).toBeLessThan(30);
    expect(b).toBeLessThan(30);
    const [r2, g2, b2] = at(50, 23);
    expect(g2).toBeGreaterThan(230);
    expect(r2 + b2).toBeLessThan(60);
  });

  it.each([
    ['JPGExtended.dcm', 'unsupported-transfer-syntax', /12-bit.*1\.2\.840\.10008\.1\.2\.4\.51.*dcmdjpeg/],
    ['JPEG-lossy.dcm', 'unsupported-transfer-syntax', /1\.2\.840\.10008\.1\.2\.4\.51/],
    ['MR_truncated.dcm', 'truncated', /truncated/],
    ['reportsi.dcm', 'not-an-image', /Basic Text Structured Report/],
    ['test-SR.dcm', 'not-an-image', /Comprehensive Structured Report/],
    ['rtplan.dcm', 'not-an-image', /RT Plan/],
    ['waveform_ecg.dcm', 'not-an-image', /ECG/],
    // no preamble, no meta header: encoding inferred from the bytes (an RT Ion Plan, so no pixels)
    ['ExplVR_LitEndNoMeta.dcm', 'not-an-image', /RT Ion Plan/],
    ['ExplVR_BigEndNoMeta.dcm', 'not-an-image', /RT Ion Plan/],
    ['SC_rgb_jpeg.dcm', 'corrupt', /Implicit VR although/],
    ['JPEG2000-embedded-sequence-delimiter.dcm', 'corrupt', /JPEG 2000/],
  ])('%s is refused with %s', async (name, code, message) => {
    const error = await readImage(file(name)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImageReadError);
    expect((error as ImageReadError).code).toBe(code);
    expect((error as ImageReadError).message).toContain(file(name));
    expect((error as ImageReadError).message).toMatch(message);
  });
});
