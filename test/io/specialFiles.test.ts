/**
 * Paths that are not regular files (issue 16): a named pipe would block the read forever (and hold one
 * of libuv's file-I/O threads), /dev/zero never ends, a huge file exhausts memory. Every reader of a
 * user path refuses them with an error that names the file, before reading a byte.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageReadError, readImage } from '../../main/io';
import { readSegmentDescriptionFile } from '../../main/io/exporters/segmentDescription';
import { MAX_INPUT_FILE_BYTES, readInputFileSync } from '../../main/io/inputFile';
import { readImageSize } from '../../main/io/landmarks';
import { readTextFile } from '../../main/io/landmarks/formats/fileError';
import { readSafetensors } from '../../main/io/safetensors';
import { readSegmentation } from '../../main/io/seg/readSegmentation';

const dir = mkdtempSync(join(tmpdir(), 'ld-special-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fifo = join(dir, 'x.dcm');
execFileSync('mkfifo', [fifo]);
const huge = join(dir, 'huge.dcm');
writeFileSync(huge, '');
truncateSync(huge, MAX_INPUT_FILE_BYTES + 1); // sparse: no disk space, no time

/** The promise's rejection; fails with a clear message (rather than hanging the suite) if it never settles. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const guard = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s (the read is blocked)')), 2000).unref());
  const outcome = await Promise.race([promise.then(() => new Error('expected a refusal, got a result')), guard]).catch((err: unknown) => err);
  expect(outcome).toBeInstanceOf(Error);
  return outcome as Error;
}

describe('readImage refuses what is not a regular file', () => {
  it.each([
    ['a named pipe', fifo, /named pipe \(FIFO\), not a regular file/],
    ['/dev/zero', '/dev/zero', /character device, not a regular file/],
    ['a file over the size cap', huge, /over 2 GiB/],
  ])('%s → an ImageReadError naming it', async (_what, path, reason) => {
    const err = await rejectionOf(readImage(path));
    expect(err).toBeInstanceOf(ImageReadError);
    expect((err as ImageReadError).file).toBe(path);
    expect((err as ImageReadError).code).toBe('not-an-image');
    expect((err as ImageReadError).reason).toMatch(reason);
  });

  it('answers every time: four pipes in a row do not exhaust the file-I/O pool', async () => {
    for (let i = 0; i < 4; i++) expect((await rejectionOf(readImage(fifo))).message).toMatch(/named pipe/);
    // the pool still works for ordinary files
    const png = join(dir, 'not really.png');
    writeFileSync(png, 'text');
    expect((await rejectionOf(readImage(png))).message).toMatch(/content is not PNG/);
  });
});

describe('the other readers of user paths refuse them too', () => {
  it.each([
    ['readImageSize', (p: string) => readImageSize(p)],
    ['readTextFile (landmark files)', (p: string) => readTextFile(p)],
    ['readSegmentation', (p: string) => readSegmentation(p)],
    ['readSegmentDescriptionFile', (p: string) => readSegmentDescriptionFile(p)],
  ])('%s', async (_name, read) => {
    for (const path of [fifo, '/dev/zero']) {
      const err = await rejectionOf(read(path));
      expect(err.message).toContain(path);
      expect(err.message).toMatch(/not a regular file/);
    }
  });

  it('the synchronous reader (checkpoints) refuses without opening', () => {
    expect(() => readSafetensors(fifo)).toThrow(/named pipe \(FIFO\), not a regular file/);
    expect(() => readInputFileSync('/dev/zero')).toThrow(/\/dev\/zero: this is a character device/);
    expect(() => readInputFileSync(dir)).toThrow(/this is a folder, not a file/);
  });
});
