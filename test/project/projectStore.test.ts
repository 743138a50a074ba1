/** The project store on real files: round trip, relative paths, autosave timing, missing images, bad files. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecentProjects, defaultConfigDir } from '../../main/project/appConfig';
import { writeFileAtomic } from '../../main/io/atomicWrite';
import { PROJECT_FILE_NAME, PROJECT_SCHEMA_ID, parseProjectFile } from '../../main/project/projectFile';
import { ProjectStore, resolveStoredPath, toStoredPath } from '../../main/project/projectStore';

const root = mkdtempSync(join(tmpdir(), 'ld-project-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `p${++n}`);
const readJson = (dir: string) => JSON.parse(readFileSync(join(dir, PROJECT_FILE_NAME), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function addImage(store: ProjectStore, file: string, width = 10, height = 8) {
  return store.change('images imported', (d) => {
    const image = { id: `img-${d.nextImageNumber++}`, name: file.split(sep).pop()!, path: store.storedPath(file), format: 'png' as const, width, height, addedAt: new Date().toISOString() };
    d.images.push(image);
    return image;
  });
}

describe('paths', () => {
  it('stores paths relative to the project folder with forward slashes, ../ included', () => {
    expect(toStoredPath('/a/project', '/a/project/images/x.png')).toBe('images/x.png');
    expect(toStoredPath('/a/project', '/a/data/hand/x.png')).toBe('../data/hand/x.png');
    expect(toStoredPath('/a/project', '/b/c.dcm')).toBe('../../b/c.dcm');
    expect(resolveStoredPath('/a/project', '../data/hand/x.png')).toBe(join('/a', 'data', 'hand', 'x.png'));
    expect(resolveStoredPath('/a/project', '/abs/x.png')).toBe('/abs/x.png');
    expect(resolveStoredPath('/a/project', 'C:/other/x.png')).toBe('C:/other/x.png'); // another Windows drive stays absolute
  });
});

describe('create, save, open', () => {
  it('round-trips a project: versioned, schema id, relative image paths, template, landmarks', async () => {
    const dir = fresh();
    const images = join(root, 'shared-images');
    mkdirSync(images, { recursive: true });
    writeFileSync(join(images, 'a.png'), 'x');
    const store = await ProjectStore.create(dir, 'Hands');
    expect(existsSync(join(dir, PROJECT_FILE_NAME))).toBe(true);
    const image = addImage(store, join(images, 'a.png'));
    store.change('template chosen', (d) => (d.template = { imageId: image.id, setId: 'custom-1', names: ['tip', 'base'], points: { tip: { x: 1.5, y: 2 } } }));
    store.change('landmark corrected', (d) =>
      d.landmarks.push({ imageId: image.id, points: [{ name: 'tip', x: 3, y: 4, status: 'corrected' }], accepted: true, updatedAt: new Date().toISOString() }),
    );
    store.close();

    const json = readJson(dir);
    expect(json).toMatchObject({ $schema: PROJECT_SCHEMA_ID, version: 1, name: 'Hands', nextImageNumber: 2 });
    expect(json.images[0].path).toBe('../shared-images/a.png');
    expect(typeof json.savedAt).toBe('string');

    const again = await ProjectStore.open(dir);
    expect(again.data.images[0]).toMatchObject({ id: 'img-1', name: 'a.png', width: 10, height: 8 });
    expect(again.imagePath(again.data.images[0])).toBe(join(images, 'a.png'));
    expect(again.data.template?.points.tip).toEqual({ x: 1.5, y: 2 });
    expect(again.data.landmarks[0].points[0]).toMatchObject({ name: 'tip', x: 3, y: 4, status: 'corrected' });
    expect(again.missingReason(again.data.images[0])).toBeUndefined();
    // the file itself may be named
    expect((await ProjectStore.open(join(dir, PROJECT_FILE_NAME))).dir).toBe(dir);
    again.close();
  });

  it('refuses to create over an existing project, and to open a folder without one', async () => {
    const dir = fresh();
    (await ProjectStore.create(dir, undefined)).close();
    await expect(ProjectStore.create(dir, 'again')).rejects.toThrow(/already holds a project/);
    const empty = fresh();
    mkdirSync(empty);
    await expect(ProjectStore.open(empty)).rejects.toThrow(/no LD Studio project here/);
    await expect(ProjectStore.open(join(root, 'nowhere'))).rejects.toThrow(/folder not found/);
  });

  it('names a project after its folder when no name is given', async () => {
    const dir = join(root, 'My Study');
    const store = await ProjectStore.create(dir, undefined);
    expect(store.name).toBe('My Study');
    store.close();
  });
});

describe('atomic writes', () => {
  it('replaces the file whole and leaves no temporary files', async () => {
    const dir = fresh();
    const store = await ProjectStore.create(dir, 'atomic');
    for (let i = 0; i < 20; i++) {
      addImage(store, join(dir, `img${i}.png`));
      store.flush();
      expect(() => parseProjectFile(readFileSync(store.file, 'utf8'), store.file)).not.toThrow();
    }
    expect(readdirSync(dir)).toEqual([PROJECT_FILE_NAME]);
    store.close();
  });

  it('a failed write keeps the old file (writeFileAtomic)', () => {
    const dir = fresh();
    mkdirSync(dir);
    const file = join(dir, 'f.json');
    writeFileAtomic(file, '{"ok":1}');
    expect(() => writeFileAtomic(file, [Buffer.from('{"half":'), 42 as unknown as Uint8Array])).toThrow();
    expect(readFileSync(file, 'utf8')).toBe('{"ok":1}');
    expect(readdirSync(dir)).toEqual(['f.json']);
  });

  it('opening a project removes the temporary files that killed saves left, and nothing else', async () => {
    const dir = fresh();
    (await ProjectStore.create(dir, 'temps')).close();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!; // exited: no process has this pid now
    const ofDead = `${PROJECT_FILE_NAME}.tmp-${deadPid}-${Date.now()}`;
    const oldOfLive = `${PROJECT_FILE_NAME}.tmp-${process.pid}-1`;
    const freshOfLive = `${PROJECT_FILE_NAME}.tmp-${process.pid}-${Date.now()}`; // a save in progress
    const users = `notes.txt.tmp-${deadPid}-1`; // not a project file: the user's, never touched
    for (const name of [ofDead, oldOfLive, freshOfLive, users]) writeFileSync(join(dir, name), '{"half":');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(join(dir, oldOfLive), hourAgo, hourAgo);
    (await ProjectStore.open(dir)).close();
    expect(readdirSync(dir).sort()).toEqual([PROJECT_FILE_NAME, freshOfLive, users].sort());
  });
});

describe('autosave', () => {
  it('writes ~300 ms after the last change, within 1 s while changes keep coming, and at once on flush', async () => {
    const dir = fresh();
    const saves: Array<{ reason: string; at: number }> = [];
    const store = await ProjectStore.create(dir, 'autosave', { onSaved: (reason) => saves.push({ reason, at: Date.now() }) });
    saves.length = 0;
    const t0 = Date.now();
    store.change('renamed', (d) => (d.name = 'autosave 2'));
    expect(readJson(dir).name).toBe('autosave'); // not yet
    await sleep(600);
    expect(readJson(dir).name).toBe('autosave 2');
    expect(saves).toHaveLength(1);
    expect(saves[0].reason).toBe('renamed');
    expect(saves[0].at - t0).toBeGreaterThanOrEqual(250);

    // a stream of changes every 100 ms: still on disk within a second of the first
    saves.length = 0;
    const t1 = Date.now();
    for (let i = 0; i < 14; i++) {
      store.change('renamed', (d) => (d.name = `n${i}`));
      await sleep(100);
    }
    expect(saves.length).toBeGreaterThanOrEqual(1);
    expect(saves[0].at - t1).toBeLessThanOrEqual(1300); // 1 s by design, plus timer slack on a busy machine

    store.change('renamed', (d) => (d.name = 'flushed'));
    expect(store.flush()).toBe(true);
    expect(readJson(dir).name).toBe('flushed');
    expect(store.flush()).toBe(false); // nothing left to write
    store.change('renamed', (d) => (d.name = 'closed'));
    store.close();
    expect(readJson(dir).name).toBe('closed');
    expect(() => store.change('x', () => undefined)).toThrow(/closed/);
  });
});

describe('missing images', () => {
  it('a moved image is reported missing, with the path and how to fix it; the project still opens', async () => {
    const dir = fresh();
    const imageDir = join(root, 'moving');
    mkdirSync(imageDir, { recursive: true });
    writeFileSync(join(imageDir, 'b.png'), 'x');
    const store = await ProjectStore.create(dir, 'moved');
    addImage(store, join(imageDir, 'b.png'));
    store.close();
    renameSync(join(imageDir, 'b.png'), join(imageDir, 'b-moved.png'));
    const again = await ProjectStore.open(dir);
    const reason = again.missingReason(again.data.images[0]);
    expect(reason).toContain(join(imageDir, 'b.png'));
    expect(reason).toMatch(/move it back/);
    expect(reason).toMatch(/import it again/);
    again.close();
  });
});

describe('bad project files', () => {
  const withFile = (text: string) => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, PROJECT_FILE_NAME), text);
    return dir;
  };

  it('truncated JSON: names the file and says it is damaged', async () => {
    const good = fresh();
    (await ProjectStore.create(good, 'x')).close();
    const text = readFileSync(join(good, PROJECT_FILE_NAME), 'utf8');
    const dir = withFile(text.slice(0, text.length / 2));
    await expect(ProjectStore.open(dir)).rejects.toThrow(new RegExp(`${PROJECT_FILE_NAME.replace('.', '\\.')}: not valid JSON.*damaged`));
    await expect(ProjectStore.open(withFile(''))).rejects.toThrow(/the file is empty/);
  });

  it('text that is not JSON: names the file, never quotes its content (a linked /etc/passwd stays private)', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const secret = join(root, `passwd-${n}`);
    writeFileSync(secret, 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n');
    const file = join(dir, PROJECT_FILE_NAME);
    symlinkSync(secret, file);
    const err = await ProjectStore.open(dir).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toContain(`${file}: not valid JSON (at line 1, column 1)`);
    expect(err?.message.replace(file, '')).not.toMatch(/root|bash|daemon|x:0/);
  });

  it('a project folder that cannot be made fails at once with a message naming it (no recursive mkdir loop under /proc)', async () => {
    await expect(ProjectStore.create('/proc/nope', 'x')).rejects.toThrow(/^\/proc\/nope: cannot create the project folder here \(ENOENT/);
    await expect(ProjectStore.create('/proc/nope/deeper', 'x')).rejects.toThrow(/^\/proc\/nope\/deeper: cannot create the project folder here/);
    const file = join(root, `a-file-${n}`);
    writeFileSync(file, 'x');
    await expect(ProjectStore.create(join(file, 'sub'), 'x')).rejects.toThrow(/cannot create the project folder here \(ENOTDIR/);
  });

  it('a newer format version is refused with a message to update', async () => {
    const dir = withFile(JSON.stringify({ $schema: 'ld-studio/project-v2', version: 2, name: 'future' }));
    await expect(ProjectStore.open(dir)).rejects.toThrow(/newer LD Studio \(project format version 2; this version reads up to 1\): update LD Studio/);
  });

  it('another kind of JSON, and wrong fields, are named', async () => {
    await expect(ProjectStore.open(withFile('[1,2]'))).rejects.toThrow(/not an LD Studio project file/);
    await expect(ProjectStore.open(withFile(JSON.stringify({ $schema: 'https://example.com/other', version: 1 })))).rejects.toThrow(/\$schema is 'https:\/\/example.com\/other'/);
    const good = fresh();
    (await ProjectStore.create(good, 'x')).close();
    const json = readJson(good);
    json.images = [{ id: 'img-1', name: 'a', path: 'a.png', format: 'gif', width: -1, height: 2, addedAt: 'now' }];
    const dir = withFile(JSON.stringify(json));
    await expect(ProjectStore.open(dir)).rejects.toThrow(/images\[0\]\.format.*images\[0\]\.width/s);
    json.images = [];
    json.template = { imageId: 'img-9', setId: 's', names: ['a'], points: {} };
    await expect(ProjectStore.open(withFile(JSON.stringify(json)))).rejects.toThrow(/template\.imageId: image 'img-9' is not among the project's images/);
  });
});

describe('config folder and recent projects', () => {
  it('LD_STUDIO_CONFIG_DIR wins, then userData, then the platform folder', () => {
    const previous = process.env.LD_STUDIO_CONFIG_DIR;
    try {
      process.env.LD_STUDIO_CONFIG_DIR = join(root, 'cfg');
      expect(defaultConfigDir('/user/data')).toBe(join(root, 'cfg'));
      delete process.env.LD_STUDIO_CONFIG_DIR;
      expect(defaultConfigDir('/user/data')).toBe('/user/data');
      expect(defaultConfigDir()).toMatch(/ld-studio$/);
    } finally {
      if (previous === undefined) delete process.env.LD_STUDIO_CONFIG_DIR;
      else process.env.LD_STUDIO_CONFIG_DIR = previous;
    }
  });

  it('keeps the most recent first, once each, and marks vanished projects', async () => {
    const recent = new RecentProjects(join(root, 'recent-cfg'));
    expect(recent.list()).toEqual([]);
    const a = fresh();
    const b = fresh();
    (await ProjectStore.create(a, 'A')).close();
    (await ProjectStore.create(b, 'B')).close();
    recent.touch(a, 'A');
    recent.touch(b, 'B');
    recent.touch(a, 'A');
    expect(recent.list().map((p) => p.name)).toEqual(['A', 'B']);
    rmSync(b, { recursive: true });
    expect(recent.list().map((p) => p.missing)).toEqual([false, true]);
    writeFileSync(recent.file, '{broken');
    expect(recent.list()).toEqual([]); // a damaged list starts over
  });
});
