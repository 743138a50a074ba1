/**
 * Damaged and wrong inputs, made here in a temp folder: each must give an ImageReadError that names
 * the file and says what is wrong, and the process must carry on (no crash, no exit code).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageReadError, readImage } from '../../main/io';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { firstFragment, parse, rewriteTransferSyntax } from './helpers/dicomBytes';
import { rgbPng } from './helpers/makeImages';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;

async function readError(path: string): Promise<ImageReadError> {
  const error = await readImage(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageReadError);
  const e = error as ImageReadError;
  expect(e.file).toBe(path);
  expect(e.message).toContain(path);
  expect(e.message).toBe(`${path}: ${e.reason}`);
  return e;
}

const dir = mkdtempSync(join(tmpdir(), 'ld-damaged-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  // emscripten sets process.exitCode when its C code calls exit(): a bad file must not do that
  expect(process.exitCode ?? 0).toBe(0);
});

describe('inputs that are not images at all', () => {
  it('a missing path → missing', async () => {
    const e = await readError(join(dir, 'no such file.dcm'));
    expect(e.code).toBe('missing');
    expect(e.reason).toMatch(/not found/);
  });

  it('a zero-byte file → truncated', async () => {
    await writeFile(join(dir, 'empty.dcm'), new Uint8Array());
    const e = await readError(join(dir, 'empty.dcm'));
    expect(e.code).toBe('truncated');
    expect(e.reason).toMatch(/empty \(0 bytes\)/);
  });

  it('a text file named .dcm → unsupported-format', async () => {
    await writeFile(join(dir, 'notes.dcm'), 'Patient notes: nothing to see here.\n'.repeat(10));
    const e = await readError(join(dir, 'notes.dcm'));
    expect(e.code).toBe('unsupported-format');
    expect(e.reason).toMatch(/not a DICOM file/);
  });

  it('a text file with an unknown extension → unsupported-format', async () => {
    await writeFile(join(dir, 'readme.txt'), 'hello');
    expect((await readError(join(dir, 'readme.txt'))).code).toBe('unsupported-format');
  });

  it('garbage named .png → corrupt (content and name disagree)', async () => {
    await writeFile(join(dir, 'garbage.png'), Buffer.alloc(500, 0x41));
    const e = await readError(join(dir, 'garbage.png'));
    expect(e.code).toBe('corrupt');
    expect(e.reason).toMatch(/named as PNG but its content is not PNG/);
  });

  it('a folder passed as a file → unsupported-format', async () => {
    const e = await readError(dir);
    expect(e.code).toBe('unsupported-format');
  });
});

describe('damaged PNG and JPEG', () => {
  const png = rgbPng(20, 20, new Uint8Array(1200).fill(7));
  const idatData = 41; // signature 8 + IHDR chunk 25 + IDAT length and type 8

  it('a broken chunk CRC → corrupt, naming the chunk', async () => {
    const bad = Buffer.from(png);
    bad[idatData + 3] ^= 0xff;
    await writeFile(join(dir, 'bad crc.png'), bad);
    const e = await readError(join(dir, 'bad crc.png'));
    expect(e.code).toBe('corrupt');
    expect(e.reason).toMatch(/IDAT fails its CRC/);
  });

  it('a truncated IDAT → truncated', async () => {
    await writeFile(join(dir, 'cut.png'), png.subarray(0, idatData + 5));
    const e = await readError(join(dir, 'cut.png'));
    expect(e.code).toBe('truncated');
    expect(e.reason).toMatch(/IDAT runs past the end/);
  });

  it.skipIf(!hasSharedData)(`a JPEG cut in half → truncated${skipNote}`, async () => {
    const jpeg = await readFile(dataPath('landmarks', 'spine', 'images', 'test', 'sunhl-1th-01-Mar-2017-310 a ap.jpg'));
    await writeFile(join(dir, 'cut.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    const e = await readError(join(dir, 'cut.jpg'));
    expect(e.code).toBe('truncated');
    expect(e.reason).toMatch(/End Of Image/);
  });
});

describe.skipIf(!hasSharedData)(`damaged DICOM${skipNote}`, () => {
  let ct: Buffer;
  let jpegLs: Buffer;

  beforeAll(async () => {
    ct = await readFile(dataPath('dicom', 'ct-3slice-seg', '01.dcm'));
    jpegLs = await readFile(dataPath('dicom', 'cr', 'RG2_JLSL.dcm'));
  });

  it('cut in the middle of native pixel data → truncated, saying how much is missing', async () => {
    await writeFile(join(dir, 'ct cut.dcm'), ct.subarray(0, Math.floor(ct.length * 0.6)));
    const e = await readError(join(dir, 'ct cut.dcm'));
    expect(e.code).toBe('truncated');
    expect(e.reason).toMatch(/Pixel Data holds \d+ bytes but 524288 are needed/);
  });

  it('cut in the middle of compressed pixel data → truncated', async () => {
    await writeFile(join(dir, 'jls cut.dcm'), jpegLs.subarray(0, jpegLs.length >> 1));
    expect((await readError(join(dir, 'jls cut.dcm'))).code).toBe('truncated');
  });

  it('cut inside the header → truncated', async () => {
    await writeFile(join(dir, 'header cut.dcm'), ct.subarray(0, 300));
    expect((await readError(join(dir, 'header cut.dcm'))).code).toBe('truncated');
    await writeFile(join(dir, 'preamble cut.dcm'), ct.subarray(0, 100));
    expect((await readError(join(dir, 'preamble cut.dcm'))).code).toBe('truncated');
  });

  it("dicom-parser's own words never reach the user: a cut data set is named truncated or damaged", async () => {
    // liver.dcm (Explicit VR) cut inside an element: dicom-parser throws "parseDicomDataSetExplicit: buffer overrun"
    const liver = await readFile(dataPath('dicom', 'ct-3slice-seg', 'liver.dcm'));
    await writeFile(join(dir, 'overrun.dcm'), liver.subarray(0, 347));
    await writeFile(join(dir, 'short header.dcm'), ct.subarray(0, 300));
    for (const name of ['overrun.dcm', 'short header.dcm']) {
      const e = await readError(join(dir, name));
      expect(e.code).toBe('truncated');
      expect(e.reason).toBe('the file ends before its DICOM data does: it is truncated or damaged — copy it again from the source');
    }
  });

  it.each([
    ['more', 600, 614400],
    ['fewer', 400, 409600],
  ])('Rows that promise %s pixels than Pixel Data holds → corrupt, with the numbers (not "truncated")', async (_what, rows, needed) => {
    const lying = Buffer.from(ct);
    lying.writeUInt16LE(rows, parse(ct).elements.x00280010.dataOffset);
    const path = join(dir, `rows ${rows}.dcm`);
    await writeFile(path, lying);
    const e = await readError(path);
    expect(e.code).toBe('corrupt');
    expect(e.reason).toBe(
      `the header's Rows, Columns and Bits Allocated do not match the Pixel Data length: Rows ${rows} × Columns 512 × Samples per Pixel 1 × ` +
        `Bits Allocated 16 = ${needed} bytes, but Pixel Data holds 524288; the program that wrote the file is faulty — export the image again from its source`,
    );
  });

  it('an unsupported transfer syntax (MPEG2) → unsupported-transfer-syntax naming the UID and what to do', async () => {
    await writeFile(join(dir, 'mpeg2.dcm'), rewriteTransferSyntax(jpegLs, '1.2.840.10008.1.2.4.100'));
    const e = await readError(join(dir, 'mpeg2.dcm'));
    expect(e.code).toBe('unsupported-transfer-syntax');
    expect(e.reason).toContain('1.2.840.10008.1.2.4.100');
    expect(e.reason).toContain('MPEG2 Main Profile / Main Level');
    expect(e.reason).toMatch(/gdcmconv --raw/);
    expect(e.reason).toMatch(/dcmdjpeg/);
  });

  it('an unknown transfer syntax UID → unsupported-transfer-syntax', async () => {
    await writeFile(join(dir, 'unknown ts.dcm'), rewriteTransferSyntax(jpegLs, '1.2.3.4.5.6'));
    const e = await readError(join(dir, 'unknown ts.dcm'));
    expect(e.code).toBe('unsupported-transfer-syntax');
    expect(e.reason).toContain('1.2.3.4.5.6 (unknown transfer syntax)');
  });

  it('a damaged JPEG-LS frame → corrupt from the codec, and the codec still works afterwards', async () => {
    const { position } = firstFragment(jpegLs);
    const bad = Buffer.from(jpegLs);
    bad.fill(0xff, position + 2, position + 40); // wipe the frame header after SOI
    await writeFile(join(dir, 'bad jls.dcm'), bad);
    const e = await readError(join(dir, 'bad jls.dcm'));
    expect(e.code).toBe('corrupt');
    expect(e.reason).toMatch(/JPEG-LS/);
    const good = await readImage(dataPath('dicom', 'cr', 'RG2_JLSL.dcm'));
    expect(good.width).toBe(1760);
  });

  it('a DICOM without Pixel Data → not-an-image', async () => {
    // cut right before (7FE0,0010): everything else of the CT is there
    const at = ct.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
    await writeFile(join(dir, 'no pixels.dcm'), ct.subarray(0, at));
    const e = await readError(join(dir, 'no pixels.dcm'));
    expect(e.code).toBe('not-an-image');
    expect(e.reason).toMatch(/without Pixel Data/);
  });
});
