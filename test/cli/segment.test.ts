/** `ld-studio segment` end to end: a tiny trained stage-2 model → prob/mask PNGs at each image's original size. */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { readImage } from '../../main/io';
import { runCli } from '../helpers/cli';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { hasTorch } from '../helpers/torch';

const tmp = () => mkdtempSync(join(tmpdir(), 'ld-segment-'));
const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

describe.skipIf(!hasSharedData)(`ld-studio segment${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let model: string;
  let stage1: string;
  let images: string;
  beforeAll(async () => {
    // a tiny stage-2 model (K = 8): PyTorch where it exists (seconds), else tfjs-wasm
    const engine = hasTorch ? ['--engine', 'torch'] : ['--engine', 'tfjs', '--backend', 'wasm'];
    model = join(tmp(), 'run');
    const r = await runCli(['pretrain', ...engine, '--images', dataPath('landmarks/hand'), '--out', model, '--stage', '2', '--clusters', '8', '--size', '64', '--batch', '1', '--steps', '1']);
    expect(r.code, r.stderr).toBe(0);
    stage1 = join(tmp(), 'stage1');
    const s1 = await runCli(['pretrain', ...engine, '--images', dataPath('landmarks/hand'), '--out', stage1, '--stage', '1', '--size', '32', '--batch', '1', '--steps', '1']);
    expect(s1.code, s1.stderr).toBe(0);

    images = join(tmp(), 'images');
    mkdirSync(images);
    copyFileSync(dataPath('landmarks/hand/3167.png'), join(images, '3167.png'));
    copyFileSync(dataPath('landmarks/hand/5245.png'), join(images, '5245.png'));
    const png = new PNG({ width: 37, height: 53, colorType: 2, inputColorType: 2, inputHasAlpha: false });
    png.data = Buffer.from(Uint8Array.from({ length: 37 * 53 * 3 }, (_, i) => (i * 37) % 256));
    writeFileSync(join(images, 'small rgb.png'), PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
    writeFileSync(join(images, 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7]));
    writeFileSync(join(images, 'notes.txt'), 'not an image');
  });

  test('writes <stem>_prob.png (16-bit) and <stem>_mask.png (0/255) at the original sizes; unreadable images are skipped and named', async () => {
    const out = join(tmp(), 'out');
    const r = await runCli(['segment', '--model', model, '--images', images, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const report = summaryOf(r.stdout);
    expect(report).toMatchObject({ method: 'attention', threshold: 0.5, cluster: 0, fit: 'square', probBits: 16, images: { found: 4, written: 3 } });
    expect(report.size).toBe(64 + 16); // the training size's base size, 64·512/448 → 73, rounded to 16
    expect(report.model.clusters).toBe(8);
    expect(report.images.skipped).toHaveLength(1);
    expect(report.images.skipped[0].file).toMatch(/broken\.png$/);
    expect(r.stderr).toMatch(/skipped .*broken\.png/);
    // progress through the command line's job host (stderr is not a terminal: one line per image)
    expect(r.stderr).toMatch(/\] 1\/4 \S.* ETA \d+s\n/);
    expect(r.stderr).toMatch(/\] 4\/4 done\n/);
    expect(report.cancelled).toBe(false);
    expect(existsSync(join(out, 'segment.json'))).toBe(true);

    for (const stem of ['3167', '5245', 'small rgb']) {
      const source = await readImage(join(images, `${stem}.png`));
      const prob = await readImage(join(out, `${stem}_prob.png`));
      const mask = await readImage(join(out, `${stem}_mask.png`));
      expect([prob.width, prob.height]).toEqual([source.width, source.height]);
      expect([mask.width, mask.height]).toEqual([source.width, source.height]);
      expect(prob.bitsStored).toBe(16);
      expect(mask.bitsStored).toBe(8);
      expect(mask.pixels.every((v) => v === 0 || v === 255)).toBe(true);
      // mask = probability > 0.5, pixel for pixel
      let mismatches = 0;
      for (let i = 0; i < mask.pixels.length; i++) if ((prob.pixels[i] / 65535 > 0.5) !== (mask.pixels[i] === 255)) mismatches++;
      expect(mismatches / mask.pixels.length).toBeLessThan(1e-3); // only 16-bit rounding at the threshold
      const entry = report.results.find((e: { image: string }) => e.image.endsWith(`${stem}.png`));
      expect(entry).toMatchObject({ width: source.width, height: source.height });
      expect(entry.foreground).toBeGreaterThanOrEqual(0);
    }
  });

  test('--method cos, --prob-bits 8, --threshold, --size and a cached ONNX export of the run', async () => {
    const out = join(tmp(), 'out');
    const r = await runCli(['segment', '--model', model, '--images', images, '--out', out, '--method', 'cos', '--prob-bits', '8', '--threshold', '0.3', '--size', '96', '--fit', 'long-side']);
    expect(r.code, r.stderr).toBe(0);
    const report = summaryOf(r.stdout);
    expect(report).toMatchObject({ method: 'cos', threshold: 0.3, size: 96, fit: 'long-side', probBits: 8 });
    expect(report.model.cached).toBe(true); // exported by the first test
    const prob = await readImage(join(out, '3167_prob.png'));
    expect(prob.bitsStored).toBe(8);
    const source = await readImage(join(images, '3167.png'));
    expect([prob.width, prob.height]).toEqual([source.width, source.height]);
    expect(JSON.parse(readFileSync(join(out, 'segment.json'), 'utf8')).results).toHaveLength(3);
  });

  test('files already in --out are not replaced without --overwrite (named, nothing written); with it they are', async () => {
    const out = join(tmp(), 'out');
    mkdirSync(out);
    const mine = join(out, '3167_mask.png');
    writeFileSync(mine, 'the user’s own file');
    const refused = await runCli(['segment', '--model', model, '--images', images, '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(mine);
    expect(refused.stderr).toMatch(/--overwrite/);
    expect(readFileSync(mine, 'utf8')).toBe('the user’s own file');
    expect(existsSync(join(out, 'segment.json'))).toBe(false);
    const r = await runCli(['segment', '--model', model, '--images', images, '--out', out, '--overwrite']);
    expect(r.code, r.stderr).toBe(0);
    expect((await readImage(mine)).bitsStored).toBe(8);
  });

  test('Ctrl+C stops between images: the files written so far are kept and listed, exit 130', async () => {
    const many = join(tmp(), 'many');
    mkdirSync(many);
    const names = Array.from({ length: 40 }, (_, i) => `hand-${String(i).padStart(2, '0')}.png`);
    for (const name of names) copyFileSync(dataPath('landmarks/hand/3167.png'), join(many, name));
    const out = join(tmp(), 'out');
    const r = await runCli(['segment', '--model', model, '--images', many, '--out', out], { signalAfter: (stderr) => /\] 1\/40 /.test(stderr) });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/stopping after this image \(Ctrl\+C again to quit now\)/);
    const report = summaryOf(r.stdout);
    expect(report.cancelled).toBe(true);
    const written: string[] = report.results.map((e: { image: string }) => e.image);
    expect(written.length).toBeGreaterThanOrEqual(1);
    expect(written.length).toBeLessThan(names.length);
    expect(JSON.parse(readFileSync(join(out, 'segment.json'), 'utf8')).results).toHaveLength(written.length);
    // the images done are the first ones, each with both files; none after them was begun
    names.forEach((name, i) => {
      const stem = name.replace(/\.png$/, '');
      expect(existsSync(join(out, `${stem}_mask.png`)), name).toBe(i < written.length);
      expect(existsSync(join(out, `${stem}_prob.png`)), name).toBe(i < written.length);
    });
  });

  test('a stage-1 model (no clustering branch) and bad arguments are refused', async () => {
    const r1 = await runCli(['segment', '--model', stage1, '--images', images, '--out', join(tmp(), 'o')]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/no clustering branch/);
    const r2 = await runCli(['segment', '--model', model, '--images', images, '--out', join(tmp(), 'o'), '--method', 'argmax']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--method must be one of attention, cos/);
    const r3 = await runCli(['segment', '--model', model, '--images', join(tmp(), 'none'), '--out', join(tmp(), 'o')]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/--images .*folder not found/);
    const r4 = await runCli(['segment', '--model', model, '--images', images, '--out', join(tmp(), 'o'), '--cluster', '8']);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/--cluster 8: the model has clusters 0\.\.7/);
  });
});
