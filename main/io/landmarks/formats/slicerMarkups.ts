/**
 * 3D Slicer markups JSON (.mrk.json), one image per file: a "Fiducial" (point list) markup whose
 * control points are the landmarks, in LPS millimetres (docs/conventions.md §5).
 *
 * A landmark template is a file with fixedNumberOfControlPoints and unplaced points marked
 * positionStatus "undefined"; placed points say "defined" explicitly because older Slicer took a
 * missing status for undefined. Confidence goes at the end of the control point's description
 * ("confidence 0.873"): the schema allows extra properties, but Slicer drops unknown ones when it
 * saves the file again, while the description survives and is shown to the user.
 *
 * An image without geometry (PNG, JPEG, a DICOM without Pixel Spacing) has pixel coordinates. Slicer
 * places such an image at origin 0 with 1 mm per pixel, so its points are written as LPS "mm" =
 * pixels, which is where Slicer shows them. The schema allows only length units ("mm", "um", or a
 * UCUM code), and Slicer refuses a file whose unit differs from the scene's length unit, so the unit
 * stays "mm" and the markup's name says what the numbers are: "<image> (pixel coordinates)". The
 * reader takes that suffix off again.
 */
import { z } from 'zod';
import type { ImageLandmarks, LandmarkTable, PlacedPoint } from '../../../engine/landmarks/types';
import { alignToLandmarks, checkLandmarkNames, singleImage, stemOf } from '../table';
import { PIXEL_GEOMETRY, patientToPixel, pixelToPatient, type ImageGeometry, type Vec3 } from './dicomGeometry';
import { LandmarkFileError, readTextFile, schemaError, writeTextFile, type TextPlace } from './fileError';
import { parseJsonText } from './jsonText';

/**
 * What Slicer itself writes (vtkMRMLMarkupsJsonStorageNode MARKUPS_SCHEMA). It keeps "master" in the
 * URL on purpose, for Slicer < 5.1; readers accept any ".../markups-schema-v1.x.y.json#".
 */
export const MARKUPS_SCHEMA_URL =
  'https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#';
const ACCEPTED_SCHEMA = /markups-schema-v1\.[0-9]+\.[0-9]+\.json#*$/i;

const IDENTITY_ORIENTATION = [1, 0, 0, 0, 1, 0, 0, 0, 1];
/** Appended to the markup's name when its positions are pixels (see the file comment). */
export const PIXEL_NAME_SUFFIX = ' (pixel coordinates)';
const MRK_EXTENSION = '.mrk.json';

export interface MarkupsWriteOptions {
  /** DICOM geometry of the image; without it positions are pixels (x, y, 0) as Slicer maps a PNG. */
  geometry?: ImageGeometry;
  /** Per-landmark descriptions (a scheme's), written into each control point's description. */
  descriptions?: ReadonlyArray<string | undefined>;
}

export interface MarkupsReadOptions {
  /** Names the source in error messages; its stem names the image when the markup has no name. */
  file?: string;
  geometry?: ImageGeometry;
  /** Scheme order: the result follows it; labels the scheme lacks are errors. */
  landmarks?: readonly string[];
  /** Image name to use instead of the markup's name. */
  image?: string;
  onWarning?: (message: string) => void;
}

/** The markups JSON of one image's landmarks. */
export function writeSlicerMarkups(landmarks: readonly string[], image: ImageLandmarks, options: MarkupsWriteOptions = {}): string {
  checkLandmarkNames(landmarks);
  if (image.points.length !== landmarks.length) throw new Error(`image '${image.image}' has ${image.points.length} points for ${landmarks.length} landmarks`);
  const geometry = options.geometry ?? PIXEL_GEOMETRY;
  const inPixels = geometry === PIXEL_GEOMETRY;
  const controlPoints = landmarks.map((label, i) => {
    const point = image.points[i];
    return {
      id: String(i + 1),
      label,
      description: describe(options.descriptions?.[i], point?.confidence),
      associatedNodeID: '',
      position: point ? pixelToPatient(point, geometry) : [0, 0, 0],
      orientation: IDENTITY_ORIENTATION,
      selected: true,
      locked: false,
      visibility: true,
      positionStatus: point ? 'defined' : 'undefined',
    };
  });
  const document = {
    '@schema': MARKUPS_SCHEMA_URL,
    markups: [
      {
        type: 'Fiducial',
        name: inPixels ? `${image.image}${PIXEL_NAME_SUFFIX}` : image.image,
        coordinateSystem: 'LPS',
        coordinateUnits: 'mm',
        locked: false,
        fixedNumberOfControlPoints: true,
        labelFormat: '%N-%d',
        controlPoints,
        measurements: [],
      },
    ],
  };
  // number arrays (position, orientation) on one line each, as Slicer writes them; the pattern needs
  // raw line breaks, which JSON strings never contain, so labels are left alone
  const oneLine = /\[\n\s+(-?[\d.eE+-]+(?:,\n\s+-?[\d.eE+-]+)*)\n\s+\]/g;
  const text = JSON.stringify(document, null, 4).replace(oneLine, (_, numbers: string) => `[${numbers.split(/,\s+/).join(', ')}]`);
  return `${text}\n`;
}

function describe(description: string | undefined, confidence: number | undefined): string {
  const parts = [description, confidence === undefined ? undefined : `confidence ${confidence}`];
  return parts.filter((p): p is string => p !== undefined && p !== '').join('; ');
}

const CONFIDENCE_NOTE = /(?:^|;\s*)confidence\s+([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$/;

const controlPointShape = z.object({
  id: z.string().optional(),
  label: z.string().optional(),
  description: z.string().optional(),
  position: z.array(z.number()).length(3).optional(),
  positionStatus: z.enum(['undefined', 'preview', 'defined']).optional(),
});
const markupShape = z.object({
  type: z.string(),
  name: z.string().optional(),
  coordinateSystem: z.enum(['LPS', 'RAS']).optional(),
  coordinateUnits: z.union([z.enum(['mm', 'um']), z.tuple([z.string(), z.string(), z.string()])]).optional(),
  controlPoints: z.array(controlPointShape).optional(),
});
const documentShape = z.object({ '@schema': z.string(), markups: z.array(z.looseObject({ type: z.string() })) });

/** One image's landmarks from markups JSON text (LPS or RAS, mm or µm). */
export function readSlicerMarkups(input: string, options: MarkupsReadOptions = {}): LandmarkTable {
  const place: TextPlace = { file: options.file };
  const document = documentShape.safeParse(parseJsonText(input, options.file));
  if (!document.success) throw schemaError(document.error, place, 'Slicer markups file');
  const schema = document.data['@schema'];
  if (!ACCEPTED_SCHEMA.test(schema)) {
    throw new LandmarkFileError(`@schema '${schema}' is not a Slicer markups schema (expected …/markups-schema-v1.x.y.json#)`, place);
  }
  const all = document.data.markups;
  const fiducialIndex = all.findIndex((m) => m.type === 'Fiducial');
  const types = [...new Set(all.map((m) => m.type))].join(', ') || 'none';
  if (fiducialIndex < 0) throw new LandmarkFileError(`no point list (type "Fiducial") among the markups (found: ${types})`, place);
  const others = all.filter((m, i) => i !== fiducialIndex);
  if (others.length) {
    options.onWarning?.(
      `${options.file ?? 'markups'}: read the first point list only; ignored ${others.length} other markup(s) (${others.map((m) => m.type).join(', ')})`,
    );
  }
  const markup = markupShape.safeParse(all[fiducialIndex]);
  if (!markup.success) {
    const prefixed = new z.ZodError(markup.error.issues.map((i) => ({ ...i, path: ['markups', fiducialIndex, ...i.path] })));
    throw schemaError(prefixed, place, 'Slicer markups file');
  }
  const { coordinateSystem = 'LPS', coordinateUnits = 'mm', controlPoints = [], name } = markup.data;
  const unit = typeof coordinateUnits === 'string' ? coordinateUnits : coordinateUnits[0];
  const perMillimetre = unit === 'um' ? 1000 : unit === 'mm' ? 1 : NaN;
  if (Number.isNaN(perMillimetre)) throw new LandmarkFileError(`coordinate units '${unit}' are not supported (mm or um)`, place);
  const toLps = coordinateSystem === 'RAS' ? [-1, -1, 1] : [1, 1, 1];
  const geometry = options.geometry ?? PIXEL_GEOMETRY;

  const landmarks = controlPoints.map((cp, i) => cp.label || cp.id || String(i + 1));
  checkLandmarkNames(landmarks, place);
  const points = controlPoints.map((cp, i): PlacedPoint | null => {
    // "preview" is a point still being placed in Slicer: not a landmark yet
    const status = cp.positionStatus ?? 'defined';
    if (status !== 'defined') return null;
    if (!cp.position) throw new LandmarkFileError(`control point ${i + 1} ('${landmarks[i]}') is defined but has no position`, place);
    const lps = cp.position.map((c, k) => (c * toLps[k]) / perMillimetre) as Vec3;
    const pixel: PlacedPoint = patientToPixel(lps, geometry);
    // a number outside [0, 1] after "confidence" is someone's text, not our note
    const confidence = Number(cp.description?.match(CONFIDENCE_NOTE)?.[1]);
    if (confidence >= 0 && confidence <= 1) pixel.confidence = confidence;
    return pixel;
  });
  const markupName = name?.endsWith(PIXEL_NAME_SUFFIX) ? name.slice(0, -PIXEL_NAME_SUFFIX.length) : name;
  const imageName = options.image ?? (markupName || (options.file ? stemOf(options.file, MRK_EXTENSION) : ''));
  const table: LandmarkTable = { landmarks, images: [{ image: imageName, points }] };
  return options.landmarks ? alignToLandmarks(table, options.landmarks, place) : table;
}

export async function readSlicerMarkupsFile(path: string, options: Omit<MarkupsReadOptions, 'file'> = {}): Promise<LandmarkTable> {
  return readSlicerMarkups(await readTextFile(path), { ...options, file: path });
}

/** Write the table's single image as a .mrk.json file, atomically. */
export async function writeSlicerMarkupsFile(path: string, table: LandmarkTable, options: MarkupsWriteOptions = {}): Promise<void> {
  await writeTextFile(path, writeSlicerMarkups(table.landmarks, singleImage(table, 'A Slicer .mrk.json file'), options));
}
