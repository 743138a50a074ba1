/**
 * readDicomGeometry (header only, no pixel decode) gives the very geometry imageGeometryOf gives on a
 * full decode, on every real DICOM file the decoder reads: CT/MR/RT Dose with a Frame of Reference,
 * projection radiographs without one (spacing only), and images without spacing (the PIXEL_GEOMETRY
 * object itself, by which the .mrk.json writer tells pixels from millimetres).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImage } from '../../main/io';
import { readDicomGeometry } from '../../main/io/dicom/headerGeometry';
import { imageGeometryOf, PIXEL_GEOMETRY, type ImageGeometry } from '../../main/io/landmarks/formats/dicomGeometry';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { hasPydicomFiles, pydicomFilesDir, pydicomSkipReason } from './helpers/pydicom';

const dicomFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.dcm')).map((n) => join(dir, n)) : []);

const FILES = [
  // the compressed RG2_* copies share RG2_UNC's header and only cost decode time
  ...(hasSharedData ? [...dicomFiles(dataPath('dicom/cr')).filter((f) => /_UNC\.dcm$/.test(f)), ...dicomFiles(dataPath('dicom/ct-3slice-seg'))] : []),
  ...(hasPydicomFiles ? dicomFiles(pydicomFilesDir) : []),
];

type Kind = 'plane' | 'spacing only' | 'pixels';
const kindOf = (g: ImageGeometry): Kind =>
  g === PIXEL_GEOMETRY ? 'pixels' : g.origin.some((v) => v !== 0) || g.rowDirection.join() !== '1,0,0' || g.columnDirection.join() !== '0,1,0' ? 'plane' : 'spacing only';

const skipped = [hasSharedData ? '' : sharedDataSkipReason, hasPydicomFiles ? '' : pydicomSkipReason].filter(Boolean).join('; ');

describe.skipIf(FILES.length === 0)(`header-only DICOM geometry${skipped ? ` (partly skipped: ${skipped})` : ''}`, () => {
  it('equals imageGeometryOf(readImage(file)) on every file the decoder reads, PIXEL_GEOMETRY identity included', async () => {
    const kinds = new Map<Kind, number>();
    for (const file of FILES) {
      let decoded: ImageGeometry;
      try {
        decoded = imageGeometryOf(await readImage(file));
      } catch {
        continue; // not an image the app imports (SR, RT Plan, damaged on purpose …)
      }
      const header = await readDicomGeometry(file);
      expect(header, file).toEqual(decoded);
      expect(header === PIXEL_GEOMETRY, `${file}: pixel geometry is the PIXEL_GEOMETRY object`).toBe(decoded === PIXEL_GEOMETRY);
      kinds.set(kindOf(decoded), (kinds.get(kindOf(decoded)) ?? 0) + 1);
    }
    if (hasSharedData) {
      // the shared CT slices have a Frame of Reference; the CR radiographs only Imager Pixel Spacing
      expect(kinds.get('plane')).toBeGreaterThan(0);
      expect(kinds.get('spacing only')).toBeGreaterThan(0);
    }
    if (hasPydicomFiles) expect(kinds.get('pixels')).toBeGreaterThan(0);
  }, 60_000);

  it.skipIf(!hasSharedData)('names the file when its header cannot be read', async () => {
    const missing = dataPath('dicom/cr/no-such-file.dcm');
    await expect(readDicomGeometry(missing)).rejects.toThrow(missing);
  });
});
