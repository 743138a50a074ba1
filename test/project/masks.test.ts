/** A project's mask files: the Mask written and read back, the old probability map removed, errors that say what to do. */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { maskFromProbability } from '../../common/mask';
import { maskFilesOf, readMask, readMaskPng, readProbabilityPng, writeMask } from '../../main/project/masks';

describe('project masks', () => {
  test('a predicted mask: 0/255 mask + 8-bit map; a correction after it leaves no map behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ld-masks-'));
    const files = maskFilesOf('img-1');
    expect(files).toEqual({ file: 'masks/img-1.png', probFile: 'masks/img-1.prob.png' });
    const probability = Float32Array.from([0, 0.2, 0.5, 0.51, 0.8, 1]);
    await writeMask(dir, files, maskFromProbability(3, 2, probability, 0.5));
    const back = await readMask(dir, files, 3, 2);
    expect([...back.inside]).toEqual([0, 0, 0, 1, 1, 1]);
    expect([...(await readProbabilityPng(dir, files.probFile, 3, 2))]).toEqual([0, 51, 128, 130, 204, 255]);
    expect([...(await readMaskPng(dir, files.file, 3, 2))]).toEqual([0, 0, 0, 1, 1, 1]);

    await writeMask(dir, files, { width: 3, height: 2, inside: Uint8Array.from([1, 1, 0, 0, 0, 0]) });
    expect(existsSync(join(dir, files.probFile))).toBe(false);
    expect(await readMask(dir, { file: files.file }, 3, 2)).toEqual({ width: 3, height: 2, inside: Uint8Array.from([1, 1, 0, 0, 0, 0]) });
  });

  test('a missing or wrong-sized file: which file, and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ld-masks-'));
    const files = maskFilesOf('img-2');
    await expect(readMask(dir, files, 3, 2)).rejects.toThrow(/^the mask file .*img-2\.png cannot be read \(file not found.*\); segment the image again or import its mask$/);
    await writeMask(dir, files, { width: 3, height: 2, inside: new Uint8Array(6) });
    await expect(readMask(dir, files, 3, 2)).rejects.toThrow(/^the probability map .*img-2\.prob\.png cannot be read/);
    writeFileSync(join(dir, files.probFile), 'not a png');
    await expect(readProbabilityPng(dir, files.probFile, 3, 2)).rejects.toThrow(/^the probability map .*img-2\.prob\.png cannot be read/);
    await expect(readMaskPng(dir, files.file, 2, 3)).rejects.toThrow(/^the mask file .*img-2\.png is 3×2, but the image is 2×3; segment the image again$/);
  });
});
