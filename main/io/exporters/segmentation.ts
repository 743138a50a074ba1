/**
 * DICOM Segmentation (classic Segmentation Storage, 1.2.840.10008.5.1.4.1.1.66.4) built from masks
 * on DICOM source images, written with dcmjs's data layer.
 *
 * Two kinds of source (conventions.md §1, §2):
 * - Images with a Frame of Reference and plane geometry (CT, MR slices): the SEG shares the Frame of
 *   Reference; Pixel Measures and Plane Orientation are shared functional groups, Plane Position is
 *   per frame, and the dimensions are (Referenced Segment Number, Image Position (Patient)).
 * - A projection radiograph without a Frame of Reference (CR, DX): the highdicom approach after
 *   David Clunie's guidance (highdicom#159, PR #183). No Frame of Reference module, no Pixel
 *   Measures, Plane Position or Plane Orientation; frames map to the source only through the
 *   per-frame Derivation Image Sequence; the one dimension left is Referenced Segment Number. As in
 *   highdicom, that works for one source image only (a second image would repeat the dimension index
 *   values), so such an export takes exactly one source.
 *
 * Frames are matched to source images by SOP Instance UID, never by order (docs/stack-notes.md).
 * Everything is checked before anything is built; see ExportError for what a failure says.
 */
import { concept, type CodedConcept } from './codes';
import { copyNaturalValue, writePart10, type NaturalDataset } from './dcmjs';
import type { SourceImage } from './dicomSource';
import { dicomDateTime, IMPLEMENTATION_VERSION_NAME, newUid, SOFTWARE, toCodeString } from './dicomValues';
import { ExportError } from './exportError';
import { copyFrameOfReference, copyPatientAndStudy } from './patientStudy';
import type { SegmentationMetadata, SegmentDescription } from './segmentDescription';
import {
  dimensionIndexSequence,
  keptPlanes,
  MAXIMUM_FRACTIONAL_VALUE,
  perFrameFunctionalGroups,
  pixelDataOf,
  segmentsOverlap,
  sharedFunctionalGroups,
  sourceReference,
  storedPlanes,
  type SegmentationType,
  type SegmentMasks,
} from './segmentFrames';
import { checkSegment, segmentItem } from './segmentItems';
import { orderSources } from './segmentSources';

export { MAXIMUM_FRACTIONAL_VALUE, type SegmentationType, type SegmentMasks } from './segmentFrames';

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

export interface SegmentInput extends SegmentDescription {
  masks: SegmentMasks;
}

export interface SegmentationOptions {
  /** BINARY (default, widest support) or FRACTIONAL (PROBABILITY, 8-bit). */
  type?: SegmentationType;
  metadata?: SegmentationMetadata;
  /** Leave out frames where a segment is empty, as dcmqi --skip and highdicom do (default true). */
  skipEmptyFrames?: boolean;
  /** Device Serial Number of the Enhanced General Equipment module (type 1; default "0", as dcmqi). */
  deviceSerialNumber?: string;
  /** Fixed UIDs and time, for reproducible output in tests. */
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  now?: Date;
}

export interface SegmentationSummary {
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  type: SegmentationType;
  /** True for the CT/MR path (Frame of Reference, plane geometry), false for a radiograph. */
  spatial: boolean;
  rows: number;
  columns: number;
  frames: number;
  /** Frames left out because the segment is empty there. */
  emptyFramesSkipped: number;
  segments: Array<{ number: number; label: string; type: CodedConcept; frames: number }>;
  sources: number;
  warnings: string[];
}

export interface BuiltSegmentation {
  dataset: NaturalDataset;
  summary: SegmentationSummary;
}

/** Lossy Image Compression is inherited: a SEG on a lossy-compressed image must say so (PS3.3 C.7.6.1.1.5). */
function lossyCompression(sources: readonly SourceImage[]): NaturalDataset {
  const lossy = sources.find((s) => String(s.dataset.LossyImageCompression ?? '').trim() === '01');
  if (!lossy) return { LossyImageCompression: '00' };
  const out: NaturalDataset = { LossyImageCompression: '01' };
  if (lossy.dataset.LossyImageCompressionRatio !== undefined) out.LossyImageCompressionRatio = lossy.dataset.LossyImageCompressionRatio;
  if (lossy.dataset.LossyImageCompressionMethod !== undefined) out.LossyImageCompressionMethod = lossy.dataset.LossyImageCompressionMethod;
  return out;
}

/** Common Instance Reference: the source images by series (what OHIF needs to show a SEG, OHIF#4030). */
function referencedSeries(sources: readonly SourceImage[]): NaturalDataset[] {
  const bySeries = new Map<string, NaturalDataset[]>();
  for (const s of sources) bySeries.set(s.seriesInstanceUID, [...(bySeries.get(s.seriesInstanceUID) ?? []), sourceReference(s)]);
  return [...bySeries].map(([uid, instances]) => ({ SeriesInstanceUID: uid, ReferencedInstanceSequence: instances }));
}

/** Series-level and content attributes from dcmqi metadata, with LD Studio's defaults. */
function seriesAndContent(metadata: SegmentationMetadata, type: SegmentationType, first: SourceImage, warnings: string[]): NaturalDataset {
  const out: NaturalDataset = {
    SeriesNumber: metadata.SeriesNumber ?? 900,
    SeriesDescription: (metadata.SeriesDescription ?? `LD Studio segmentation (${type})`).slice(0, 64),
    InstanceNumber: metadata.InstanceNumber ?? 1,
    ContentLabel: toCodeString(metadata.ContentLabel ?? 'SEGMENTATION'),
    ContentDescription: (metadata.ContentDescription ?? 'Segmentation exported by LD Studio').slice(0, 64),
    ContentCreatorName: metadata.ContentCreatorName ?? '',
  };
  const bodyPart = metadata.BodyPartExamined ?? first.dataset.BodyPartExamined;
  if (typeof bodyPart === 'string' && bodyPart.trim() !== '') out.BodyPartExamined = bodyPart;
  if (metadata.ClinicalTrialSeriesID) out.ClinicalTrialSeriesID = metadata.ClinicalTrialSeriesID;
  if (metadata.ClinicalTrialCoordinatingCenterName) out.ClinicalTrialCoordinatingCenterName = metadata.ClinicalTrialCoordinatingCenterName;
  if (metadata.ClinicalTrialTimePointID) {
    // a Study attribute: a value the source study lacks makes the SEG and its source disagree (dcentvfy)
    if (!first.dataset.ClinicalTrialTimePointID) warnings.push('ClinicalTrialTimePointID is a study attribute the source study does not have; the SEG adds it');
    out.ClinicalTrialTimePointID = metadata.ClinicalTrialTimePointID;
  }
  return out;
}

/** Builds the SEG data set; throws ExportError on any inconsistency. No file is touched. */
export function buildSegmentation(sources: readonly SourceImage[], segments: readonly SegmentInput[], options: SegmentationOptions = {}): BuiltSegmentation {
  const type = options.type ?? 'BINARY';
  if (type !== 'BINARY' && type !== 'FRACTIONAL') throw new ExportError(`segmentation type must be BINARY or FRACTIONAL, not '${String(type)}'`);
  const { ordered, spatial } = orderSources(sources);
  if (segments.length === 0) throw new ExportError('no segments were given');
  const warnings: string[] = [];
  segments.forEach((s, i) => checkSegment(s, i + 1, warnings));
  const planes = storedPlanes(ordered, segments, type);
  const kept = keptPlanes(planes, options.skipEmptyFrames ?? true);

  const first = ordered[0];
  const { date, time } = dicomDateTime(options.now ?? new Date());
  const sopInstanceUID = options.sopInstanceUID ?? newUid();
  const seriesInstanceUID = options.seriesInstanceUID ?? newUid();
  const dimensionOrganizationUID = newUid();
  const bits = type === 'BINARY' ? 1 : 8;

  const dataset: NaturalDataset = {
    ...copyPatientAndStudy(first.dataset),
    // SOP Common
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: sopInstanceUID,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    // General Series, Segmentation Series (a new series, never the source's)
    Modality: 'SEG',
    SeriesInstanceUID: seriesInstanceUID,
    SeriesDate: date,
    SeriesTime: time,
    // (Enhanced) General Equipment: the software that made the SEG, not the scanner
    Manufacturer: SOFTWARE.name,
    ManufacturerModelName: SOFTWARE.name,
    DeviceSerialNumber: options.deviceSerialNumber ?? '0',
    SoftwareVersions: SOFTWARE.version,
    // General Image, Image Pixel, Segmentation Image
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentDate: date,
    ContentTime: time,
    ...seriesAndContent(options.metadata ?? {}, type, first, warnings),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    NumberOfFrames: kept.length,
    Rows: first.rows,
    Columns: first.columns,
    BitsAllocated: bits,
    BitsStored: bits,
    HighBit: bits - 1,
    PixelRepresentation: 0,
    ...lossyCompression(ordered),
    SegmentationType: type,
    ...(type === 'FRACTIONAL' ? { SegmentationFractionalType: 'PROBABILITY', MaximumFractionalValue: MAXIMUM_FRACTIONAL_VALUE } : {}),
    SegmentsOverlap: segmentsOverlap(kept, type, segments.length),
    SegmentSequence: segments.map((s, i) => segmentItem(s, i + 1)),
    // Multi-frame Dimension, Multi-frame Functional Groups
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUID }],
    DimensionIndexSequence: dimensionIndexSequence(dimensionOrganizationUID, spatial),
    SharedFunctionalGroupsSequence: [sharedFunctionalGroups(first, spatial)],
    PerFrameFunctionalGroupsSequence: perFrameFunctionalGroups(kept, spatial),
    // Common Instance Reference
    ReferencedSeriesSequence: referencedSeries(ordered),
    PixelData: pixelDataOf(kept, type).buffer,
  };
  dataset._vrMap = { ...(dataset._vrMap ?? {}), PixelData: 'OB' };
  if (first.frameOfReferenceUID) {
    // the Frame of Reference module is required when the sources have one
    Object.assign(dataset, copyFrameOfReference(first.dataset));
    if (!spatial) warnings.push(`${first.path} names a Frame of Reference but lacks plane geometry; the SEG shares the Frame of Reference UID without plane positions`);
  }
  if (!spatial) {
    // General Image: Patient Orientation (type 2C) is required when there is no plane orientation;
    // the frames are the source image's pixels, so they share its orientation (or its empty value)
    dataset.PatientOrientation = copyNaturalValue(first.dataset.PatientOrientation ?? '');
  }

  const summary: SegmentationSummary = {
    sopInstanceUID,
    seriesInstanceUID,
    studyInstanceUID: first.studyInstanceUID,
    type,
    spatial,
    rows: first.rows,
    columns: first.columns,
    frames: kept.length,
    emptyFramesSkipped: planes.length - kept.length,
    segments: segments.map((s, i) => ({ number: i + 1, label: s.label, type: concept(s.type), frames: kept.filter((p) => p.segment === i + 1).length })),
    sources: ordered.length,
    warnings,
  };
  return { dataset, summary };
}

/** The SEG as a Part 10 file (Explicit VR Little Endian). */
export function segmentationToBytes(built: BuiltSegmentation): Uint8Array {
  return writePart10(built.dataset, IMPLEMENTATION_VERSION_NAME);
}
