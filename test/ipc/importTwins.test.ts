/**
 * Copies by content are imported with a warning naming the earlier image (issue 16: a byte-identical
 * copy of a PNG, or a DICOM with a new SOP Instance UID but the same pixels, came in without a word).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../main/io';
import { PROJECT_FILE_NAME } from '../../main/project/projectFile';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { harness, type Harness } from './harness';

describe.skipIf(!hasSharedData)(`images:import warns about copies by content${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = harness();
    await h.invoke('project:create', { dir: join(h.root, 'project') });
  });
  afterAll(() => h.dispose());

  it('a byte-identical PNG under another name: imported, with a warning naming the first; each hash is stored', async () => {
    const original = dataPath('landmarks/hand/3167.png');
    mkdirSync(join(h.root, 'copies'));
    const copy = join(h.root, 'copies', 'renamed.png');
    copyFileSync(original, copy);
    const first = await h.invoke('images:import', { jobId: 'png-1', paths: [original] });
    expect(first.imported[0].warnings).toBeUndefined();
    const second = await h.invoke('images:import', { jobId: 'png-2', paths: [copy, dataPath('landmarks/hand/5245.png')] });
    expect(second.imported.map((i) => i.name)).toEqual(['renamed.png', '5245.png']);
    expect(second.imported[0].warnings).toEqual(['a byte-identical copy (same SHA-256) of image img-1 (3167.png) of the project']);
    expect(second.imported[1].warnings).toBeUndefined();
    const stored = JSON.parse(readFileSync(join(h.root, 'project', PROJECT_FILE_NAME), 'utf8')).images;
    expect(stored[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(stored[1].sha256).toBe(stored[0].sha256);
    expect(stored[1].warnings).toHaveLength(1);
    // the snapshot carries the warning for the image list
    expect((await h.invoke('project:get'))!.images.find((i) => i.name === 'renamed.png')!.warnings).toEqual(second.imported[0].warnings);
  });

  it('a DICOM copy with a new SOP Instance UID but the same pixels: imported, with a warning', async () => {
    const original = dataPath('dicom/cr/RG2_UNC.dcm');
    const uid = (await readImage(original)).dicom!.sopInstanceUID;
    const newUid = uid.slice(0, -1) + (uid.endsWith('9') ? '8' : '9'); // the same length: no element lengths change
    const bytes = Buffer.from(readFileSync(original).toString('latin1').split(uid).join(newUid), 'latin1');
    const copy = join(h.root, 'copies', 'RG2 new uid.dcm');
    writeFileSync(copy, bytes);
    expect((await readImage(copy)).dicom!.sopInstanceUID).toBe(newUid);
    const res = await h.invoke('images:import', { jobId: 'dicom', paths: [original, copy] });
    expect(res.imported.map((i) => i.name)).toEqual(['RG2_UNC.dcm', 'RG2 new uid.dcm']);
    expect(res.imported[0].warnings).toBeUndefined();
    expect(res.imported[1].warnings).toEqual([`the same pixels as ${original}, imported just before, in another file (e.g. a new SOP Instance UID or another format)`]);
  });
});
