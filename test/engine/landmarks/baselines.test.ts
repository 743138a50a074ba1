/**
 * Landmark baselines: the FFT and NCC building blocks against brute force, patch matching on a synthetic
 * texture moved by known amounts, and both baselines on the real hand radiographs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { greyFromRecord, NccMatcher, matchLandmarksNcc, scaledTemplate, type GreyImage } from '../../../main/engine/landmarks/baselines';
import { Fft, Fft2d } from '../../../main/engine/landmarks/baselines/fft';
import { cutPatch, NccSearch, parabolicOffset, refinePeak, WindowSums } from '../../../main/engine/landmarks/baselines/ncc';
import { evaluateLandmarks } from '../../../main/engine/landmarks/metrics';
import type { LandmarkTable, Point } from '../../../main/engine/landmarks/types';
import { Rng } from '../../../main/engine/rng';
import { readImage } from '../../../main/io';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';

/** A smooth, non-periodic texture: Gaussian blobs of several sizes over a few oblique waves. */
function texture(seed: number): (x: number, y: number) => number {
  const rng = new Rng(seed);
  const blobs = Array.from({ length: 160 }, () => ({ x: rng.uniform(-50, 550), y: rng.uniform(-50, 450), s: rng.uniform(5, 25), a: rng.uniform(-0.25, 0.25) }));
  const waves = Array.from({ length: 6 }, () => ({ angle: rng.uniform(0, Math.PI), k: (2 * Math.PI) / rng.uniform(20, 70), phase: rng.uniform(0, 6.3) }));
  return (x, y) => {
    let v = 0.5;
    for (const b of blobs) v += b.a * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
    for (const w of waves) v += 0.04 * Math.sin(w.k * (x * Math.cos(w.angle) + y * Math.sin(w.angle)) + w.phase);
    return Math.min(1, Math.max(0, v));
  };
}

/** Pixel (x, y) shows the texture at ((x − shift)/scale): a template point p appears at scale·p + shift. */
function render(f: (x: number, y: number) => number, width: number, height: number, scale = 1, shift: Point = { x: 0, y: 0 }): GreyImage {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f((x - shift.x) / scale, (y - shift.y) / scale);
  return { width, height, data };
}

function randomImage(width: number, height: number, seed: number): GreyImage {
  const rng = new Rng(seed);
  return { width, height, data: Float32Array.from({ length: width * height }, () => rng.next()) };
}

describe('FFT', () => {
  it('matches a direct DFT, forward and inverse, in 1-D and 2-D', () => {
    const rng = new Rng(1);
    const [w, h] = [8, 4];
    const re = Float64Array.from({ length: w * h }, () => rng.uniform(-1, 1));
    const im = Float64Array.from({ length: w * h }, () => rng.uniform(-1, 1));
    const [dftRe, dftIm] = [new Float64Array(w * h), new Float64Array(w * h)];
    for (let ky = 0; ky < h; ky++)
      for (let kx = 0; kx < w; kx++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const angle = -2 * Math.PI * ((kx * x) / w + (ky * y) / h);
            const [c, s] = [Math.cos(angle), Math.sin(angle)];
            dftRe[ky * w + kx] += re[y * w + x] * c - im[y * w + x] * s;
            dftIm[ky * w + kx] += re[y * w + x] * s + im[y * w + x] * c;
          }
    const [fRe, fIm] = [re.slice(), im.slice()];
    const fft = new Fft2d(w, h);
    fft.forward(fRe, fIm);
    for (let i = 0; i < w * h; i++) {
      expect(fRe[i]).toBeCloseTo(dftRe[i], 10);
      expect(fIm[i]).toBeCloseTo(dftIm[i], 10);
    }
    fft.inverse(fRe, fIm);
    for (let i = 0; i < w * h; i++) expect([fRe[i], fIm[i]]).toEqual([expect.closeTo(re[i], 10), expect.closeTo(im[i], 10)]);

    const row = { re: re.slice(0, w), im: im.slice(0, w) };
    new Fft(w).transform(row.re, row.im);
    const oneDim = Array.from({ length: w }, (_, k) => re.slice(0, w).reduce((s, v, x) => s + v * Math.cos((-2 * Math.PI * k * x) / w) - im[x] * Math.sin((-2 * Math.PI * k * x) / w), 0));
    oneDim.forEach((v, k) => expect(row.re[k]).toBeCloseTo(v, 10));
    expect(() => new Fft(12)).toThrow(/power of two/);
  });
});

describe('NCC building blocks', () => {
  /** NCC of a patch at window (x, y), straight from the definition. */
  function directNcc(image: GreyImage, patch: { size: number; values: Float64Array; norm: number }, x: number, y: number): number {
    const n = patch.size * patch.size;
    let mean = 0;
    for (let j = 0; j < patch.size; j++) for (let i = 0; i < patch.size; i++) mean += image.data[(y + j) * image.width + x + i] / n;
    let products = 0;
    let squares = 0;
    for (let j = 0; j < patch.size; j++)
      for (let i = 0; i < patch.size; i++) {
        const v = image.data[(y + j) * image.width + x + i] - mean;
        products += patch.values[j * patch.size + i] * v;
        squares += v * v;
      }
    return products / (patch.norm * Math.sqrt(squares));
  }

  it('the FFT search finds, for each of an odd number of patches, the window brute force finds, with its score', () => {
    const image = randomImage(37, 29, 2);
    const size = 7;
    const search = new NccSearch(image, size, 0);
    const patches = [randomImage(9, 9, 3), randomImage(9, 9, 4), randomImage(9, 9, 5)].map((src) => cutPatch(src, { x: 4, y: 4 }, size)!);
    const peaks = search.search(patches);
    patches.forEach((patch, k) => {
      let best = { x: -1, y: -1, score: -Infinity };
      for (let y = 0; y + size <= image.height; y++)
        for (let x = 0; x + size <= image.width; x++) {
          const score = directNcc(image, patch, x, y);
          if (score > best.score) best = { x, y, score };
        }
      expect(peaks[k]!.x).toBe(best.x);
      expect(peaks[k]!.y).toBe(best.y);
      expect(peaks[k]!.score).toBeCloseTo(best.score, 9);
    });
    // a patch cut from the image itself is found exactly, with NCC 1
    const own = cutPatch(image, { x: 20.3, y: 11.8 }, size)!;
    expect(own.offset).toEqual({ x: expect.closeTo(3.3, 9), y: expect.closeTo(2.8, 9) });
    expect(search.search([own])[0]).toMatchObject({ x: 17, y: 9, score: expect.closeTo(1, 9) });
    // the runner-up is the best window at least half a patch (3.5 px) away
    const { runnerUp } = search.search([own])[0]!;
    expect(Math.hypot(runnerUp!.x - 17, runnerUp!.y - 9)).toBeGreaterThanOrEqual(3.5);
    expect(runnerUp!.score).toBeLessThan(0.99);
  });

  it('patches are clamped inside the image, keeping the landmark offset; flat windows never match', () => {
    const image = randomImage(20, 20, 6);
    expect(cutPatch(image, { x: 1, y: 18.5 }, 8)!.offset).toEqual({ x: 1, y: 6.5 });
    expect(cutPatch(image, { x: 5, y: 5 }, 21)).toBeNull();
    const flat: GreyImage = { width: 20, height: 20, data: new Float32Array(400).fill(0.5) };
    expect(new WindowSums(flat).inverseDeviation(2, 2, 5, 0.01)).toBe(0);
    expect(refinePeak(new WindowSums(flat), cutPatch(image, { x: 10, y: 10 }, 5)!, { x: 8, y: 8 }, 3, 0.01)).toBeNull();
  });

  it('the parabolic peak recovers the vertex of a sampled parabola', () => {
    const f = (x: number) => 1 - (x - 0.3) ** 2;
    expect(parabolicOffset(f(-1), f(0), f(1))).toBeCloseTo(0.3, 12);
    expect(parabolicOffset(-Infinity, 1, 0.5)).toBe(0);
    expect(parabolicOffset(1, 1, 1)).toBe(0);
  });
});

describe('scaled template', () => {
  it('maps pixel centres, keeping the outer pixel edges on the edges', () => {
    const out = scaledTemplate([{ x: 0, y: 0 }, null, { x: -0.5, y: 199.5 }, { x: 49.5, y: 99.5 }], { width: 100, height: 200 }, { width: 200, height: 100 });
    expect(out).toEqual([{ x: 0.5, y: -0.25 }, null, { x: -0.5, y: 99.5 }, { x: 99.5, y: 49.5 }]);
  });
});

describe('NCC patch matching on a synthetic texture', () => {
  const f = texture(7);
  const template = render(f, 400, 320);
  const points: Point[] = [
    { x: 80.4, y: 70.2 },
    { x: 200, y: 160 },
    { x: 310.7, y: 90.3 },
    { x: 120.2, y: 250.9 },
    { x: 290.5, y: 230.5 },
  ];
  const errors = (found: ReturnType<typeof matchLandmarksNcc>, scale: number, shift: Point) =>
    found.map((m, i) => Math.hypot(m!.x - (scale * points[i].x + shift.x), m!.y - (scale * points[i].y + shift.y)));

  it('finds patches of a shifted copy to a fraction of a pixel, with NCC near 1', () => {
    const shift = { x: 7.3, y: -4.6 };
    const found = matchLandmarksNcc(template, points, render(f, 400, 320, 1, shift));
    const e = errors(found, 1, shift);
    console.log(`synthetic shift: errors ${e.map((v) => v.toFixed(3)).join(', ')} px`);
    expect(Math.max(...e)).toBeLessThan(0.25);
    for (const m of found) expect(m!.refineScore).toBeGreaterThan(0.99);
  });

  it('finds them in a same-size copy whose content is scaled by 1.1 (a searched scale) and shifted', () => {
    const shift = { x: -12.4, y: 5.7 };
    const found = matchLandmarksNcc(template, points, render(f, 400, 320, 1.1, shift));
    const e = errors(found, 1.1, shift);
    console.log(`synthetic scale 1.1: errors ${e.map((v) => v.toFixed(3)).join(', ')} px; scales ${found.map((m) => m!.scale).join(', ')}`);
    expect(Math.max(...e)).toBeLessThan(0.5);
    expect(found.filter((m) => m!.scale === 1.1).length).toBeGreaterThanOrEqual(3);
  });

  it('finds them in a larger copy (size normalisation) at a scale between the searched ones', () => {
    // 440×352 with content ×1.155: after both long sides are normalised, the relative scale is 1.05
    const shift = { x: 3.2, y: -8.1 };
    const e = errors(matchLandmarksNcc(template, points, render(f, 440, 352, 1.155, shift)), 1.155, shift);
    console.log(`synthetic scale 1.155 into a 1.1× larger image: errors ${e.map((v) => v.toFixed(3)).join(', ')} px`);
    expect(Math.max(...e)).toBeLessThan(1);
  });

  it('returns null for a template point that is null, and rejects bad options', () => {
    expect(matchLandmarksNcc(template, [null, points[1]], template)[0]).toBeNull();
    expect(() => new NccMatcher(template, points, { scales: [] })).toThrow(/scales/);
    expect(() => new NccMatcher(template, points, { patchFraction: 0 })).toThrow(/patchFraction/);
  });
});

/** The team's wide CSV (image,x1,y1,…,xN,yN) as a table with landmarks '1'…'N'. */
function readWideCsv(path: string): LandmarkTable {
  const [header, ...rows] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const count = (header.split(',').length - 1) / 2;
  return {
    landmarks: Array.from({ length: count }, (_, i) => String(i + 1)),
    images: rows.map((row) => {
      const [image, ...values] = row.split(',');
      return { image, points: Array.from({ length: count }, (_, i) => ({ x: Number(values[2 * i]), y: Number(values[2 * i + 1]) })) };
    }),
  };
}

describe.skipIf(!hasSharedData)(`baselines on the real hand radiographs${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  it('template 3167 onto the 8 other hands: finite points inside the images, NCC far better than the stretched template', async () => {
    const truth = readWideCsv(dataPath('landmarks/hand/landmarks.csv'));
    const templateName = '3167';
    const templatePoints = truth.images.find((im) => im.image === templateName)!.points;
    const template = greyFromRecord(await readImage(dataPath(`landmarks/hand/${templateName}.png`)));
    const t0 = performance.now();
    const matcher = new NccMatcher(template, templatePoints);
    const scaled: LandmarkTable = { landmarks: truth.landmarks, images: [] };
    const ncc: LandmarkTable = { landmarks: truth.landmarks, images: [] };
    let matchMs = 0;
    for (const { image } of truth.images.filter((im) => im.image !== templateName)) {
      const target = greyFromRecord(await readImage(dataPath(`landmarks/hand/${image}.png`)));
      const t = performance.now();
      const found = matcher.match(target);
      matchMs += performance.now() - t;
      for (const m of found) {
        expect(Number.isFinite(m!.x) && Number.isFinite(m!.y)).toBe(true);
        expect(m!.x).toBeGreaterThanOrEqual(-0.5);
        expect(m!.y).toBeGreaterThanOrEqual(-0.5);
        expect(m!.x).toBeLessThanOrEqual(target.width - 0.5);
        expect(m!.y).toBeLessThanOrEqual(target.height - 0.5);
      }
      ncc.images.push({ image, points: found });
      scaled.images.push({ image, points: scaledTemplate(templatePoints, template, target) });
    }
    const totalMs = performance.now() - t0;
    const targets = truth.images.filter((im) => im.image !== templateName);
    const truthOfTargets = { ...truth, images: targets };
    const base = evaluateLandmarks(scaled, truthOfTargets, { radiiPx: [20, 40] });
    const e = evaluateLandmarks(ncc, truthOfTargets, { radiiPx: [20, 40] });
    const line = (name: string, r: typeof e) =>
      `${name}: MRE ${r.errorPx.mean!.toFixed(1)} ± ${r.errorPx.sd!.toFixed(1)} px, median ${r.errorPx.median!.toFixed(1)}, SDR@20/40px ${r.successRates.map((s) => s.rate!.toFixed(2)).join('/')}`;
    console.log(
      `hand set, template ${templateName}, ${targets.length} targets × ${truth.landmarks.length} landmarks\n  ${line('scaled template', base)}\n  ${line('NCC', e)}; ` +
        `confidence rho ${e.confidence.spearmanRho!.toFixed(3)}, MRE most/least confident half ${e.confidence.mostConfidentHalf.mrePx!.toFixed(1)}/${e.confidence.leastConfidentHalf.mrePx!.toFixed(1)} px\n` +
        `  NCC time: ${(matchMs / 1000).toFixed(1)} s matching (${(totalMs / 1000).toFixed(1)} s with template preparation and image reading)`,
    );

    expect(e.counts).toMatchObject({ evaluated: targets.length * truth.landmarks.length, missing: 0 });
    // Measured (2 shared cores): scaled template MRE 118.6 px, median 110; NCC MRE 90.0 px, median 16.5.
    expect(e.errorPx.mean!).toBeLessThan(base.errorPx.mean!);
    expect(e.errorPx.median!).toBeLessThan(base.errorPx.median! / 3);
    expect(e.successRates[0].rate!).toBeGreaterThan(base.successRates[0].rate! + 0.3);
    // a useful confidence: the confident points have the smaller errors
    expect(e.confidence.spearmanRho!).toBeLessThan(0);
    expect(e.confidence.mostConfidentHalf.mrePx!).toBeLessThan(e.confidence.leastConfidentHalf.mrePx!);
  });
});
