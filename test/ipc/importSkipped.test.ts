/**
 * The import result names each file it skipped, with why (issue 16: "skipped: 15" named none): the
 * same path again, or the same DICOM image (SOP Instance UID) under another path, in the project or
 * earlier in the same import.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { harness, type Harness } from './harness';

describe.skipIf(!hasSharedData)(`images:import names what it skipped${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = harness();
    await h.invoke('project:create', { dir: join(h.root, 'project') });
  });
  afterAll(() => h.dispose());

  it('copies of one DICOM, and a file imported twice, are each named with the reason', async () => {
    const original = dataPath('dicom', 'cr', 'RG2_UNC.dcm');
    const copies = ['a', 'b'].map((folder) => {
      mkdirSync(join(h.root, folder));
      const path = join(h.root, folder, 'RG2 copy.dcm');
      copyFileSync(original, path);
      return path;
    });
    const first = await h.invoke('images:import', { jobId: 'first', paths: [original, copies[0]] });
    expect(first.imported.map((i) => i.id)).toEqual(['img-1']);
    expect(first.skipped).toBe(1);
    expect(first.skippedFiles).toEqual([{ path: copies[0], reason: expect.stringMatching(new RegExp(`^the same DICOM image \\(SOP Instance UID [0-9.]+\\) as ${original}, imported just before$`)) }]);

    const again = await h.invoke('images:import', { jobId: 'again', paths: [original, copies[1]] });
    expect(again.imported).toEqual([]);
    expect(again.skipped).toBe(2);
    expect(again.skippedFiles).toEqual([
      { path: original, reason: 'already in the project' },
      { path: copies[1], reason: expect.stringMatching(/^the same DICOM image \(SOP Instance UID [0-9.]+\) as image img-1 \(RG2_UNC\.dcm\) of the project$/) },
    ]);
  });
});
