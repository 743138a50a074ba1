/**
 * A decode that produced pixels but looks wrong is recorded as a warning on the image (issue 16: a
 * bit-flipped JPEG 2000 CR was used without a word): what the codec reported, stored values beyond
 * Bits Stored, a blank picture. Copies are damaged in a temporary folder, never in the shared data.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../main/io';
import { harness } from '../ipc/harness';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';

const J2K = () => dataPath('dicom/cr/RG2_J2KR.dcm');

/** The JPEG 2000 codestream's main-header markers: code → offset in the file. */
function mainHeaderMarkers(bytes: Buffer): Map<number, number> {
  const soc = bytes.indexOf(Buffer.from([0xff, 0x4f, 0xff, 0x51]));
  const markers = new Map<number, number>();
  for (let at = soc + 2; bytes[at] === 0xff && bytes[at + 1] !== 0x90; at += 2 + bytes.readUInt16BE(at + 2)) markers.set(bytes[at + 1], at);
  return markers;
}

describe.skipIf(!hasSharedData)(`decode warnings${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ld-decode-warnings-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an intact JPEG 2000 CR has none', async () => {
    expect((await readImage(J2K())).warnings).toBeUndefined();
  });

  it('a bit flipped in the codestream\'s header: OpenJPEG decodes past it and says so, and so does the record', async () => {
    const bytes = Buffer.from(readFileSync(J2K()));
    const com = mainHeaderMarkers(bytes).get(0x64); // the COM marker segment
    expect(com, 'the test file has a COM marker in its main header').toBeDefined();
    bytes[com! + 1] ^= 0x01; // FF64 → FF65: a marker OpenJPEG does not know
    const file = join(dir, 'flipped.dcm');
    writeFileSync(file, bytes);
    const record = await readImage(file);
    expect(record.warnings).toEqual([expect.stringMatching(/^the JPEG 2000 .*decoder reported damage in the pixel data and decoded past it \(Unknown marker\); the image may be corrupt$/)]);
  });

  it('decoded values beyond Bits Stored (the header says 8 of the 10 bits): warned, not silently masked', async () => {
    const bytes = Buffer.from(readFileSync(J2K()));
    const bitsStored = bytes.indexOf(Buffer.from([0x28, 0x00, 0x01, 0x01, 0x55, 0x53, 0x02, 0x00])); // (0028,0101) US, length 2
    expect(bytes.readUInt16LE(bitsStored + 8)).toBe(10);
    bytes.writeUInt16LE(8, bitsStored + 8);
    bytes.writeUInt16LE(7, bytes.indexOf(Buffer.from([0x28, 0x00, 0x02, 0x01, 0x55, 0x53, 0x02, 0x00])) + 8); // High Bit 9 → 7
    const file = join(dir, 'bits-stored.dcm');
    writeFileSync(file, bytes);
    const record = await readImage(file);
    expect(record.warnings).toEqual([expect.stringMatching(/^\d+ decoded value\(s\) \([\d.<]+ %\) exceed the 8 bits the header says are stored; the pixel data or the header is damaged/)]);
  });

  it('a blank image (one value), and the warning on the imported image', async () => {
    const png = new PNG({ width: 64, height: 48, colorType: 0, inputColorType: 0, inputHasAlpha: false });
    png.data = Buffer.alloc(64 * 48, 0);
    const file = join(dir, 'blank.png');
    writeFileSync(file, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
    expect((await readImage(file)).warnings).toEqual(['every pixel has the same value (0): the image is blank or did not decode']);

    const h = harness();
    try {
      await h.invoke('project:create', { dir: join(h.root, 'project') });
      const res = await h.invoke('images:import', { jobId: 'import', paths: [file, J2K()] });
      expect(res.imported.map((i) => [i.name, i.warnings])).toEqual([
        ['blank.png', ['every pixel has the same value (0): the image is blank or did not decode']],
        ['RG2_J2KR.dcm', undefined],
      ]);
    } finally {
      await h.dispose();
    }
  });
});
