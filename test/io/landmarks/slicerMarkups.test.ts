import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  geometryFromDicom,
  MARKUPS_SCHEMA_URL,
  patientToPixel,
  pixelToPatient,
  readSlicerMarkups,
  readSlicerMarkupsFile,
  writeSlicerMarkups,
  writeSlicerMarkupsFile,
  type ImageGeometry,
  type LandmarkTable,
} from '../../../main/io/landmarks';
import { validateJson } from './helpers/jsonSchema';
import { tempDir, trickyTable, withoutSizes } from './helpers/sampleTables';

const schemaPath = resolve(__dirname, '../../../resources/landmarks/schema/markups-schema-v1.0.3.json');
const markupsSchema: unknown = JSON.parse(readFileSync(schemaPath, 'utf8'));

/** Each image of the tricky table as its own one-image table. */
const oneImageTables = (): LandmarkTable[] => {
  const t = trickyTable();
  return t.images.map((im) => ({ landmarks: t.landmarks, images: [im] }));
};

interface ControlPoint {
  id: string;
  label: string;
  description: string;
  position: number[];
  orientation: number[];
  positionStatus: string;
  selected: boolean;
  locked: boolean;
  visibility: boolean;
}
interface Markup {
  type: string;
  coordinateSystem: string;
  coordinateUnits: string;
  fixedNumberOfControlPoints: boolean;
  labelFormat: string;
  controlPoints: ControlPoint[];
}
const markupOf = (text: string) => (JSON.parse(text) as { markups: Markup[] }).markups[0];

describe('Slicer .mrk.json writing', () => {
  const [full, partial] = oneImageTables();
  const text = writeSlicerMarkups(partial.landmarks, partial.images[0], { descriptions: ['Centre of sella turcica'] });
  const markup = markupOf(text);

  it('writes the schema URL Slicer writes and a fixed-size Fiducial list in LPS mm', () => {
    expect((JSON.parse(text) as { '@schema': string })['@schema']).toBe(MARKUPS_SCHEMA_URL);
    expect(MARKUPS_SCHEMA_URL).toMatch(/markups-schema-v1\.0\.3\.json#$/);
    expect(markup).toMatchObject({ type: 'Fiducial', coordinateSystem: 'LPS', coordinateUnits: 'mm', fixedNumberOfControlPoints: true, labelFormat: '%N-%d' });
  });

  it('an image without geometry: positions are pixels, kept "mm" for Slicer (1 mm per pixel) and named so; the reader takes the note off', () => {
    const named = JSON.parse(text) as { markups: Array<{ name: string; coordinateUnits: string }> };
    expect(named.markups[0]).toMatchObject({ name: `${partial.images[0].image} (pixel coordinates)`, coordinateUnits: 'mm' });
    expect(readSlicerMarkups(text).images[0].image).toBe(partial.images[0].image);
    // with a real geometry the positions are millimetres and the name is the image's alone
    const geometry = geometryFromDicom([0, 0, 0], [0.1, 0.1], [1, 0, 0, 0, 1, 0]);
    const mm = JSON.parse(writeSlicerMarkups(partial.landmarks, partial.images[0], { geometry })) as typeof named;
    expect(mm.markups[0].name).toBe(partial.images[0].image);
  });

  it('writes one control point per landmark, positionStatus always explicit', () => {
    expect(markup.controlPoints.map((cp) => cp.label)).toEqual(partial.landmarks);
    expect(markup.controlPoints.map((cp) => cp.positionStatus)).toEqual(['undefined', 'defined', 'undefined', 'undefined', 'defined']);
    expect(markup.controlPoints[0].position).toEqual([0, 0, 0]);
    expect(markup.controlPoints[1].position).toEqual([400, 300, 0]);
    for (const cp of markup.controlPoints) {
      expect(cp.orientation).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
      expect(typeof cp.selected && typeof cp.locked && typeof cp.visibility).toBe('boolean');
    }
    expect(markup.controlPoints.map((cp) => cp.id)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('keeps the description and appends the confidence to it', () => {
    expect(markup.controlPoints[0].description).toBe('Centre of sella turcica');
    expect(markup.controlPoints[4].description).toBe('confidence 0.5');
  });

  it.each([
    ['a partly placed image', partial],
    ['a fully placed image with confidences', full],
    ['a template with no point placed', { landmarks: ['A', 'B'], images: [{ image: 'template', points: [null, null] }] }],
  ])('validates against the vendored Slicer schema: %s', (_, table: LandmarkTable) => {
    const written: unknown = JSON.parse(writeSlicerMarkups(table.landmarks, table.images[0]));
    expect(validateJson(written, markupsSchema)).toEqual([]);
  });

  it('the schema checker rejects what the schema forbids', () => {
    const bad = JSON.parse(text) as { markups: Array<Record<string, unknown>> };
    bad.markups[0].coordinateSystem = 'XYZ';
    (bad.markups[0].controlPoints as ControlPoint[])[0].positionStatus = 'maybe';
    (bad.markups[0].controlPoints as ControlPoint[])[1].position = [1, 2];
    const errors = validateJson(bad, markupsSchema);
    expect(errors.join('\n')).toMatch(/coordinateSystem/);
    expect(errors.join('\n')).toMatch(/positionStatus|anyOf/);
    expect(validateJson({ markups: [] }, markupsSchema)).toEqual(["$: missing required '@schema'"]);
  });

  const ajvRequire = createRequire(__filename);
  const hasAjv = (() => {
    try {
      ajvRequire.resolve('ajv');
      return true;
    } catch {
      return false;
    }
  })();
  // ajv is not a dependency of LD Studio (eslint brings it); when present it cross-checks the small checker
  it.skipIf(!hasAjv)('agrees with ajv, when ajv is installed', () => {
    type Validate = ((data: unknown) => boolean) & { errors?: unknown };
    const Ajv = ajvRequire('ajv') as new (options: object) => { compile(schema: unknown): Validate };
    const validate = new Ajv({ allErrors: true }).compile(markupsSchema);
    for (const table of [...oneImageTables()]) expect(validate(JSON.parse(writeSlicerMarkups(table.landmarks, table.images[0])))).toBe(true);
    expect(validate({ '@schema': 'x', markups: [{ type: 'Fiducial', controlPoints: [{ positionStatus: 'maybe' }] }] })).toBe(false);
  });
});

describe('Slicer .mrk.json round trip', () => {
  it.each(oneImageTables().map((t, i) => [i, t] as const))('image %i: write → read gives the same landmarks, names and confidences', (_, table) => {
    const text = writeSlicerMarkups(table.landmarks, table.images[0]);
    // mrk.json carries no image size
    expect(readSlicerMarkups(text)).toEqual(withoutSizes(table));
  });

  it('file helpers write atomically and read back; the image name comes from the markup', async () => {
    const { dir, cleanup } = tempDir('ld-mrk-');
    try {
      const table = oneImageTables()[0];
      const path = join(dir, 'case 1.mrk.json');
      await writeSlicerMarkupsFile(path, table);
      expect(await readSlicerMarkupsFile(path)).toEqual(withoutSizes(table));
      await expect(writeSlicerMarkupsFile(path, trickyTable())).rejects.toThrow(/one image/);
    } finally {
      cleanup();
    }
  });

  it('reads a scheme order: reorders and fills missing landmarks with null', () => {
    const text = writeSlicerMarkups(['B', 'A'], { image: 'x', points: [{ x: 1, y: 2 }, null] });
    expect(readSlicerMarkups(text, { landmarks: ['A', 'B', 'C'] }).images[0].points).toEqual([null, { x: 1, y: 2 }, null]);
    expect(() => readSlicerMarkups(text, { landmarks: ['A'], file: 'x.mrk.json' })).toThrow(/x\.mrk\.json: landmark 'B' not in the scheme/);
  });
});

describe('DICOM geometry', () => {
  // an oblique image: rotated about z by 30°, tilted, with unequal row and column spacing
  const c = Math.cos(Math.PI / 6);
  const s = Math.sin(Math.PI / 6);
  const geometry: ImageGeometry = geometryFromDicom([-120.5, 88.25, -30], [0.2, 0.15], [c, s, 0, -s * 0.8, c * 0.8, 0.6]);

  it('maps a pixel to LPS mm as origin + x·colSpacing·rowDir + y·rowSpacing·colDir', () => {
    const [x, y] = [100, 40];
    const expected = [0, 1, 2].map((k) => geometry.origin[k] + x * 0.15 * geometry.rowDirection[k] + y * 0.2 * geometry.columnDirection[k]);
    pixelToPatient({ x, y }, geometry).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 10));
    const back = patientToPixel(pixelToPatient({ x, y }, geometry), geometry);
    expect(back.x).toBeCloseTo(x, 9);
    expect(back.y).toBeCloseTo(y, 9);
  });

  it('the top-left pixel centre is ImagePositionPatient', () => {
    expect(pixelToPatient({ x: 0, y: 0 }, geometry)).toEqual(geometry.origin);
  });

  it('round trips a table through mrk.json with the geometry', () => {
    const table = oneImageTables()[0];
    const text = writeSlicerMarkups(table.landmarks, table.images[0], { geometry });
    const first = markupOf(text).controlPoints[0].position;
    pixelToPatient(table.images[0].points[0] ?? { x: NaN, y: NaN }, geometry).forEach((v, k) => expect(first[k]).toBeCloseTo(v, 10));
    const read = readSlicerMarkups(text, { geometry });
    read.images[0].points.forEach((p, i) => {
      const q = table.images[0].points[i];
      expect(p?.x).toBeCloseTo(q?.x ?? NaN, 8);
      expect(p?.y).toBeCloseTo(q?.y ?? NaN, 8);
      expect(p?.confidence).toBe(q?.confidence);
    });
  });
});

describe('Slicer .mrk.json reading what others write', () => {
  // the "main" URL of a newer schema version, as other tools write it
  const schema = 'https://raw.githubusercontent.com/Slicer/Slicer/main/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.4.json#';
  const file = (markups: unknown[]) => JSON.stringify({ '@schema': schema, markups });

  it('reads RAS files by negating x and y, µm by scaling, and a missing positionStatus as defined', () => {
    const text = file([
      {
        type: 'Fiducial',
        coordinateSystem: 'RAS',
        coordinateUnits: ['um', 'UCUM', 'micrometer'],
        controlPoints: [
          { label: 'A', position: [-10000, -20000, 0] },
          { label: 'B', position: [5, 5, 0], positionStatus: 'preview' },
        ],
      },
    ]);
    expect(readSlicerMarkups(text, { file: 'dir/left hand.mrk.json' })).toEqual({
      landmarks: ['A', 'B'],
      images: [{ image: 'left hand', points: [{ x: 10, y: 20 }, null] }],
    });
  });

  it('ignores non-Fiducial markups with a warning, and refuses a file without a point list', () => {
    const warnings: string[] = [];
    const fiducial = { type: 'Fiducial', controlPoints: [{ label: 'A', position: [1, 2, 0], positionStatus: 'defined' }] };
    const read = readSlicerMarkups(file([{ type: 'Line' }, fiducial, { type: 'Curve' }]), { file: 'm.mrk.json', onWarning: (m) => warnings.push(m) });
    expect(read.images[0].points).toEqual([{ x: 1, y: 2 }]);
    expect(warnings).toEqual(['m.mrk.json: read the first point list only; ignored 2 other markup(s) (Line, Curve)']);
    expect(() => readSlicerMarkups(file([{ type: 'Line' }, { type: 'Angle' }]), { file: 'm.mrk.json' })).toThrow(
      'm.mrk.json: no point list (type "Fiducial") among the markups (found: Line, Angle)',
    );
  });

  it('refuses files that are not markups, naming the file and the field', () => {
    expect(() => readSlicerMarkups('{"@schema": "https://example.org/other.json", "markups": []}', { file: 'a.mrk.json' })).toThrow(
      /^a\.mrk\.json: @schema 'https:\/\/example\.org\/other\.json' is not a Slicer markups schema/,
    );
    expect(() => readSlicerMarkups(file([{ type: 'Fiducial', controlPoints: [{ label: 'A', position: [1, 'x', 0] }] }]), { file: 'b.mrk.json' })).toThrow(
      /^b\.mrk\.json: not a valid Slicer markups file: markups\[0\]\.controlPoints\[0\]\.position\[1\]/,
    );
    expect(() => readSlicerMarkups('{"markups": []}', { file: 'c.mrk.json' })).toThrow(/^c\.mrk\.json: not a valid Slicer markups file: @schema/);
  });
});

describe('Slicer .mrk.json layout', () => {
  it('puts number arrays on one line but leaves labels that look like arrays alone', () => {
    const text = writeSlicerMarkups(['[ 1, 2 ]'], { image: 'x', points: [{ x: 1.5, y: -2e-7 }] });
    expect(text).toContain('"position": [1.5, -2e-7, 0]');
    expect(text).toContain('"orientation": [1, 0, 0, 0, 1, 0, 0, 0, 1]');
    expect(text).toContain('"label": "[ 1, 2 ]"');
    expect(readSlicerMarkups(text).landmarks).toEqual(['[ 1, 2 ]']);
  });

  it('a number after "confidence" outside [0, 1] stays description text', () => {
    const text = JSON.stringify({
      '@schema': MARKUPS_SCHEMA_URL,
      markups: [{ type: 'Fiducial', controlPoints: [{ label: 'A', description: 'confidence 7', position: [1, 2, 0], positionStatus: 'defined' }] }],
    });
    expect(readSlicerMarkups(text).images[0].points).toEqual([{ x: 1, y: 2 }]);
  });
});
