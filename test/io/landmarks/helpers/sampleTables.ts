/** Landmark tables that exercise what files get wrong: names with spaces, commas, quotes and non-ASCII. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LandmarkTable } from '../../../../main/io/landmarks';

export const TRICKY_LANDMARKS = ['Sella', 'Nasion, soft "tissue"', 'Ångström point ä/ß', ' padded ', '頭蓋点'];

/** Two images: one fully placed with confidences, one partly placed; fractional coordinates. */
export function trickyTable(): LandmarkTable {
  return {
    landmarks: [...TRICKY_LANDMARKS],
    images: [
      {
        image: 'patient 01, "AP" view.png',
        width: 1935,
        height: 2400,
        points: [
          { x: 835.5, y: 996.25, confidence: 0.873 },
          { x: 1473.123456789, y: 1029.0000001, confidence: 1 },
          { x: 0, y: 0, confidence: 0 },
          { x: 1934.999, y: 2399.5 },
          { x: 12.3e-5, y: 7 },
        ],
      },
      {
        image: 'Müller – seitlich.jpg',
        width: 800,
        height: 600,
        points: [null, { x: 400, y: 300 }, null, null, { x: 1, y: 2, confidence: 0.5 }],
      },
    ],
  };
}

/** A table without confidences or sizes, as formats that hold only positions give back. */
export function positionsOnly(table: LandmarkTable): LandmarkTable {
  return {
    landmarks: table.landmarks,
    images: table.images.map(({ image, points }) => ({ image, points: points.map((p) => (p ? { x: p.x, y: p.y } : null)) })),
  };
}

export function withoutSizes(table: LandmarkTable): LandmarkTable {
  return { landmarks: table.landmarks, images: table.images.map(({ image, points }) => ({ image, points })) };
}

/** A temporary folder removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
