/**
 * `eval-landmarks`: the JSON report and the exit codes 0 / 1 (unreadable input) / 2 (bad arguments),
 * in-process on small synthetic files, then through the real CLI (out/cli) on the team's hand and
 * spine sets. The landmark file readers themselves are tested in test/io/landmarks.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVAL_LANDMARKS_USAGE, evalLandmarksCommand } from '../../main/cli/evalLandmarks';
import { landmarkNames, loadBuiltinScheme, readImageSize, readSpineCsvFiles, readWideCsvFile, writeLongCsvFile, type LandmarkTable } from '../../main/io/landmarks';
import { captureOutput } from '../helpers/captureOutput';
import { runCli } from '../helpers/cli';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { grey16Png, littleEndianGreyTiff } from '../io/helpers/makeImages';

const dir = mkdtempSync(join(tmpdir(), 'ld-eval-landmarks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const run = (args: string[]) => captureOutput(() => evalLandmarksCommand(args));

// Truth: errors will be 5 and 10 px (image a), missing B and 0 px C (image b).
const truthCsv = file('truth.csv', '\uFEFFimage,landmark,x,y,confidence\r\n"a.png",A,10,10,\r\na.png,B,20,20,\r\nb.png,B,1,1,\r\nb.png,C,7.5,-2,\r\n');
const predCsv = file('pred.csv', ['landmark,image,x,y,confidence', 'A,a,13,14,0.9', 'B,a,26,28,0.2', 'B,b,,,', 'C,b,7.5,-2,0.95', 'A,b,3,3,0.5'].join('\n'));

describe('ld-studio eval-landmarks', () => {
  it('prints the report as one JSON line: MRE, SDR, per landmark and image, confidence ranking, missing', async () => {
    const { code, stdout, stderr } = await run(['--pred', predCsv, '--truth', truthCsv, '--radii-px', '5,10']);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(stdout);
    expect(report.counts).toEqual({ truthImages: 2, predImages: 2, pairedImages: 2, truthPoints: 4, evaluated: 3, missing: 1, predictedWithoutTruth: 1 });
    expect(report.mre.px).toEqual({ n: 3, mean: 5, sd: 4.08248, median: 5, max: 10 });
    expect(report.mre.mm).toBeUndefined();
    expect(report.sdr).toEqual([
      { radius: 5, unit: 'px', hits: 2, total: 4, rate: 0.5 },
      { radius: 10, unit: 'px', hits: 3, total: 4, rate: 0.75 },
    ]);
    expect(report.perLandmark.map((l: { landmark: string; missing: number }) => [l.landmark, l.missing])).toEqual([
      ['A', 0],
      ['B', 1],
      ['C', 0],
    ]);
    expect(report.perImage.map((i: { image: string; predImage?: string }) => [i.image, i.predImage])).toEqual([
      ['a.png', 'a'],
      ['b.png', 'b'],
    ]);
    expect(report.missing).toEqual([{ image: 'b.png', landmark: 'B', reason: 'point-not-placed' }]);
    expect(report.confidence).toMatchObject({ n: 3, spearmanRho: -1 });
    expect(report.points).toBeUndefined();
    expect(stderr).toMatch(/3 of 4 true points evaluated, 1 missing; MRE 5\.00 ± 4\.08 px/);
    expect(stderr).toMatch(/note: 2 image\(s\) paired by file stem/);
  });

  it('--spacing-mm: errors in mm and SDR at the mm radii; --points lists every point', async () => {
    const { code, stdout } = await run(['--pred', predCsv, '--truth', truthCsv, '--spacing-mm', '0.1', '--radii-mm', '1', '--points']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.spacingMm).toBe(0.1);
    expect(report.mre.mm.mean).toBeCloseTo(0.5, 12);
    expect(report.sdr).toEqual([{ radius: 1, unit: 'mm', hits: 3, total: 4, rate: 0.75 }]);
    expect(report.points).toHaveLength(3);
    expect(report.points[1]).toMatchObject({ image: 'a.png', landmark: 'B', errorPx: 10, errorMm: 1 });
  });

  it('reads the other landmark formats: a COCO truth (which knows its image sizes) against a wide-CSV prediction', async () => {
    const coco = file(
      'truth.json',
      JSON.stringify({
        images: [{ id: 1, file_name: 'a.png', width: 40, height: 30 }],
        annotations: [{ id: 1, image_id: 1, category_id: 1, keypoints: [10, 10, 2, 20, 20, 2], num_keypoints: 2 }],
        categories: [{ id: 1, name: 'test', keypoints: ['L1', 'L2'] }],
      }),
    );
    const wide = file('pred-wide.csv', 'image,x1,y1,x2,y2\na.png,13,14,20,20\n');
    const { code, stdout } = await run(['--pred', wide, '--truth', coco, '--heights']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.counts).toMatchObject({ pairedImages: 1, truthPoints: 2, evaluated: 2, missing: 0 });
    expect(report.mre.px).toMatchObject({ mean: 2.5, max: 5 });
    expect(report.mre.heightFraction.n).toBe(2);
    expect(report.mre.heightFraction.max).toBeCloseTo(5 / 30, 5);
    expect(report.perImage[0].height).toBe(30);
  });

  it('--heights with --images: sizes from the PNG header alone; formats without a header reader are decoded', async () => {
    const noImages = await run(['--pred', predCsv, '--truth', truthCsv, '--heights']);
    expect(noImages.code).toBe(1);
    expect(noImages.stderr).toMatch(/no height known for 'a\.png', 'b\.png'.*--images/);

    const images = join(dir, 'images');
    mkdirSync(images);
    // a.png: a valid header but the pixel data cut off, so decoding it would fail
    writeFileSync(join(images, 'a.png'), grey16Png(3, 50, new Uint16Array(150)).subarray(0, 40));
    // b: a TIFF, whose size comes from decoding it
    writeFileSync(join(images, 'b.tif'), littleEndianGreyTiff(3, 20, 8, new Uint8Array(60)));
    const read = await run(['--pred', predCsv, '--truth', truthCsv, '--heights', '--images', images]);
    expect(read.stderr).not.toMatch(/ld-studio eval-landmarks:/);
    expect(read.code).toBe(0);
    const report = JSON.parse(read.stdout);
    expect(report.perImage.map((i: { height: number }) => i.height)).toEqual([50, 20]);
    expect(report.mre.heightFraction.mean).toBeCloseTo((5 / 50 + 10 / 50 + 0) / 3, 5);

    const onlyA = join(dir, 'only-a');
    mkdirSync(onlyA);
    writeFileSync(join(onlyA, 'a.png'), grey16Png(3, 50, new Uint16Array(150)));
    const lacking = await run(['--pred', predCsv, '--truth', truthCsv, '--heights', '--images', onlyA]);
    expect(lacking.code).toBe(1);
    expect(lacking.stderr).toMatch(/no image file in .* for 'b\.png'/);
  });

  it('exit 1 for an unreadable or malformed file, naming it (and the line)', async () => {
    const missing = join(dir, 'nope.csv');
    const r1 = await run(['--pred', missing, '--truth', truthCsv]);
    expect(r1).toMatchObject({ code: 1, stdout: '' });
    expect(r1.stderr).toContain(`${missing}: file or folder not found`);
    const bad = file('bad.csv', 'image,landmark,x,y\na,A,one,2\n');
    const r2 = await run(['--pred', predCsv, '--truth', bad]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`${bad}, line 2: x of 'A' is not a number ('one')`);
    const unknownType = file('truth.xml', '<points/>');
    const r3 = await run(['--pred', predCsv, '--truth', unknownType]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain(`${unknownType}: unsupported landmark file type`);
  });

  it('--truth-filenames: the spine layout, with sizes from the images; a missing image names the file', async () => {
    const images = join(dir, 'spine-images');
    mkdirSync(images);
    writeFileSync(join(images, 'p 1.png'), grey16Png(10, 200, new Uint16Array(2000)));
    // one image, all 68 points at (0.5, 0.2) of its size, so at (5, 40) px; predicted 2 px lower
    const names = landmarkNames(loadBuiltinScheme('spine-68'));
    const landmarks = file('spine-landmarks.csv', [...names.map(() => '0.5'), ...names.map(() => '0.2')].join(',') + '\n');
    const filenames = file('spine-filenames.csv', 'p 1.png\n');
    const pred = file('spine-pred.csv', ['image,landmark,x,y', ...names.map((n) => `p 1.png,${n},5,42`)].join('\n'));
    const ok = await run(['--pred', pred, '--truth', landmarks, '--truth-filenames', filenames, '--images', images, '--heights']);
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report.truthFilenames).toBe(filenames);
    expect(report.mre.px).toMatchObject({ n: 68, mean: 2, max: 2 });
    expect(report.perImage[0]).toMatchObject({ image: 'p 1.png', height: 200 });
    expect(report.mre.heightFraction.mean).toBeCloseTo(0.01, 12);

    const other = file('spine-filenames-2.csv', 'gone.png\n');
    const gone = await run(['--pred', pred, '--truth', landmarks, '--truth-filenames', other, '--images', images]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(join(images, 'gone.png'));
  });

  it('exit 2 for bad arguments, with a pointer to --help', async () => {
    for (const [args, message] of [
      [['--truth', truthCsv], /--pred is required/],
      [['--pred', predCsv, '--truth', truthCsv, '--spacing-mm', 'abc'], /--spacing-mm expects a positive number, got 'abc'/],
      [['--pred', predCsv, '--truth', truthCsv, '--radii-px', '10,,20'], /--radii-px expects comma-separated positive numbers/],
      [['--pred', predCsv, '--truth', truthCsv, '--radii-mm', '2'], /--radii-mm needs --spacing-mm/],
      [['--pred', predCsv, '--truth', truthCsv, '--images', dir], /--images is only used with --heights or --truth-filenames/],
      [['--pred', predCsv, '--truth', truthCsv, '--truth-filenames', truthCsv], /--truth-filenames needs --images/],
      [['--pred', predCsv, '--truth', truthCsv, '--bogus'], /Unknown option '--bogus'/],
      [['--pred', predCsv, '--truth', truthCsv, 'extra'], /positional/],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain("Run 'ld-studio eval-landmarks --help' for usage.");
    }
  });

  it('--help prints the usage', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(EVAL_LANDMARKS_USAGE);
    expect(EVAL_LANDMARKS_USAGE).toMatch(/^ {2}ld-studio eval-landmarks --pred <file> --truth <file>/);
  });
});

describe('ld-studio eval-landmarks through the CLI', () => {
  it('is listed in ld-studio --help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(EVAL_LANDMARKS_USAGE);
  });

  it('bad arguments exit 2; a missing file exits 1 naming it', async () => {
    const bad = await runCli(['eval-landmarks', '--pred', predCsv]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--truth is required/);
    const noImages = await runCli(['eval-landmarks', '--pred', predCsv, '--truth', truthCsv, '--truth-filenames', truthCsv]);
    expect(noImages.code).toBe(2);
    expect(noImages.stderr).toMatch(/--truth-filenames needs --images/);
    const missing = join(dir, 'absent.csv');
    const r = await runCli(['eval-landmarks', '--pred', predCsv, '--truth', missing]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toContain(`${missing}: file or folder not found`);
  });
});

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;

/** `table` with every placed point moved by `shift(image)`, written as a long CSV. */
async function writeShifted(path: string, table: LandmarkTable, shift: (image: LandmarkTable['images'][number]) => { dx: number; dy: number }): Promise<string> {
  await writeLongCsvFile(path, {
    landmarks: table.landmarks,
    images: table.images.map((im) => {
      const { dx, dy } = shift(im);
      return { image: im.image, points: im.points.map((p) => (p ? { x: p.x + dx, y: p.y + dy } : null)) };
    }),
  });
  return path;
}

describe.skipIf(!hasSharedData)(`ld-studio eval-landmarks on the team's data${skipNote}`, () => {
  it('hand set: the wide truth against a long prediction shifted by (3, 4) px', async () => {
    const truth = dataPath('landmarks/hand/landmarks.csv');
    const table = await readWideCsvFile(truth);
    const pred = await writeShifted(join(dir, 'hand-pred.csv'), table, () => ({ dx: 3, dy: 4 }));
    const r = await runCli(['eval-landmarks', '--pred', pred, '--truth', truth, '--spacing-mm', '0.1']);
    expect(r.stderr).toMatch(/333 of 333 true points evaluated, 0 missing; MRE 5\.00 ± 0\.00 px, 0\.50 ± 0\.00 mm/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.counts).toMatchObject({ truthImages: 9, pairedImages: 9, truthPoints: 333, evaluated: 333, missing: 0 });
    expect(report.mre.px).toEqual({ n: 333, mean: 5, sd: 0, median: 5, max: 5 });
    expect(report.mre.mm.mean).toBeCloseTo(0.5, 12);
    expect(report.sdr[0]).toEqual({ radius: 2, unit: 'mm', hits: 333, total: 333, rate: 1 });
  });

  let spine: { landmarks: string; filenames: string; images: string; table: LandmarkTable };
  beforeAll(async () => {
    if (!hasSharedData) return;
    const labels = dataPath('landmarks/spine/labels/test');
    const images = dataPath('landmarks/spine/images/test');
    const landmarks = join(labels, 'landmarks.csv');
    const filenames = join(labels, 'filenames.csv');
    spine = { landmarks, filenames, images, table: await readSpineCsvFiles(landmarks, filenames, (name) => readImageSize(join(images, name))) };
  });

  it('spine test split (--truth-filenames): a prediction 1 % of each image height too low', async () => {
    const { table } = spine;
    const pred = await writeShifted(join(dir, 'spine-pred.csv'), table, (im) => ({ dx: 0, dy: im.height! / 100 }));
    const r = await runCli(['eval-landmarks', '--pred', pred, '--truth', spine.landmarks, '--truth-filenames', spine.filenames, '--images', spine.images, '--heights']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const points = table.images.length * table.landmarks.length;
    expect(table.images).toHaveLength(readFileSync(spine.filenames, 'utf8').trim().split('\n').length);
    expect(report.truthFilenames).toBe(spine.filenames);
    expect(report.counts).toMatchObject({ truthImages: table.images.length, pairedImages: table.images.length, truthPoints: points, evaluated: points, missing: 0 });
    expect(report.mre.heightFraction.n).toBe(points);
    expect(report.mre.heightFraction.mean).toBeCloseTo(0.01, 9);
    expect(report.mre.heightFraction.max).toBeCloseTo(0.01, 9);
    expect(report.perImage.map((i: { height: number }) => i.height)).toEqual(table.images.map((im) => im.height));
  });
});
