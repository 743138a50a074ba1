/**
 * Exports never replace an existing file unless the request says `overwrite: true` (issue 16:
 * `export:seg` onto an unrelated file and `export:landmarks` onto landmarks.csv replaced them without
 * a word). The refusal is code `conflict` (HTTP 409 in browser mode) and names the file; nothing is
 * written; the same request with `overwrite: true` goes ahead.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMaskRle } from '../../common/api';
import { ConflictError } from '../../common/errors';
import { httpStatusFor, toErrorPayload } from '../../main/ipc/errors';
import type { RunningServer } from '../../main/server';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { servedHarness, type Harness } from './harness';

const CODES = {
  category: { scheme: 'SCT', value: '123037004', meaning: 'Anatomical Structure' },
  type: { scheme: 'SCT', value: '71341001', meaning: 'Femur' },
};
const UNRELATED = 'the user’s own notes, not an export\n';

async function conflictOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the export should have been refused').toBeInstanceOf(ConflictError);
  return toErrorPayload(err);
}

describe.skipIf(!hasSharedData)(`exports refuse to replace existing files${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  let server: RunningServer;
  let auth: Record<string, string>;
  let out: string;

  beforeAll(async () => {
    ({ h, server, auth } = await servedHarness());
    await h.invoke('project:create', { dir: join(h.root, 'project') });
    const [image] = (await h.invoke('images:import', { jobId: 'import', paths: [dataPath('dicom/cr/RG2_UNC.dcm')] })).imported;
    const mask = new Uint8Array(image.width * image.height);
    mask.fill(1, 10 * image.width, 20 * image.width);
    const rle = encodeMaskRle(mask, image.width, image.height);
    await h.invoke('segment:saveMask', { imageId: image.id, mask: { width: rle.width, height: rle.height, runs: [...rle.runs] } });
    await h.invoke('landmarks:setTemplate', { imageId: image.id, names: ['a', 'b'] });
    await h.invoke('landmarks:setTemplatePoint', { name: 'a', point: { x: 10, y: 20 } });
    await h.invoke('landmarks:setTemplatePoint', { name: 'b', point: { x: 30, y: 40 } });
    out = join(h.root, 'out');
    mkdirSync(out);
  });
  afterAll(async () => {
    await server?.close();
    await h?.dispose();
  });

  it('export:landmarks onto an existing landmarks.csv / .mrk.json: conflict naming the file; overwrite: true replaces it', async () => {
    const csv = join(out, 'landmarks.csv');
    writeFileSync(csv, UNRELATED);
    const refused = await conflictOf(h.invoke('export:landmarks', { format: 'csv', dir: out }));
    expect(refused.code).toBe('conflict');
    expect(refused.message).toContain(csv);
    expect(readFileSync(csv, 'utf8')).toBe(UNRELATED);
    const written = await h.invoke('export:landmarks', { format: 'csv', dir: out, overwrite: true });
    expect(written.files).toEqual([csv]);
    expect(readFileSync(csv, 'utf8')).toMatch(/^image,landmark,x,y,confidence\n/);

    const mrk = join(out, 'RG2_UNC.mrk.json');
    writeFileSync(mrk, UNRELATED);
    expect((await conflictOf(h.invoke('export:landmarks', { format: 'mrk.json', dir: out }))).message).toContain(mrk);
    expect(readFileSync(mrk, 'utf8')).toBe(UNRELATED);
    // a file of another name is no conflict
    expect((await h.invoke('export:landmarks', { format: 'coco', dir: out })).files).toEqual([join(out, 'landmarks.coco.json')]);
  });

  it('export:seg onto an unrelated file: conflict (HTTP 409 in browser mode); overwrite: true writes the SEG', async () => {
    const file = join(out, 'notes.dcm');
    writeFileSync(file, UNRELATED);
    const request = { file, label: 'Femur', ...CODES };
    const refused = await conflictOf(h.invoke('export:seg', request));
    expect(refused.message).toMatch(/already exists and would be replaced: .*notes\.dcm/);
    expect(readFileSync(file, 'utf8')).toBe(UNRELATED);

    const res = await fetch(`${server.origin}/api/invoke/export:seg`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'conflict', message: expect.stringContaining(file) });
    expect(httpStatusFor('conflict')).toBe(409);

    const written = await h.invoke('export:seg', { ...request, overwrite: true });
    expect(written.files).toEqual([file]);
    expect(readFileSync(file).subarray(128, 132).toString('latin1')).toBe('DICM');
  });

  it('export:sr onto an existing <image>.sr.dcm: conflict; overwrite: true replaces it', async () => {
    const dir = join(out, 'sr');
    mkdirSync(dir);
    const sr = join(dir, 'RG2_UNC.sr.dcm');
    writeFileSync(sr, UNRELATED);
    expect((await conflictOf(h.invoke('export:sr', { dir }))).message).toContain(sr);
    expect(readFileSync(sr, 'utf8')).toBe(UNRELATED);
    expect((await h.invoke('export:sr', { dir, overwrite: true })).files).toEqual([sr]);
    expect(readFileSync(sr).subarray(128, 132).toString('latin1')).toBe('DICM');
  });

  it('overwrite must be a boolean', async () => {
    await expect(h.invoke('export:sr', { dir: out, overwrite: 'yes' })).rejects.toThrow(/overwrite/);
  });
});
