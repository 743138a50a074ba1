/**
 * Issue 16 (hardening): the malformed-input corpus (./corpus.ts) through the app's import handler and
 * the exports of what it imported. No crash, every refused file named with a reason a person can
 * read, every good file imported, and the good DICOMs exported as DICOM-SEG, SR and landmark files.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMaskRle, type ImageEntry, type ImportFailure } from '../../common/api';
import { toErrorPayload } from '../../main/ipc/errors';
import { readImage } from '../../main/io';
import { hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { harness, type Harness } from '../ipc/harness';
import { makeCorpus, problemWithReason, type Corpus } from './corpus';

const CODES = {
  category: { scheme: 'SCT', value: '123037004', meaning: 'Anatomical Structure' },
  type: { scheme: 'SCT', value: '71341001', meaning: 'Femur' },
};

describe.skipIf(!hasSharedData)(`malformed inputs: import and export${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let root: string;
  let corpus: Corpus;
  let h: Harness;
  let result: { imported: ImageEntry[]; failed: ImportFailure[]; skipped: number; skippedFiles: ImportFailure[] };
  const byName = new Map<string, ImageEntry>();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ld-reliability-'));
    corpus = makeCorpus(root);
    h = harness();
    await h.invoke('project:create', { dir: join(h.root, 'project') });
    result = await h.invoke('images:import', { jobId: 'corpus', paths: [corpus.dir] });
    for (const image of result.imported) byName.set(image.name, image);
  });
  afterAll(async () => {
    await h?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
    // emscripten sets process.exitCode when its C code calls exit(): a bad file must not do that
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('every file is accounted for once: imported, or refused with a readable reason attached to its path', () => {
    const failed = new Map(result.failed.map((f) => [f.path, f.reason]));
    expect(result.skippedFiles).toEqual([]); // each damaged DICOM has its own SOP Instance UID
    for (const file of corpus.files) {
      const name = basename(file.path);
      const imported = byName.has(name);
      const reason = failed.get(file.path);
      expect(imported !== (reason !== undefined), `${name}: imported ${imported}, refused ${reason}`).toBe(true);
      if (reason !== undefined) expect(problemWithReason(reason), `${name}: ${reason}`).toBeUndefined();
      if (file.good) expect(imported, `${name} is a good file: ${reason}`).toBe(true);
      else if (!file.mayDecode) expect(reason, `${name} (${file.kind}) was imported`).toBeDefined();
    }
    expect(result.imported.length + result.failed.length).toBe(corpus.files.length);
  });

  it('the good files come in whole: sizes and formats as read on their own', async () => {
    for (const file of corpus.good) {
      const entry = byName.get(basename(file.path))!;
      const record = await readImage(file.source);
      expect([entry.format, entry.width, entry.height]).toEqual([record.format, record.width, record.height]);
      expect(entry.missing).toBeFalsy();
    }
  });

  it('explicit-VR data under another transfer syntax is refused as such, not as "truncated" or "not an image"', () => {
    const failed = new Map(result.failed.map((f) => [f.path, f.reason]));
    for (const file of corpus.bad.filter((f) => /^says (implicit|explicit) VR|big endian/.test(f.kind))) {
      expect(failed.get(file.path), file.kind).toMatch(/^the data set is encoded in (Ex|Im)plicit VR although its transfer syntax [\d.]+ says (Ex|Im)plicit VR( Big Endian)?; /);
    }
  });

  it('DICOM-SEG of the good DICOMs: one file per radiograph and one for the CT series', async () => {
    const dicoms = corpus.good.filter((f) => f.path.endsWith('.dcm')).map((f) => byName.get(basename(f.path))!);
    expect(dicoms).toHaveLength(3);
    for (const image of dicoms) {
      const mask = new Uint8Array(image.width * image.height);
      mask.fill(1, 10 * image.width, 20 * image.width);
      const rle = encodeMaskRle(mask, image.width, image.height);
      await h.invoke('segment:saveMask', { imageId: image.id, mask: { width: rle.width, height: rle.height, runs: [...rle.runs] } });
    }
    const out = join(root, 'seg');
    mkdirSync(out);
    const seg = await h.invoke('export:seg', { file: out, label: 'Femur', ...CODES, imageIds: dicoms.map((d) => d.id) });
    expect(seg.files).toHaveLength(3);
    for (const f of seg.files!) expect(existsSync(f), f).toBe(true);
    expect(seg.frames).toBe(3);
  });

  it('a damaged DICOM that was imported all the same exports, or is refused naming the image', async () => {
    const kept = corpus.bad.filter((f) => f.path.endsWith('.dcm') && byName.has(basename(f.path)));
    for (const file of kept) {
      const image = byName.get(basename(file.path))!;
      const mask = new Uint8Array(image.width * image.height).fill(1, 0, image.width);
      const rle = encodeMaskRle(mask, image.width, image.height);
      await h.invoke('segment:saveMask', { imageId: image.id, mask: { width: rle.width, height: rle.height, runs: [...rle.runs] } });
      const outcome = await h.invoke('export:seg', { file: join(root, `${image.id}.seg.dcm`), label: 'Femur', ...CODES, imageIds: [image.id] }).then(
        (r) => ({ written: r.files?.[0] ?? r.file }),
        (e: unknown) => ({ refused: toErrorPayload(e).message }),
      );
      if ('written' in outcome) expect(existsSync(outcome.written)).toBe(true);
      else {
        expect(problemWithReason(outcome.refused), outcome.refused).toBeUndefined();
        expect(outcome.refused).toContain(image.name);
      }
    }
  });

  it('landmarks on a good DICOM: CSV, .mrk.json, COCO and SR are written', async () => {
    const image = byName.get(basename(corpus.good.find((f) => f.path.includes('RG2_UNC'))!.path))!;
    await h.invoke('landmarks:setTemplate', { imageId: image.id, names: ['a', 'b'] });
    await h.invoke('landmarks:setTemplatePoint', { name: 'a', point: { x: 100, y: 200 } });
    await h.invoke('landmarks:setTemplatePoint', { name: 'b', point: { x: 300, y: 400 } });
    const out = join(root, 'landmarks');
    for (const format of ['csv', 'mrk.json', 'coco'] as const) {
      const { files } = await h.invoke('export:landmarks', { format, dir: out });
      expect(files.length, format).toBeGreaterThan(0);
      for (const f of files) expect(existsSync(f), f).toBe(true);
    }
    const sr = await h.invoke('export:sr', { dir: out });
    expect(sr.files.map((f) => basename(f))).toContain(`${image.name.replace(/\.dcm$/, '')}.sr.dcm`);
    for (const s of sr.skipped) expect(problemWithReason(s.reason), s.reason).toBeUndefined();
  });
});

describe.skipIf(!hasSharedData)(`good files damaged after import${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let root: string;
  let h: Harness;
  afterAll(async () => {
    await h?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('exports and thumbnails either work from what is left or refuse naming the file, never crash', async () => {
    root = mkdtempSync(join(tmpdir(), 'ld-reliability-'));
    const corpus = makeCorpus(root);
    const later = join(root, 'later');
    mkdirSync(later);
    h = harness();
    await h.invoke('project:create', { dir: join(h.root, 'project') });
    // copies of the good files, imported whole, then overwritten by a damaged variant of the same source
    const damage = ['cut half way', 'empty', 'cut half way', 'garbage', 'cut in the header']; // header whole, pixels gone, …
    const plan = corpus.good.map((good, i) => {
      const path = join(later, basename(good.path));
      copyFileSync(good.path, path);
      return { path, damaged: corpus.bad.find((b) => b.source === good.source && b.kind === damage[i % damage.length])! };
    });
    const { imported } = await h.invoke('images:import', { jobId: 'later', paths: [later] });
    expect(imported).toHaveLength(plan.length);
    for (const image of imported) {
      const mask = new Uint8Array(image.width * image.height).fill(1, 0, image.width);
      const rle = encodeMaskRle(mask, image.width, image.height);
      await h.invoke('segment:saveMask', { imageId: image.id, mask: { width: rle.width, height: rle.height, runs: [...rle.runs] } });
    }
    await h.invoke('landmarks:setTemplate', { imageId: imported[0].id, names: ['a'] });
    await h.invoke('landmarks:setTemplatePoint', { name: 'a', point: { x: 10, y: 20 } });
    for (const { path, damaged } of plan) writeFileSync(path, readFileSync(damaged.path));

    const outcome = async (what: string, name: string, call: () => Promise<unknown>) => {
      const refused = await call().then(
        () => undefined,
        (e: unknown) => toErrorPayload(e).message,
      );
      if (refused !== undefined) {
        expect(problemWithReason(refused), `${what}: ${refused}`).toBeUndefined();
        expect(refused, what).toContain(name);
      }
    };
    for (const image of imported) {
      await outcome(`thumbnail of ${image.name}`, image.name, () => h.invoke('images:thumbnail', { imageId: image.id, size: 64 }));
      if (image.format === 'dicom') {
        await outcome(`SEG of ${image.name}`, image.name, () => h.invoke('export:seg', { file: join(root, `${image.id}.seg.dcm`), label: 'Femur', ...CODES, imageIds: [image.id] }));
      }
    }
    const first = imported[0].name;
    for (const format of ['csv', 'mrk.json', 'coco'] as const) await outcome(`landmarks ${format}`, first, () => h.invoke('export:landmarks', { format, dir: join(root, 'lm') }));
    await outcome('SR', first, async () => {
      const sr = await h.invoke('export:sr', { dir: join(root, 'sr') });
      for (const s of sr.skipped) expect(problemWithReason(s.reason), s.reason).toBeUndefined();
    });
  });
});
