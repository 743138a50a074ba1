/**
 * The Review screen as a new user finds it (issue 13 item 4): the viewer's pixel probe, the landmark
 * display settings and their storage, the loupe's geometry, landmark definitions and the scheme
 * Template offers first.
 */
import { describe, expect, it } from 'vitest';
import type { LandmarkSetInfo } from '../../common/api';
import { defaultLandmarkSet, landmarkDescription, rememberLandmarkSet } from '../../renderer/src/modes/landmarkInfo';
import { DEFAULT_DISPLAY, insideView, nextLabelMode, readDisplay, sanitizeDisplay, showsLabel, writeDisplay } from '../../renderer/src/stores/landmarkDisplay';
import type { ModeStorage } from '../../renderer/src/stores/lastMode';
import { loupeGeometry } from '../../renderer/src/viewers/loupe';
import { probePixel, probeText } from '../../renderer/src/viewers/pixelProbe';
import { wheelFactor, zoomAbout } from '../../renderer/src/viewers/wheelZoom';

function memoryStorage(): ModeStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('the pixel under the cursor', () => {
  // 3 × 2 image, values 10·index
  const values = Float32Array.from([0, 10, 20, 30, 40, 50]);
  it('rounds pixel-centre coordinates to the pixel and reads its value', () => {
    expect(probePixel({ width: 3, height: 2 }, values, { x: 1.4, y: 0.6 })).toEqual({ x: 1.4, y: 0.6, column: 1, row: 1, stored: 40 });
    expect(probePixel({ width: 3, height: 2 }, values, { x: -0.49, y: -0.2 })?.stored).toBe(0);
  });

  it('is nothing off the image', () => {
    expect(probePixel({ width: 3, height: 2 }, values, { x: -0.6, y: 0 })).toBeNull();
    expect(probePixel({ width: 3, height: 2 }, values, { x: 2.6, y: 0 })).toBeNull();
    expect(probePixel({ width: 3, height: 2 }, values, { x: 0, y: 1.5 })).toBeNull();
    expect(probePixel({ width: 3, height: 2 }, values, { x: Number.NaN, y: 0 })).toBeNull();
  });

  it('gives back the stored value of a rescaled DICOM, with the rescaled one', () => {
    const ct = Int16Array.from([-1024, 0, 40, 1000]);
    const p = probePixel({ width: 2, height: 2, rescale: { slope: 1, intercept: -1024 } }, ct, { x: 0, y: 1 })!;
    expect(p).toMatchObject({ stored: 1064, rescaled: 40 });
    expect(probeText(p)).toBe('x 0.0, y 1.0 · px (0, 1) · value 1064 · rescaled 40');
    const halves = probePixel({ width: 2, height: 2, rescale: { slope: 0.5, intercept: 0 } }, Float32Array.from([5, 0, 0, 0]), { x: 0, y: 0 })!;
    expect(halves).toMatchObject({ stored: 10, rescaled: 5 });
    // an identity rescale says nothing more
    expect(probeText(probePixel({ width: 2, height: 2, rescale: { slope: 1, intercept: 0 } }, ct, { x: 1, y: 0 })!)).toBe('x 1.0, y 0.0 · px (1, 0) · value 0');
  });
});

describe('landmark display settings', () => {
  it('default to medium markers, all labels, points shown', () => {
    expect(readDisplay(memoryStorage())).toEqual(DEFAULT_DISPLAY);
    expect(readDisplay(undefined)).toEqual(DEFAULT_DISPLAY);
  });

  it('persist and come back', () => {
    const storage = memoryStorage();
    writeDisplay(storage, { markerSize: 10, labels: 'selected', showPoints: false, lockPoints: true });
    expect(readDisplay(storage)).toEqual({ markerSize: 10, labels: 'selected', showPoints: false, lockPoints: true });
  });

  it('repair what storage holds field by field', () => {
    expect(sanitizeDisplay({ markerSize: 400, labels: 'some', showPoints: 'yes', lockPoints: 1 })).toEqual({ markerSize: 16, labels: 'all', showPoints: true, lockPoints: false });
    expect(sanitizeDisplay({ markerSize: 0.2, labels: 'none' })).toEqual({ markerSize: 2, labels: 'none', showPoints: true, lockPoints: false });
    // settings saved before the lock existed keep theirs and come back unlocked
    expect(sanitizeDisplay({ markerSize: 8, labels: 'selected', showPoints: false })).toEqual({ markerSize: 8, labels: 'selected', showPoints: false, lockPoints: false });
    expect(sanitizeDisplay([1, 2])).toEqual(DEFAULT_DISPLAY);
    const storage = memoryStorage();
    storage.data.set('ld-studio.landmarkDisplay', '{not json');
    expect(readDisplay(storage)).toEqual(DEFAULT_DISPLAY);
    const throwing: ModeStorage = { getItem: () => { throw new Error('disabled'); }, setItem: () => { throw new Error('full'); } };
    expect(readDisplay(throwing)).toEqual(DEFAULT_DISPLAY);
    expect(() => writeDisplay(throwing, DEFAULT_DISPLAY)).not.toThrow();
  });

  it('label modes: all, the selected point only, none; a key cycles them', () => {
    expect([showsLabel('all', false), showsLabel('all', true)]).toEqual([true, true]);
    expect([showsLabel('selected', false), showsLabel('selected', true)]).toEqual([false, true]);
    expect([showsLabel('none', false), showsLabel('none', true)]).toEqual([false, false]);
    expect([nextLabelMode('all'), nextLabelMode('selected'), nextLabelMode('none')]).toEqual(['selected', 'none', 'all']);
  });

  it('draws no label for a point outside the visible canvas', () => {
    expect(insideView([10, 10], 100, 50)).toBe(true);
    expect(insideView([100, 50], 100, 50)).toBe(true);
    expect(insideView([-1, 10], 100, 50)).toBe(false);
    expect(insideView([10, 51], 100, 50)).toBe(false);
  });
});

describe('the loupe', () => {
  const base = { width: 800, height: 600, ratio: 1, size: 120, zoom: 3 };
  it('magnifies a region size/zoom across centred on the cursor, in canvas pixels', () => {
    const g = loupeGeometry({ ...base, cursor: { x: 400, y: 300 } });
    expect([g.sx, g.sy, g.sw, g.sh]).toEqual([380, 280, 40, 40]);
    const hi = loupeGeometry({ ...base, ratio: 2, cursor: { x: 400, y: 300 } });
    expect([hi.sx, hi.sy, hi.sw, hi.sh]).toEqual([760, 560, 80, 80]);
  });

  it('sits above and right of the cursor, flipping at the edges, never over the cursor', () => {
    const covers = (g: { left: number; top: number }, c: { x: number; y: number }) => c.x >= g.left && c.x <= g.left + 120 && c.y >= g.top && c.y <= g.top + 120;
    for (const cursor of [{ x: 400, y: 300 }, { x: 790, y: 300 }, { x: 400, y: 10 }, { x: 790, y: 10 }, { x: 5, y: 595 }]) {
      const g = loupeGeometry({ ...base, cursor });
      expect(covers(g, cursor)).toBe(false);
      expect(g.left).toBeGreaterThanOrEqual(0);
      expect(g.top).toBeGreaterThanOrEqual(0);
      expect(g.left + 120).toBeLessThanOrEqual(800);
      expect(g.top + 120).toBeLessThanOrEqual(600);
    }
    const g = loupeGeometry({ ...base, cursor: { x: 400, y: 300 } });
    expect(g.left).toBeGreaterThan(400);
    expect(g.top + 120).toBeLessThan(300);
  });
});

describe('landmark definitions', () => {
  const sets: LandmarkSetInfo[] = [
    { id: 'isbi-ceph-19', title: 'ceph', names: ['Sella', 'Nasion'], builtIn: true, descriptions: { Sella: 'Centre of the sella turcica' } },
    { id: 'hand-37', title: 'hand', names: ['L1'], builtIn: true },
    { id: 'custom-1', title: '2 landmarks', names: ['a', 'b'], builtIn: false },
  ];

  it("gives the scheme's description of a landmark where it has one", () => {
    expect(landmarkDescription(sets, 'isbi-ceph-19', 'Sella')).toBe('Centre of the sella turcica');
    expect(landmarkDescription(sets, 'isbi-ceph-19', 'Nasion')).toBeUndefined();
    expect(landmarkDescription(sets, 'custom-1', 'a')).toBeUndefined();
    expect(landmarkDescription(undefined, undefined, 'a')).toBeUndefined();
  });

  it('offers the ceph scheme for ISBI-sized images, else the last used, else custom names', () => {
    const ceph = { width: 1935, height: 2400 };
    const hand = { width: 1100, height: 1400 };
    const storage = memoryStorage();
    expect(defaultLandmarkSet([ceph, ceph, hand], sets, storage)).toBe('isbi-ceph-19');
    expect(defaultLandmarkSet([hand, hand], sets, storage)).toBe('custom');
    rememberLandmarkSet(storage, 'hand-37');
    expect(defaultLandmarkSet([hand, hand], sets, storage)).toBe('hand-37');
    expect(defaultLandmarkSet([ceph], sets, storage)).toBe('isbi-ceph-19');
    // a remembered set this project does not have (another project's custom set) is not offered
    rememberLandmarkSet(storage, 'custom-9');
    expect(defaultLandmarkSet([hand], sets, storage)).toBe('custom');
    expect(defaultLandmarkSet([], sets, undefined)).toBe('custom');
  });
});

describe('the wheel zoom', () => {
  it('keeps the point under the cursor where it is', () => {
    const camera = { focalPoint: [100, 200] as const, parallelScale: 50 };
    const about = [140, 180] as const;
    const next = zoomAbout(camera, about, 2, { min: 1, max: 1000 });
    expect(next.parallelScale).toBe(25);
    // the cursor's offset from the centre, in units of the visible half-height, is unchanged
    const before = [(about[0] - camera.focalPoint[0]) / camera.parallelScale, (about[1] - camera.focalPoint[1]) / camera.parallelScale];
    const after = [(about[0] - next.focalPoint[0]) / next.parallelScale, (about[1] - next.focalPoint[1]) / next.parallelScale];
    expect(after[0]).toBeCloseTo(before[0], 10);
    expect(after[1]).toBeCloseTo(before[1], 10);
  });

  it('stops at its limits, still about the cursor', () => {
    const next = zoomAbout({ focalPoint: [0, 0], parallelScale: 10 }, [10, 0], 100, { min: 5, max: 1000 });
    expect(next).toEqual({ focalPoint: [5, 0], parallelScale: 5 });
    expect(zoomAbout({ focalPoint: [0, 0], parallelScale: 900 }, [0, 0], 0.1, { min: 5, max: 1000 }).parallelScale).toBe(1000);
  });

  it('zooms in on wheel up, out on wheel down, by about 1.2× a notch, whatever the delta unit', () => {
    expect(wheelFactor(-100)).toBeGreaterThan(1.15);
    expect(wheelFactor(-100)).toBeLessThan(1.25);
    expect(wheelFactor(100)).toBeCloseTo(1 / wheelFactor(-100), 10);
    expect(wheelFactor(-3, 1)).toBeCloseTo(wheelFactor(-99), 10);
    expect(wheelFactor(-1e6)).toBe(wheelFactor(-300)); // a flung trackpad is capped
  });
});
