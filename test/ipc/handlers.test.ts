/**
 * Every app channel through the real handler table (validation included) on real files: projects,
 * import with a damaged file, thumbnails and pixels of a hand PNG and real CR DICOMs, the template,
 * review corrections (on disk at once) and export. Training and propagation: training.test.ts.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, ImageEntry } from '../../common/api';
import { channels } from '../../main/ipc/contract';
import { IpcValidationError, toErrorPayload } from '../../main/ipc/registry';
import { readPixels } from '../../main/ipc/pixels';
import { readImage } from '../../main/io';
import { readLandmarkFile, readSlicerMarkupsFile } from '../../main/io/landmarks';
import { PROJECT_FILE_NAME } from '../../main/project/projectFile';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { harness, type Harness } from './harness';

const HAND = ['3167.png', '3177.png', '3229.png'];
const pngOf = (dataUrl: string) => PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

describe('validation of every channel', () => {
  let h: Harness;
  beforeAll(() => {
    h = harness();
  });
  afterAll(() => h.dispose());

  const garbage: Array<[string, unknown]> = [
    ['a number', 42],
    ['a string', 'x'],
    ['an array', [1]],
    ['an unknown key', { __bogus: 1 }],
  ];
  it.each(channels.filter((c) => c !== 'app:ping' && c !== 'engine:info'))('%s refuses garbage with a validation error, not a crash', async (channel) => {
    for (const [label, payload] of garbage) {
      const err = await errorOf(h.invoke(channel as Channel, payload));
      expect(err, `${channel} with ${label}`).toBeInstanceOf(IpcValidationError);
      expect(toErrorPayload(err).code).toBe('validation');
      expect(err!.message).toContain(`'${channel}'`);
    }
  });

  it.each([
    ['images:import', { jobId: 'has space', paths: ['/tmp'] }, 'jobId'],
    ['images:import', { jobId: 'j', paths: [] }, 'paths'],
    ['images:thumbnail', { imageId: 'img-1', size: 5000 }, 'size'],
    ['train:start', { engine: 'torch', settings: { stage: '1', steps: 1, size: 100, batch: 1, lr: 0.001, lrHalveEvery: 1, clusters: 8, seed: 0, checkpointEvery: 1, centreSensitive: true } }, 'settings.size'],
    ['landmarks:setPoint', { imageId: 'img-1', name: 'a', point: { x: Number.NaN, y: 1 } }, 'point.x'],
    ['export:landmarks', { format: 'xlsx', dir: '/tmp' }, 'format'],
    ['project:open', { dir: 'a\u0000b' }, 'dir'],
    ['project:create', { dir: 'relative/folder' }, 'dir'],
    ['images:import', { jobId: 'j', paths: ['/abs', 'rel.png'] }, 'paths.1'],
  ])('%s points at the bad field (%j)', async (channel, payload, path) => {
    const err = (await errorOf(h.invoke(channel as Channel, payload))) as IpcValidationError;
    expect(err).toBeInstanceOf(IpcValidationError);
    expect(err.issues?.map((i) => i.path.join('.'))).toContain(path);
  });

  it('channels that need a project say so when none is open', async () => {
    await expect(h.invoke('project:get')).resolves.toBeNull();
    await expect(h.invoke('images:thumbnail', { imageId: 'img-1' })).rejects.toThrow(/no project is open/);
    await expect(h.invoke('landmarks:setTemplatePoint', { name: 'a', point: null })).rejects.toThrow(/no project is open/);
    await expect(h.invoke('project:close')).resolves.toEqual({ closed: false });
    await expect(h.invoke('job:cancel', { jobId: 'nothing' })).resolves.toEqual({ cancelled: false });
  });

  it('dialog:open is unsupported without native dialogs (browser mode), and uses them when given', async () => {
    await expect(h.invoke('dialog:open', { kind: 'folder' })).resolves.toEqual({ paths: null, unsupported: true });
    const withDialogs = harness({ dialogs: { open: async (r) => (r.kind === 'save' ? null : ['/picked']) } });
    try {
      await expect(withDialogs.invoke('dialog:open', { kind: 'files', title: 'Import' })).resolves.toEqual({ paths: ['/picked'] });
      await expect(withDialogs.invoke('dialog:open', { kind: 'save' })).resolves.toEqual({ paths: null });
    } finally {
      await withDialogs.dispose();
    }
  });
});

describe('projects and the file system', () => {
  let h: Harness;
  beforeAll(() => {
    h = harness();
  });
  afterAll(() => h.dispose());

  it('create → get → close → recent → open', async () => {
    const dir = join(h.root, 'study');
    const created = await h.invoke('project:create', { dir, name: 'Study' });
    expect(created).toMatchObject({ dir, name: 'Study', version: 1, images: [], template: null, runs: [], activeRunId: null, landmarks: [] });
    expect(created.landmarkSets.filter((s) => s.builtIn).map((s) => s.id)).toEqual(['isbi-ceph-19', 'hand-37', 'spine-68']);
    expect(created.landmarkSets.find((s) => s.id === 'hand-37')?.names).toHaveLength(37);
    // the built-in schemes' definitions reach the renderer (Template and Review show them)
    expect(created.landmarkSets.find((s) => s.id === 'isbi-ceph-19')?.descriptions?.Sella).toMatch(/sella turcica/i);
    await expect(h.invoke('project:get')).resolves.toMatchObject({ dir, name: 'Study' });
    await expect(h.invoke('project:create', { dir })).rejects.toThrow(/already holds a project/);
    await expect(h.invoke('project:close')).resolves.toEqual({ closed: true });
    await expect(h.invoke('project:get')).resolves.toBeNull();
    const recent = await h.invoke('project:recent');
    expect(recent[0]).toMatchObject({ dir, name: 'Study', missing: false });
    await expect(h.invoke('project:open', { dir })).resolves.toMatchObject({ dir, name: 'Study' });
    await expect(h.invoke('project:open', { dir: join(h.root, 'nope') })).rejects.toThrow(/folder not found/);
    expect(existsSync(join(h.root, 'config', 'recent-projects.json'))).toBe(true);
  });

  it('fs:list: folders first, image files flagged, hidden entries skipped; a missing folder is a clear error', async () => {
    const dir = join(h.root, 'listing');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    mkdirSync(join(dir, '.hidden-dir'));
    for (const f of ['b10.png', 'b2.dcm', 'notes.txt', '.DS_Store']) writeFileSync(join(dir, f), 'x');
    const listing = await h.invoke('fs:list', { dir });
    expect(listing.dir).toBe(dir);
    expect(listing.parent).toBe(h.root);
    expect(listing.entries).toEqual([
      { name: 'sub', kind: 'dir', image: false },
      { name: 'b2.dcm', kind: 'file', image: true },
      { name: 'b10.png', kind: 'file', image: true },
      { name: 'notes.txt', kind: 'file', image: false },
    ]);
    expect((await h.invoke('fs:list', { dir: '/' })).parent).toBeNull();
    const home = (await h.invoke('fs:list', {})).dir; // the home folder
    expect((await h.invoke('fs:list', { dir: '~' })).dir).toBe(home);
    await expect(h.invoke('fs:list', { dir: join(dir, 'missing') })).rejects.toThrow(/missing: folder not found/);
    await expect(h.invoke('fs:list', { dir: join(dir, 'notes.txt') })).rejects.toThrow(/this is a file, not a folder/);
  });

  it('the sample project without sample images is empty, with a notice saying how to import', async () => {
    const snapshot = await h.invoke('project:openSample');
    expect(snapshot.dir).toBe(join(h.root, 'config', 'sample-project'));
    expect(snapshot.images).toEqual([]);
    expect(h.eventsOf('app:notice').some((n) => /Import your own radiographs/.test(n.message) && /LD_STUDIO_SAMPLE_IMAGES/.test(n.message))).toBe(true);
  });
});

describe.skipIf(!hasSharedData)(`images, pixels, template, review and export on real data${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  let folder: string;
  let imported: ImageEntry[];
  beforeAll(async () => {
    h = harness();
    folder = join(h.root, 'incoming');
    mkdirSync(join(folder, 'nested'), { recursive: true });
    // the real images are linked, never copied; one damaged file and one non-image beside them
    symlinkSync(dataPath('landmarks/hand', HAND[0]), join(folder, HAND[0]));
    symlinkSync(dataPath('landmarks/hand', HAND[1]), join(folder, 'nested', HAND[1]));
    writeFileSync(join(folder, 'broken.png'), Buffer.from('not a png at all, just text'));
    writeFileSync(join(folder, 'readme.txt'), 'notes');
    await h.invoke('project:create', { dir: join(h.root, 'project') });
  });
  afterAll(() => h.dispose());

  it('import: the damaged file is listed with its reason, the others imported, progress reported', async () => {
    const res = await h.invoke('images:import', { jobId: 'import-1', paths: [folder] });
    imported = res.imported;
    expect(res.imported.map((i) => i.name).sort()).toEqual([HAND[0], HAND[1]].sort());
    expect(res.failed).toHaveLength(1);
    expect(res.failed[0].path).toBe(join(folder, 'broken.png'));
    expect(res.failed[0].reason).toMatch(/PNG/);
    expect(res.skipped).toBe(0);
    const first = res.imported.find((i) => i.name === HAND[0])!;
    expect(first).toMatchObject({ format: 'png', path: `../incoming/${HAND[0]}` });
    expect(first.width).toBeGreaterThan(1000);
    const progress = h.eventsOf('job:progress').filter((p) => p.jobId === 'import-1');
    expect(progress.at(-1)).toMatchObject({ kind: 'import', done: 3, total: 3 });
    // the project file has them, with relative paths
    const json = JSON.parse(readFileSync(join(h.root, 'project', PROJECT_FILE_NAME), 'utf8'));
    expect(json.images.map((i: { path: string }) => i.path).sort()).toEqual([`../incoming/${HAND[0]}`, `../incoming/nested/${HAND[1]}`].sort());
  });

  it('import again: duplicates are skipped; DICOM files bring their SOP Instance UID and photometry', async () => {
    const again = await h.invoke('images:import', { jobId: 'import-2', paths: [folder, dataPath('dicom/cr/RG3_UNC.dcm'), dataPath('dicom/cr/RG2_UNC.dcm')] });
    expect(again.skipped).toBe(2);
    expect(again.imported.map((i) => i.name)).toEqual(['RG3_UNC.dcm', 'RG2_UNC.dcm']);
    const [rg3, rg2] = again.imported;
    expect(rg3).toMatchObject({ format: 'dicom', width: 1760, height: 1760, dicom: { photometric: 'MONOCHROME1' } });
    expect(rg3.dicom?.sopInstanceUid).toMatch(/^[0-9.]+$/);
    expect(rg2).toMatchObject({ width: 1760, height: 2140, dicom: { photometric: 'MONOCHROME2' } });
    const third = await h.invoke('images:import', { jobId: 'import-3', paths: [dataPath('dicom/cr/RG3_UNC.dcm'), join(h.root, 'no-such-file.png')] });
    expect(third.skipped).toBe(1);
    expect(third.failed).toEqual([{ path: join(h.root, 'no-such-file.png'), reason: expect.stringMatching(/not found/) }]);
    imported.push(rg3, rg2);
  });

  it('a job id in use is refused; job:cancel stops an import and keeps what was imported', async () => {
    const other = harness();
    try {
      await other.invoke('project:create', { dir: join(other.root, 'p') });
      const running = other.invoke('images:import', { jobId: 'big', paths: [dataPath('landmarks/hand')] });
      await expect(other.invoke('images:import', { jobId: 'big', paths: [folder] })).rejects.toThrow(/already running/);
      // cancel after the first file
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (other.eventsOf('job:progress').some((p) => p.jobId === 'big' && p.done >= 1)) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      });
      await expect(other.invoke('job:cancel', { jobId: 'big' })).resolves.toEqual({ cancelled: true });
      const res = await running;
      expect(res.imported.length).toBeGreaterThanOrEqual(1);
      expect(res.imported.length).toBeLessThan(9);
      expect((await other.invoke('project:get'))!.images).toHaveLength(res.imported.length);
      await expect(other.invoke('job:cancel', { jobId: 'big' })).resolves.toEqual({ cancelled: false }); // finished
    } finally {
      await other.dispose();
    }
  });

  it('thumbnails: small 8-bit PNG data URLs at the asked size', async () => {
    const hand = imported.find((i) => i.name === HAND[0])!;
    const { dataUrl } = await h.invoke('images:thumbnail', { imageId: hand.id });
    expect(dataUrl).toMatch(/^data:image\/png;base64,/);
    const png = pngOf(dataUrl);
    expect(Math.max(png.width, png.height)).toBe(128);
    expect(png.height / png.width).toBeCloseTo(hand.height / hand.width, 1);
    const small = pngOf((await h.invoke('images:thumbnail', { imageId: hand.id, size: 32 })).dataUrl);
    expect(Math.max(small.width, small.height)).toBe(32);
    const rg3 = imported.find((i) => i.name === 'RG3_UNC.dcm')!;
    const mono1 = pngOf((await h.invoke('images:thumbnail', { imageId: rg3.id, size: 64 })).dataUrl);
    expect(mono1.width).toBe(64);
    await expect(h.invoke('images:thumbnail', { imageId: 'img-999' })).rejects.toThrow(/no image 'img-999'/);
  });

  it('pixels of a hand PNG: uint8, the right header and byte length', async () => {
    const hand = imported.find((i) => i.name === HAND[0])!;
    const { header, body } = await readPixels(h.table.session, hand.id);
    expect(header).toMatchObject({ width: hand.width, height: hand.height, dtype: 'uint8', invert: false });
    expect(body.length).toBe(hand.width * hand.height);
    expect(header.min).toBeGreaterThanOrEqual(0);
    expect(header.max).toBeLessThanOrEqual(255);
    expect(header.windowWidth).toBeGreaterThan(0);
    const record = await readImage(dataPath('landmarks/hand', HAND[0]));
    expect(body[1234]).toBe(record.pixels[1234]);
    // cached: the same payload object
    expect(await readPixels(h.table.session, hand.id)).toBe(await readPixels(h.table.session, hand.id));
  });

  it('pixels of CR DICOMs: uint16 stored values; MONOCHROME1 flagged invert with its stored values', async () => {
    const rg2 = imported.find((i) => i.name === 'RG2_UNC.dcm')!;
    const p2 = await readPixels(h.table.session, rg2.id);
    expect(p2.header).toMatchObject({ width: 1760, height: 2140, dtype: 'uint16', invert: false, spacing: [expect.any(Number), expect.any(Number)] });
    expect(p2.body.length).toBe(1760 * 2140 * 2);
    const rg3 = imported.find((i) => i.name === 'RG3_UNC.dcm')!;
    const p3 = await readPixels(h.table.session, rg3.id);
    expect(p3.header).toMatchObject({ width: 1760, height: 1760, dtype: 'uint16', invert: true });
    expect(p3.body.length).toBe(1760 * 1760 * 2);
    // main/io inverted MONOCHROME1 on read; the viewer gets the stored values back (10 bits: 1023 − v)
    const record = await readImage(dataPath('dicom/cr/RG3_UNC.dcm'));
    const stored = new Uint16Array(p3.body.buffer, p3.body.byteOffset, 1760 * 1760);
    for (const i of [0, 1000, 1760 * 880 + 880]) expect(stored[i]).toBe(1023 - record.pixels[i]);
    // the file's own VOI window, in stored units (applied before MONOCHROME1's inversion, as DICOM orders it)
    expect(p3.header).toMatchObject({ windowCenter: 550, windowWidth: 1024 });
  });

  it('template: a custom set, points placed and removed; a built-in set by id', async () => {
    const [a, b] = imported;
    await expect(h.invoke('landmarks:setTemplate', { imageId: a.id })).rejects.toThrow(/choose a landmark set/);
    let t = await h.invoke('landmarks:setTemplate', { imageId: a.id, names: ['tip', 'base', 'joint'] });
    expect(t).toMatchObject({ imageId: a.id, setId: 'custom-1', names: ['tip', 'base', 'joint'], points: {} });
    t = await h.invoke('landmarks:setTemplatePoint', { name: 'tip', point: { x: 313, y: 2247 } });
    t = await h.invoke('landmarks:setTemplatePoint', { name: 'base', point: { x: 352, y: 2160 } });
    expect(t.points).toEqual({ tip: { x: 313, y: 2247 }, base: { x: 352, y: 2160 } });
    t = await h.invoke('landmarks:setTemplatePoint', { name: 'base', point: null });
    expect(Object.keys(t.points)).toEqual(['tip']);
    await expect(h.invoke('landmarks:setTemplatePoint', { name: 'nope', point: { x: 1, y: 1 } })).rejects.toThrow(/not in the template's set/);
    await expect(h.invoke('landmarks:setTemplatePoint', { name: 'base', point: { x: 1e6, y: 1 } })).rejects.toThrow(/outside the image/);
    await expect(h.invoke('landmarks:setTemplate', { imageId: a.id, names: ['x', 'x'] })).rejects.toThrow(/appears twice/);
    const hand = await h.invoke('landmarks:setTemplate', { imageId: b.id, setId: 'hand-37' });
    expect(hand.names).toHaveLength(37);
    expect(hand.points).toEqual({});
    await expect(h.invoke('landmarks:setTemplate', { imageId: b.id, setId: 'hand-37', names: ['a'] })).rejects.toThrow(/built-in/);
    // back to the custom set on the first image
    t = await h.invoke('landmarks:setTemplate', { imageId: a.id, setId: 'custom-1' });
    t = await h.invoke('landmarks:setTemplatePoint', { name: 'tip', point: { x: 313, y: 2247 } });
    t = await h.invoke('landmarks:setTemplatePoint', { name: 'base', point: { x: 352, y: 2160 } });
    t = await h.invoke('landmarks:setTemplatePoint', { name: 'joint', point: { x: 488, y: 2281 } });
    expect(Object.keys(t.points)).toHaveLength(3);
    const snapshot = await h.invoke('project:get');
    expect(snapshot!.landmarkSets.find((s) => s.id === 'custom-1')).toMatchObject({ builtIn: false, names: ['tip', 'base', 'joint'] });
  });

  it('setPoint is on disk at once (well within a second); accept too', async () => {
    const b = imported[1];
    const t0 = Date.now();
    const res = await h.invoke('landmarks:setPoint', { imageId: b.id, name: 'base', point: { x: 405.5, y: 1891.25 } });
    expect(res).toMatchObject({ imageId: b.id, accepted: false, points: [{ name: 'base', x: 405.5, y: 1891.25, status: 'corrected' }] });
    const onDisk = () => JSON.parse(readFileSync(join(h.root, 'project', PROJECT_FILE_NAME), 'utf8'));
    expect(onDisk().landmarks.find((l: { imageId: string }) => l.imageId === b.id).points[0]).toMatchObject({ name: 'base', x: 405.5, y: 1891.25, status: 'corrected' });
    expect(Date.now() - t0).toBeLessThan(1000);
    const withTip = await h.invoke('landmarks:setPoint', { imageId: b.id, name: 'tip', point: { x: 356, y: 1992 } });
    expect(withTip.points.map((p) => p.name)).toEqual(['tip', 'base']); // the set's order
    const accepted = await h.invoke('landmarks:accept', { imageId: b.id, accepted: true });
    expect(accepted.accepted).toBe(true);
    expect(onDisk().landmarks.find((l: { imageId: string }) => l.imageId === b.id).accepted).toBe(true);
    await expect(h.invoke('landmarks:setPoint', { imageId: b.id, name: 'elbow', point: { x: 1, y: 1 } })).rejects.toThrow(/not in the template's set/);
    // autosave reported the change
    expect(h.eventsOf('project:changed').some((e) => /landmark corrected/.test(e.reason))).toBe(true);
  });

  it('export:landmarks: .mrk.json per image with matching coordinates; csv, wide csv, COCO; ISBI refuses partial images', async () => {
    const out = join(h.root, 'export');
    const mrk = await h.invoke('export:landmarks', { format: 'mrk.json', dir: out });
    const [a, b] = imported;
    const stem = (name: string) => name.replace(/\.png$/, '');
    expect(mrk.files.sort()).toEqual([join(out, `${stem(a.name)}.mrk.json`), join(out, `${stem(b.name)}.mrk.json`)].sort());
    const bTable = await readSlicerMarkupsFile(join(out, `${stem(b.name)}.mrk.json`));
    expect(bTable.landmarks).toEqual(['tip', 'base', 'joint']);
    expect(bTable.images[0].points[1]).toMatchObject({ x: 405.5, y: 1891.25 });
    expect(bTable.images[0].points[2]).toBeNull();
    const aTable = await readSlicerMarkupsFile(join(out, `${stem(a.name)}.mrk.json`));
    expect(aTable.images[0].points[2]).toMatchObject({ x: 488, y: 2281 });

    const csv = await h.invoke('export:landmarks', { format: 'csv', dir: out });
    expect(csv.files).toEqual([join(out, 'landmarks.csv')]);
    const long = await readLandmarkFile(csv.files[0]);
    expect(long.images.map((i) => i.image).sort()).toEqual([a.name, b.name].sort());
    expect(readFileSync(csv.files[0], 'utf8').split('\n')[0]).toBe('image,landmark,x,y,confidence');
    const wide = await h.invoke('export:landmarks', { format: 'wide-csv', dir: out });
    expect(readFileSync(wide.files[0], 'utf8').split('\n')[0]).toBe('image,x1,y1,x2,y2,x3,y3');
    const coco = await h.invoke('export:landmarks', { format: 'coco', dir: out });
    const cocoJson = JSON.parse(readFileSync(coco.files[0], 'utf8'));
    expect(cocoJson.categories[0].keypoints).toEqual(['tip', 'base', 'joint']);
    expect(cocoJson.images.map((i: { width: number }) => i.width).every((w: number) => w > 1000)).toBe(true);
    await expect(h.invoke('export:landmarks', { format: 'isbi-txt', dir: out })).rejects.toThrow(/unplaced landmarks.*3177/);
    expect(existsSync(join(out, `${stem(a.name)}.txt`))).toBe(false); // nothing half-written
  });

  it('a moved image is missing in the snapshot, with the path and the fix; thumbnails say so', async () => {
    const moved = join(folder, HAND[0]);
    renameSync(moved, `${moved}.away`);
    try {
      const snapshot = await h.invoke('project:get');
      const entry = snapshot!.images.find((i) => i.name === HAND[0])!;
      expect(entry.missing).toBe(true);
      expect(entry.missingReason).toContain(moved);
      expect(entry.missingReason).toMatch(/move it back.*import it again/);
      await expect(h.invoke('images:thumbnail', { imageId: entry.id, size: 48 })).rejects.toThrow(/file not found/);
      // reopening works and still says so
      const reopened = await h.invoke('project:open', { dir: join(h.root, 'project') });
      expect(reopened.images.find((i) => i.name === HAND[0])!.missing).toBe(true);
    } finally {
      renameSync(`${moved}.away`, moved);
    }
    expect((await h.invoke('project:get'))!.images.every((i) => !i.missing)).toBe(true);
  });

  it('training channels without a model give clear errors', async () => {
    await expect(h.invoke('train:losses', { runId: 'run-x' })).rejects.toThrow(/no run 'run-x'/);
    await expect(h.invoke('landmarks:propagate', { jobId: 'p1' })).rejects.toThrow(/no trained model yet/);
    // user mistakes carry their own codes (HTTP 404 / 409 in browser mode), not 'internal'
    expect(toErrorPayload(await errorOf(h.invoke('train:losses', { runId: 'run-x' }))).code).toBe('not_found');
    expect(toErrorPayload(await errorOf(h.invoke('images:thumbnail', { imageId: 'img-999' }))).code).toBe('not_found');
    expect(toErrorPayload(await errorOf(h.invoke('project:open', { dir: join(h.root, 'nope') }))).code).toBe('not_found');
    expect(toErrorPayload(await errorOf(h.invoke('fs:list', { dir: join(h.root, 'nope') }))).code).toBe('not_found');
    expect(toErrorPayload(await errorOf(h.invoke('landmarks:propagate', { jobId: 'p1' }))).code).toBe('precondition');
    const settings = { stage: '1', steps: 1, size: 64, batch: 1, lr: 0.001, lrHalveEvery: 10, clusters: 8, seed: 0, checkpointEvery: 1, centreSensitive: false };
    await expect(h.invoke('train:start', { engine: 'torch', backend: 'wasm', settings })).rejects.toThrow(/tfjs backend/);
    const options = await h.invoke('train:options');
    expect(options.engines.map((e) => e.id)).toEqual(['torch', 'tfjs']);
    expect(options.paperDefaults).toMatchObject({ size: 448, batch: 4, steps: 100_000, stage: 'both', clusters: 16 });
    expect(options.engines.find((e) => e.id === 'tfjs')!.backends!.find((b) => b.name === 'wasm')!.available).toBe(true);
  });

  it('images:remove drops the image, its landmarks, and the template that used it', async () => {
    const a = imported[0];
    const snapshot = await h.invoke('images:remove', { imageIds: [a.id] });
    expect(snapshot.images.some((i) => i.id === a.id)).toBe(false);
    expect(snapshot.template).toBeNull();
    await expect(h.invoke('images:remove', { imageIds: ['img-404'] })).rejects.toThrow(/no image 'img-404'/);
    // ids are never reused
    const again = await h.invoke('images:import', { jobId: 'import-4', paths: [join(folder, HAND[0])] });
    expect(again.imported[0].id).not.toBe(a.id);
  });
});

describe.skipIf(!hasSharedData)('the sample project with the team’s hand images', () => {
  it('is created once in the config folder, importing the sample folder in place', async () => {
    const h = harness({ sampleImagesDir: dataPath('landmarks/hand') });
    try {
      const first = await h.invoke('project:openSample');
      expect(first.dir).toBe(join(h.root, 'config', 'sample-project'));
      expect(first.images).toHaveLength(9);
      expect(first.images.every((i) => i.path.includes('landmarks/hand/') && !i.missing)).toBe(true);
      await h.invoke('project:close');
      const again = await h.invoke('project:openSample');
      expect(again.images.map((i) => i.id)).toEqual(first.images.map((i) => i.id));
    } finally {
      await h.dispose();
    }
  });
});
