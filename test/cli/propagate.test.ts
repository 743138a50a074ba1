/**
 * `ld-studio propagate` end to end on synthetic images with a known answer: the target images are
 * the template image shifted by known offsets, so every landmark's true position is known. A model
 * with random weights is enough for this (random convolutional features still match a shifted copy
 * of the same texture); real-data accuracy is the benchmark's job (`npm run bench -- landmarks`).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { propagateCommand } from '../../main/cli/propagate';
import { activateBackend } from '../../main/engine/backends';
import { initModel } from '../../main/engine/model/params';
import { Rng } from '../../main/engine/rng';
import { readLandmarkFile, writeLandmarkFile } from '../../main/io/landmarks';
import { RunDir } from '../../main/jobs/runDir';
import { captureOutput, lastJsonLine } from '../helpers/captureOutput';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';

const root = mkdtempSync(join(tmpdir(), 'ld-propagate-'));
const runDir = join(root, 'run');
const images = join(root, 'images');
const W = 240;
const H = 176;
const SHIFTS: Record<string, [number, number]> = { 'shift-a.png': [12, -8], 'shift b.png': [-6, 10] };
const POINTS = [
  { x: 60, y: 50 },
  { x: 170, y: 60 },
  { x: 120, y: 100 },
  { x: 80, y: 130 },
  { x: 190, y: 140 },
];

/** Random overlapping rectangles of random grey levels: sharp edges and corners everywhere. */
function texture(seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(W * H);
  for (let k = 0; k < 120; k++) {
    const x0 = Math.floor(rng.next() * W), y0 = Math.floor(rng.next() * H);
    const w = 4 + Math.floor(rng.next() * 30), h = 4 + Math.floor(rng.next() * 30), a = rng.next() * 2 - 1;
    for (let y = y0; y < Math.min(H, y0 + h); y++) for (let x = x0; x < Math.min(W, x0 + w); x++) v[y * W + x] = a;
  }
  return v;
}

function writePng(path: string, v: Float32Array, dx = 0, dy = 0) {
  const png = new PNG({ width: W, height: H, colorType: 0 });
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = Math.min(W - 1, Math.max(0, x - dx)), sy = Math.min(H - 1, Math.max(0, y - dy));
      const g = Math.max(0, Math.min(255, Math.round(128 + 100 * v[sy * W + sx])));
      png.data.set([g, g, g, 255], (y * W + x) * 4);
    }
  }
  writeFileSync(path, PNG.sync.write(png, { colorType: 0 }));
}

interface PropagateReport {
  images: number;
  failures: Array<{ image: string; error: string }>;
  timing: { cachedImages: number; networkMs: number; fineLandmarks: number; levelNetworkMs: number[] };
}

async function cli(args: string[]) {
  const r = await captureOutput(() => propagateCommand(args));
  return { ...r, json: lastJsonLine<PropagateReport>(r.stdout) };
}

const template = join(images, 'template.png');
const templateCsv = join(root, 'template.csv');
const base = (out: string) => ['--model', runDir, '--template', templateCsv, '--template-image', template, '--images', images, '--out', out, '--size', '128', '--sigma', '3', '--threads', '1'];

beforeAll(async () => {
  await activateBackend('cpu');
  const run = new RunDir(runDir);
  run.create();
  const store = initModel({ inChannels: 1, embedDim: 32, clusters: 0 }, new Rng(7));
  run.writeCheckpoint({ step: 1, stage: 1, rng: [1, 2, 3, 4], adamStep: 1, tensors: await store.toArrays() }, 'interval');
  store.dispose();
  mkdirSync(images);
  const v = texture(3);
  writePng(template, v);
  for (const [name, [dx, dy]] of Object.entries(SHIFTS)) writePng(join(images, name), v, dx, dy);
  await writeLandmarkFile(templateCsv, { landmarks: ['Sella', 'Nasion', 'A point', 'B, point', 'Menton'], images: [{ image: 'template.png', width: W, height: H, points: POINTS }] });
});

afterAll(() => vi.restoreAllMocks());

describe('propagate', () => {
  const out = join(root, 'out');
  let first: PropagateReport;

  test('finds every landmark on shifted copies (affine consensus); writes landmarks.csv, one .mrk.json per image and COCO', async () => {
    const r = await cli(base(out));
    expect(r.code, r.stderr).toBe(0);
    // progress through the command line's job host: the bar with the ETA runJob computes
    expect(r.stderr).toMatch(/\] 1\/2 shift[ -][ab]\.png ETA \d+s/);
    expect(r.stderr).toMatch(/\] 2\/2 shift[ -][ab]\.png/);
    first = r.json!;
    expect(first.images).toBe(2); // the template image itself is not a target
    expect(first.failures).toEqual([]);
    const table = await readLandmarkFile(join(out, 'landmarks.csv'));
    expect(table.landmarks).toEqual(['Sella', 'Nasion', 'A point', 'B, point', 'Menton']);
    expect(table.images.map((i) => i.image).sort()).toEqual(Object.keys(SHIFTS).sort());
    for (const img of table.images) {
      const [dx, dy] = SHIFTS[img.image];
      img.points.forEach((p, i) => {
        expect(Math.hypot(p!.x - (POINTS[i].x + dx), p!.y - (POINTS[i].y + dy)), `${img.image} ${table.landmarks[i]}`).toBeLessThan(3);
        expect(p!.confidence).toBeGreaterThanOrEqual(0);
        expect(p!.confidence).toBeLessThanOrEqual(1);
      });
      const markups = await readLandmarkFile(join(out, `${img.image.replace(/\.png$/, '')}.mrk.json`));
      markups.images[0].points.forEach((p, i) => expect(p!.x).toBeCloseTo(img.points[i]!.x, 3));
    }
    const coco = JSON.parse(readFileSync(join(out, 'landmarks.coco.json'), 'utf8'));
    expect(coco.images).toHaveLength(2);
    expect(coco.categories[0].keypoints).toHaveLength(5);
    expect(first.timing.cachedImages).toBe(0);
    // the cascade ran every landmark of both images through its levels
    expect(first.timing.fineLandmarks).toBe(10);
    expect(first.timing.levelNetworkMs.length).toBeGreaterThanOrEqual(2);
  });

  test('a second run reuses the cached features and gives the same answer', async () => {
    const before = await readLandmarkFile(join(out, 'landmarks.csv'));
    const r = await cli(base(out));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.timing.cachedImages).toBe(2);
    expect(r.json!.timing.networkMs).toBe(0);
    expect(r.json!.timing.fineLandmarks).toBe(0);
    // the cache holds the embedding in half precision: positions agree to a small fraction of a pixel
    const after = await readLandmarkFile(join(out, 'landmarks.csv'));
    after.images.forEach((img, k) => img.points.forEach((p, i) => {
      expect(Math.abs(p!.x - before.images[k].points[i]!.x)).toBeLessThan(0.05);
      expect(Math.abs(p!.y - before.images[k].points[i]!.y)).toBeLessThan(0.05);
    }));
  });

  test('moving one template point re-runs the fine levels for that landmark only (dense consensus: the others do not depend on it)', async () => {
    const outDense = join(root, 'out-dense');
    const dense = [...base(outDense), '--consensus', 'dense'];
    const r1 = await cli(dense);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.json!.timing.fineLandmarks).toBe(10);
    const moved = POINTS.map((p, i) => (i === 2 ? { x: p.x + 6, y: p.y - 4 } : p));
    const movedCsv = join(root, 'template-moved.csv');
    await writeLandmarkFile(movedCsv, { landmarks: ['Sella', 'Nasion', 'A point', 'B, point', 'Menton'], images: [{ image: 'template.png', width: W, height: H, points: moved }] });
    const before = await readLandmarkFile(join(outDense, 'landmarks.csv'));
    const r2 = await cli(dense.map((a) => (a === templateCsv ? movedCsv : a)));
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.json!.timing.fineLandmarks).toBe(2); // one landmark × two images
    const after = await readLandmarkFile(join(outDense, 'landmarks.csv'));
    after.images.forEach((img, k) => {
      const [dx, dy] = SHIFTS[img.image];
      img.points.forEach((p, i) => {
        if (i !== 2) expect({ x: p!.x, y: p!.y }).toEqual({ x: before.images[k].points[i]!.x, y: before.images[k].points[i]!.y });
        else expect(Math.hypot(p!.x - (moved[i].x + dx), p!.y - (moved[i].y + dy))).toBeLessThan(3);
      });
    });
  });

  test('cascade off and NCC refinement: both find the shifted points', async () => {
    for (const extra of [['--cascade', 'off'], ['--refine', 'ncc'], ['--cascade-size', '48', '--cascade-radius', '6']]) {
      const out2 = join(root, `out-${extra.join('')}`);
      const r = await cli([...base(out2), ...extra, '--no-cache']);
      expect(r.code, `${extra.join(' ')}: ${r.stderr}`).toBe(0);
      const table = await readLandmarkFile(join(out2, 'landmarks.csv'));
      for (const img of table.images) {
        const [dx, dy] = SHIFTS[img.image];
        img.points.forEach((p, i) => expect(Math.hypot(p!.x - (POINTS[i].x + dx), p!.y - (POINTS[i].y + dy)), `${extra.join(' ')} ${img.image} ${i}`).toBeLessThan(3));
      }
    }
    const bad = await cli([...base(join(root, 'x')), '--cascade', 'off', '--cascade-size', '48']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--cascade-size and --cascade-radius set the cascade/);
  });

  test('pseudo-templates: the other image as an extra template, fused or gated, still finds the shifted points; tuning without them is a usage error', async () => {
    for (const extra of [['--pseudo-templates', '1', '--pseudo-gate', 'none'], ['--pseudo-templates', '1', '--template-weight', '0.5']]) {
      const out2 = join(root, `out-${extra.join('')}`);
      const r = await cli([...base(out2), ...extra, '--no-cache']);
      expect(r.code, `${extra.join(' ')}: ${r.stderr}`).toBe(0);
      const table = await readLandmarkFile(join(out2, 'landmarks.csv'));
      expect(table.images).toHaveLength(2);
      for (const img of table.images) {
        const [dx, dy] = SHIFTS[img.image];
        img.points.forEach((p, i) => {
          expect(Math.hypot(p!.x - (POINTS[i].x + dx), p!.y - (POINTS[i].y + dy)), `${extra.join(' ')} ${img.image} ${i}`).toBeLessThan(3);
          expect(p!.confidence).toBeGreaterThanOrEqual(0);
          expect(p!.confidence).toBeLessThanOrEqual(1);
        });
      }
    }
    const bad = await cli([...base(join(root, 'x')), '--template-weight', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/add --pseudo-templates N/);
    const badGate = await cli([...base(join(root, 'x')), '--pseudo-templates', '2', '--pseudo-gate', 'wide']);
    expect(badGate.code).toBe(2);
    expect(badGate.stderr).toMatch(/--pseudo-gate expects/);
  });

  test('several templates (--template-images): every entry of the file is a template, found by name or stem; the others are fused', async () => {
    const names = ['Sella', 'Nasion', 'A point', 'B, point', 'Menton'];
    const [ax, ay] = SHIFTS['shift-a.png'];
    const two = join(root, 'two-templates.csv');
    // the second template is named by its stem only
    await writeLandmarkFile(two, { landmarks: names, images: [
      { image: 'template.png', width: W, height: H, points: POINTS },
      { image: 'shift-a', width: W, height: H, points: POINTS.map((p) => ({ x: p.x + ax, y: p.y + ay })) },
    ] });
    const out2 = join(root, 'out-two');
    const args = base(out2).map((a) => (a === templateCsv ? two : a)).filter((a, i, all) => a !== '--template-image' && all[i - 1] !== '--template-image');
    const r = await cli([...args, '--template-images', images, '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    const table = await readLandmarkFile(join(out2, 'landmarks.csv'));
    expect(table.images.map((i) => i.image)).toEqual(['shift b.png']); // both templates are left out of the targets
    const [dx, dy] = SHIFTS['shift b.png'];
    table.images[0].points.forEach((p, i) => expect(Math.hypot(p!.x - (POINTS[i].x + dx), p!.y - (POINTS[i].y + dy)), names[i]).toBeLessThan(3));

    // the second template votes: labelled 8 px to the right of the anatomy, it pulls every answer half way (two votes: the midpoint)
    await writeLandmarkFile(two, { landmarks: names, images: [
      { image: 'template.png', width: W, height: H, points: POINTS },
      { image: 'shift-a', width: W, height: H, points: POINTS.map((p) => ({ x: p.x + ax + 8, y: p.y + ay })) },
    ] });
    const pulled = await cli([...args, '--template-images', images, '--no-cache']);
    expect(pulled.code, pulled.stderr).toBe(0);
    const moved = await readLandmarkFile(join(out2, 'landmarks.csv'));
    moved.images[0].points.forEach((p, i) => {
      expect(Math.abs(p!.x - (POINTS[i].x + dx + 4)), names[i]).toBeLessThan(2);
      expect(Math.abs(p!.y - (POINTS[i].y + dy)), names[i]).toBeLessThan(2);
    });

    const missing = join(root, 'missing-template.csv');
    await writeLandmarkFile(missing, { landmarks: names, images: [{ image: 'template.png', points: POINTS }, { image: 'nowhere.png', points: POINTS }] });
    const bad = await cli([...args.map((a) => (a === two ? missing : a)), '--template-images', images]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no image for the template entry 'nowhere\.png'/);
    const none = await cli(args);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--template-image is required \(or --template-images/);
  });

  test('an unreadable image is reported and skipped; the others are done', async () => {
    const dir = join(root, 'with-bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 'broken.png'), Buffer.from('not a png at all'));
    for (const name of Object.keys(SHIFTS)) writeFileSync(join(dir, name), readFileSync(join(images, name)));
    const r = await cli([...base(join(root, 'out-bad')).map((a) => (a === images ? dir : a))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.images).toBe(2);
    expect(r.json!.failures).toHaveLength(1);
    expect(r.json!.failures[0].image).toMatch(/broken\.png$/);
    expect(r.stderr).toMatch(/skipped .*broken\.png/);
    // the path once, not once from the command and again from the reader
    const line = r.stderr.split('\n').find((l) => l.includes('skipped'))!;
    expect(line.split('broken.png').length - 1, line).toBe(1);
  });

  test('bad arguments: exit 2 with the reason; a template without the template image: exit 1 naming the file', async () => {
    const missing = await cli(base(join(root, 'x')).filter((a, i, all) => a !== '--template' && all[i - 1] !== '--template'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--template is required/);
    const consensus = await cli([...base(join(root, 'x')), '--consensus', 'rigid']);
    expect(consensus.code).toBe(2);
    expect(consensus.stderr).toMatch(/--consensus must be one of dense, affine, prior, none/);
    const other = join(root, 'other.csv');
    await writeLandmarkFile(other, { landmarks: ['a'], images: [{ image: 'x.png', points: [{ x: 1, y: 1 }] }, { image: 'y.png', points: [{ x: 2, y: 2 }] }] });
    const wrong = await cli(base(join(root, 'x')).map((a) => (a === templateCsv ? other : a)));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/other\.csv has no landmarks for template\.png/);
    expect(existsSync(join(root, 'x', 'landmarks.csv'))).toBe(false);
  });
});

describe.skipIf(!hasSharedData)(`propagate on DICOM radiographs${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  test('CR without a Frame of Reference: the same pixels in every transfer syntax give the same points; .mrk.json in mm (ImagerPixelSpacing)', async () => {
    const dir = dataPath('dicom/cr');
    const csv = join(root, 'cr-template.csv');
    const points = [{ x: 700, y: 900 }, { x: 1200, y: 600 }, { x: 1000, y: 1500 }, { x: 400, y: 1700 }];
    await writeLandmarkFile(csv, { landmarks: ['a', 'b', 'c', 'd'], images: [{ image: 'RG2_UNC.dcm', points }] });
    const out = join(root, 'out-cr');
    const r = await cli(['--model', runDir, '--template', csv, '--template-image', join(dir, 'RG2_UNC.dcm'), '--images', dir, '--out', out, '--size', '128', '--sigma', '3', '--threads', '1', '--consensus', 'none', '--cascade', 'off', '--refine', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const table = await readLandmarkFile(join(out, 'landmarks.csv'));
    const rg2 = table.images.filter((i) => i.image.startsWith('RG2_'));
    expect(rg2.map((i) => i.image).sort()).toEqual(['RG2_J2KR.dcm', 'RG2_JLSL.dcm', 'RG2_JPLL.dcm', 'RG2_RLE.dcm']);
    // identical pixels in every transfer syntax → identical answers
    for (const img of rg2) expect(img.points).toEqual(rg2[0].points);
    // a random-weight model is only trustworthy where it says so: its two most confident points are
    // where they were placed (one network pixel is 2140/128 ≈ 17 original pixels; the global level
    // only, as the fine levels and the refinement of random weights wander)
    const ranked = rg2[0].points.map((p, i) => ({ p: p!, i })).sort((a, b) => b.p.confidence! - a.p.confidence!);
    for (const { p, i } of ranked.slice(0, 2)) expect(Math.hypot(p.x - points[i].x, p.y - points[i].y), `point ${i}`).toBeLessThan(9);
    const mrk = JSON.parse(readFileSync(join(out, 'RG2_JPLL.mrk.json'), 'utf8'));
    const jpll = rg2.find((i) => i.image === 'RG2_JPLL.dcm')!;
    const cp = mrk.markups[0].controlPoints[0];
    expect(cp.positionStatus).toBe('defined');
    // no Frame of Reference: origin 0, identity directions, 0.2 mm ImagerPixelSpacing
    expect(cp.position[0]).toBeCloseTo(jpll.points[0]!.x * 0.2, 3);
    expect(cp.position[1]).toBeCloseTo(jpll.points[0]!.y * 0.2, 3);
    expect(cp.position[2]).toBe(0);
  });
});
