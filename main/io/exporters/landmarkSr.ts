/**
 * Landmarks of one image as a DICOM SR Measurement Report (TID 1500) in an Enhanced SR document
 * (1.2.840.10008.5.1.4.1.1.88.22), the class for 2D SCOORD content (conventions.md §6; dcmqi's
 * tid1500writer and QuantitativeReporting use the same class). Comprehensive 3D SR would only be
 * needed for SCOORD3D points in patient millimetres; landmarks here are pixel positions on one image.
 *
 * Tree: Imaging Measurement Report → language, observer (TID 1002), procedure reported → Image
 * Library (TID 1600) → Imaging Measurements → one Measurement Group (TID 1410) per placed landmark
 * with Tracking Identifier (the landmark name), Tracking Unique Identifier and an Image Region SCOORD
 * POINT selected from the source image.
 *
 * Confidence is left out on purpose: LD Studio's confidence is an uncalibrated similarity score, and
 * no DICOM concept codes "confidence of a landmark position" without misstating it (CAD "Certainty"
 * concepts mean something else). It stays in the CSV and .mrk.json exports; the report says so.
 */
import { imageStem } from '../../engine/landmarks/metrics';
import type { LandmarkTable, PlacedPoint } from '../../engine/landmarks/types';
import { readLongCsvFile } from '../landmarks/formats/longCsv';
import { LandmarkFileError } from '../landmarks/formats/fileError';
import { writeFileAtomic } from '../atomicWrite';
import { writePart10, type NaturalDataset } from './dcmjs';
import { dicomDateTime, IMPLEMENTATION_VERSION_NAME, newUid, SOFTWARE, SOFTWARE_NAME_AND_VERSION, uidFromKey } from './dicomValues';
import { readSourceImage, type SourceImage } from './dicomSource';
import { ExportError } from './exportError';
import { copyPatientAndStudy } from './patientStudy';
import { checkOutputFile } from './segmentationFiles';
import { codeItem, container, imageItem, pnameItem, pointItem, referencedSop, SR_CODES as C, textItem, uidItem } from './srContent';

export const ENHANCED_SR_STORAGE = '1.2.840.10008.5.1.4.1.1.88.22';

/** Why confidences are not in the SR (repeated in every report so nobody looks for them there). */
export const CONFIDENCE_NOTE =
  'landmark confidences are not written to the SR: they are uncalibrated scores and no DICOM concept codes them correctly; they remain in the CSV and .mrk.json files';

export interface LandmarkSrOptions {
  /**
   * Key for the Tracking Unique Identifiers: the same key and landmark name give the same UID on
   * every image, so one landmark is linkable across a cohort. Default: the landmark list itself.
   */
  trackingNamespace?: string;
  /** A person who placed or reviewed the points ("Family^Given"); default: LD Studio as device observer. */
  observerName?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  /** Fixed UIDs and time (tests). */
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  now?: Date;
}

export interface LandmarkSrSummary {
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  referencedSopInstanceUID: string;
  measurementGroups: number;
  landmarks: Array<{ name: string; x: number; y: number; trackingUid: string }>;
  /** Landmarks of the table without a position on this image: no group is written for them. */
  unplaced: string[];
  confidence: { written: false; note: string; available: number };
}

/** The Tracking Unique Identifier of a landmark: stable across images for one landmark set. */
export function landmarkTrackingUid(landmark: string, namespace: string): string {
  return uidFromKey(`landmark-tracking:${namespace}:${landmark}`);
}

function observerContext(options: LandmarkSrOptions): NaturalDataset[] {
  if (options.observerName) {
    return [codeItem('HAS OBS CONTEXT', C.observerType, C.person), pnameItem('HAS OBS CONTEXT', C.personObserverName, options.observerName)];
  }
  return [
    codeItem('HAS OBS CONTEXT', C.observerType, C.device),
    // one UID for the application as a device: the same observer in every report it writes
    uidItem('HAS OBS CONTEXT', C.deviceObserverUid, uidFromKey(`device-observer:${SOFTWARE.name}`)),
    textItem('HAS OBS CONTEXT', C.deviceObserverName, SOFTWARE.name),
    textItem('HAS OBS CONTEXT', C.deviceObserverManufacturer, SOFTWARE.name),
    textItem('HAS OBS CONTEXT', C.deviceObserverModelName, SOFTWARE_NAME_AND_VERSION),
  ];
}

/**
 * The SR data set for the landmarks of one source image. `points[i]` is the position of
 * `landmarks[i]` in LD Studio pixel coordinates (centre of the top-left pixel at 0, 0), or null.
 */
export function buildLandmarkSr(
  source: SourceImage,
  landmarks: readonly string[],
  points: ReadonlyArray<PlacedPoint | null>,
  options: LandmarkSrOptions = {},
): { dataset: NaturalDataset; summary: LandmarkSrSummary } {
  if (landmarks.length !== points.length) throw new Error(`${landmarks.length} landmark names but ${points.length} points`);
  const namespace = options.trackingNamespace ?? landmarks.join('\u0000');
  const placed: LandmarkSrSummary['landmarks'] = [];
  const unplaced: string[] = [];
  const groups: NaturalDataset[] = [];
  landmarks.forEach((landmark, i) => {
    const p = points[i];
    if (!p) {
      unplaced.push(landmark);
      return;
    }
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new ExportError(`landmark '${landmark}' has no finite position`);
    // pixel centres: ours at integers, DICOM's at +0.5
    const column = p.x + 0.5;
    const row = p.y + 0.5;
    if (column < 0 || row < 0 || column > source.columns || row > source.rows) {
      throw new ExportError(
        `landmark '${landmark}' at (${p.x}, ${p.y}) lies outside the ${source.columns}×${source.rows} image; an SR point must be on its image — fix or remove it`,
        source.path,
      );
    }
    const trackingUid = landmarkTrackingUid(landmark, namespace);
    placed.push({ name: landmark, x: p.x, y: p.y, trackingUid });
    groups.push(
      container(
        C.measurementGroup,
        [
          textItem('HAS OBS CONTEXT', C.trackingIdentifier, landmark),
          uidItem('HAS OBS CONTEXT', C.trackingUniqueIdentifier, trackingUid),
          pointItem(C.imageRegion, column, row, source),
        ],
        'CONTAINS',
        '1410',
      ),
    );
  });
  if (groups.length === 0) throw new ExportError('no landmark is placed on this image; there is nothing to report', source.path);

  const now = options.now ?? new Date();
  const { date, time } = dicomDateTime(now);
  const sopInstanceUID = options.sopInstanceUID ?? newUid();
  const seriesInstanceUID = options.seriesInstanceUID ?? newUid();
  const content = container(C.imagingMeasurementReport, [
    codeItem('HAS CONCEPT MOD', C.languageOfContent, C.englishUS),
    ...observerContext(options),
    codeItem('HAS CONCEPT MOD', C.procedureReported, C.imagingProcedure),
    container(C.imageLibrary, [container(C.imageLibraryGroup, [imageItem('CONTAINS', source)], 'CONTAINS')], 'CONTAINS'),
    container(C.imagingMeasurements, groups, 'CONTAINS'),
  ], undefined, '1500');

  const dataset: NaturalDataset = {
    ...copyPatientAndStudy(source.dataset),
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    SOPClassUID: ENHANCED_SR_STORAGE,
    SOPInstanceUID: sopInstanceUID,
    // SR Document Series
    Modality: 'SR',
    SeriesInstanceUID: seriesInstanceUID,
    SeriesNumber: options.seriesNumber ?? 901,
    SeriesDescription: (options.seriesDescription ?? 'LD Studio landmarks').slice(0, 64),
    SeriesDate: date,
    SeriesTime: time,
    ReferencedPerformedProcedureStepSequence: [],
    // General Equipment: the software that wrote the report
    Manufacturer: SOFTWARE.name,
    ManufacturerModelName: SOFTWARE.name,
    SoftwareVersions: SOFTWARE.version,
    // SR Document General
    InstanceNumber: 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: date,
    ContentTime: time,
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [
      {
        StudyInstanceUID: source.studyInstanceUID,
        ReferencedSeriesSequence: [{ SeriesInstanceUID: source.seriesInstanceUID, ReferencedSOPSequence: [referencedSop(source)] }],
      },
    ],
    ...content,
  };
  const summary: LandmarkSrSummary = {
    sopInstanceUID,
    seriesInstanceUID,
    studyInstanceUID: source.studyInstanceUID,
    referencedSopInstanceUID: source.sopInstanceUID,
    measurementGroups: groups.length,
    landmarks: placed,
    unplaced,
    confidence: { written: false, note: CONFIDENCE_NOTE, available: points.filter((p) => p?.confidence !== undefined).length },
  };
  return { dataset, summary };
}

export function landmarkSrToBytes(dataset: NaturalDataset): Uint8Array {
  return writePart10(dataset, IMPLEMENTATION_VERSION_NAME);
}

/** The table's entry for a source file: same name, else same stem ("RG2_UNC.dcm" ↔ "RG2_UNC"). */
export function landmarksForImage(table: LandmarkTable, sourcePath: string, file?: string) {
  const name = sourcePath.split(/[\\/]/).pop() ?? sourcePath;
  const found = table.images.find((i) => (i.image.split(/[\\/]/).pop() ?? i.image) === name) ?? table.images.find((i) => imageStem(i.image) === imageStem(name));
  if (!found) {
    const names = table.images.slice(0, 8).map((i) => i.image).join(', ');
    throw new ExportError(
      `no landmarks for ${name} (rows are matched by file name or stem); the file holds ${table.images.length} image(s): ${names}${table.images.length > 8 ? ', …' : ''}`,
      file,
    );
  }
  return found;
}

export interface LandmarkSrExportRequest extends LandmarkSrOptions {
  /** The DICOM image the landmarks were placed on. */
  source: string;
  /** Long CSV (image,landmark,x,y,confidence). */
  landmarks: string;
  out: string;
}

export interface LandmarkSrExportReport extends LandmarkSrSummary {
  out: string;
  bytes: number;
  source: string;
  image: string;
}

export async function exportLandmarkSrFiles(request: LandmarkSrExportRequest): Promise<LandmarkSrExportReport> {
  const out = checkOutputFile(request.out);
  const source = await readSourceImage(request.source, 'DICOM SR');
  let table: LandmarkTable;
  try {
    table = await readLongCsvFile(request.landmarks);
  } catch (err) {
    // its message already starts with the file (and line)
    if (err instanceof LandmarkFileError) throw new ExportError(err.message);
    throw err;
  }
  const entry = landmarksForImage(table, source.path, request.landmarks);
  const { dataset, summary } = buildLandmarkSr(source, table.landmarks, entry.points, request);
  const bytes = landmarkSrToBytes(dataset);
  writeFileAtomic(out, bytes);
  return { out, bytes: bytes.length, source: source.path, image: entry.image, ...summary };
}
