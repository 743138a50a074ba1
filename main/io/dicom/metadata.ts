/** What a DICOM file says beyond its pixels: spacing, rescale, geometry, and the context to copy. */
import type { DicomSource, ImageRecord } from '../imageRecord';
import { functionalGroup, number, numbers, perFrameGroupCount, tag, text, textDecoderFor } from './attributes';
import type { DataSet } from './dicomParser';
import type { PixelModule } from './pixelModule';
import type { TransferSyntax } from './transferSyntax';

const PIXEL_SPACING = tag(0x0028, 0x0030);
const IMAGER_PIXEL_SPACING = tag(0x0018, 0x1164);
const PIXEL_MEASURES_SEQUENCE = tag(0x0028, 0x9110);
const PIXEL_VALUE_TRANSFORMATION_SEQUENCE = tag(0x0028, 0x9145);
const PLANE_POSITION_SEQUENCE = tag(0x0020, 0x9113);
const PLANE_ORIENTATION_SEQUENCE = tag(0x0020, 0x9116);
const IMAGE_POSITION_PATIENT = tag(0x0020, 0x0032);
const IMAGE_ORIENTATION_PATIENT = tag(0x0020, 0x0037);
const FRAME_OF_REFERENCE_UID = tag(0x0020, 0x0052);
const GRID_FRAME_OFFSET_VECTOR = tag(0x3004, 0x000c);
const WINDOW_CENTER = tag(0x0028, 0x1050);
const WINDOW_WIDTH = tag(0x0028, 0x1051);
const RESCALE_INTERCEPT = tag(0x0028, 0x1052);
const RESCALE_SLOPE = tag(0x0028, 0x1053);
const SPECIFIC_CHARACTER_SET = tag(0x0008, 0x0005);
const NUMBER_OF_FRAMES = tag(0x0028, 0x0008);

type ValueKind = 'text' | 'int';

/** Patient, study, series, equipment and instance attributes a derived SEG or SR copies or refers to. */
const CONTEXT_ATTRIBUTES: [keyword: string, t: string, kind: ValueKind][] = [
  // Patient
  ['PatientName', tag(0x0010, 0x0010), 'text'],
  ['PatientID', tag(0x0010, 0x0020), 'text'],
  ['IssuerOfPatientID', tag(0x0010, 0x0021), 'text'],
  ['PatientBirthDate', tag(0x0010, 0x0030), 'text'],
  ['PatientSex', tag(0x0010, 0x0040), 'text'],
  ['PatientAge', tag(0x0010, 0x1010), 'text'],
  // Study
  ['StudyInstanceUID', tag(0x0020, 0x000d), 'text'],
  ['StudyDate', tag(0x0008, 0x0020), 'text'],
  ['StudyTime', tag(0x0008, 0x0030), 'text'],
  ['StudyID', tag(0x0020, 0x0010), 'text'],
  ['AccessionNumber', tag(0x0008, 0x0050), 'text'],
  ['ReferringPhysicianName', tag(0x0008, 0x0090), 'text'],
  ['StudyDescription', tag(0x0008, 0x1030), 'text'],
  // Series
  ['SeriesInstanceUID', tag(0x0020, 0x000e), 'text'],
  ['SeriesNumber', tag(0x0020, 0x0011), 'int'],
  ['SeriesDescription', tag(0x0008, 0x103e), 'text'],
  ['SeriesDate', tag(0x0008, 0x0021), 'text'],
  ['SeriesTime', tag(0x0008, 0x0031), 'text'],
  ['Modality', tag(0x0008, 0x0060), 'text'],
  ['BodyPartExamined', tag(0x0018, 0x0015), 'text'],
  ['Laterality', tag(0x0020, 0x0060), 'text'],
  ['ViewPosition', tag(0x0018, 0x5101), 'text'],
  // Frame of reference
  ['FrameOfReferenceUID', FRAME_OF_REFERENCE_UID, 'text'],
  ['PositionReferenceIndicator', tag(0x0020, 0x1040), 'text'],
  // Equipment
  ['Manufacturer', tag(0x0008, 0x0070), 'text'],
  ['ManufacturerModelName', tag(0x0008, 0x1090), 'text'],
  ['InstitutionName', tag(0x0008, 0x0080), 'text'],
  ['StationName', tag(0x0008, 0x1010), 'text'],
  ['DeviceSerialNumber', tag(0x0018, 0x1000), 'text'],
  ['SoftwareVersions', tag(0x0018, 0x1020), 'text'],
  // Instance / image
  ['SOPClassUID', tag(0x0008, 0x0016), 'text'],
  ['SOPInstanceUID', tag(0x0008, 0x0018), 'text'],
  ['InstanceNumber', tag(0x0020, 0x0013), 'int'],
  ['ContentDate', tag(0x0008, 0x0023), 'text'],
  ['ContentTime', tag(0x0008, 0x0033), 'text'],
  ['AcquisitionDate', tag(0x0008, 0x0022), 'text'],
  ['AcquisitionTime', tag(0x0008, 0x0032), 'text'],
  ['ImageType', tag(0x0008, 0x0008), 'text'],
  ['PatientOrientation', tag(0x0020, 0x0020), 'text'],
  ['ImageLaterality', tag(0x0020, 0x0062), 'text'],
];

/**
 * Keyword → value for the context attributes present: text decoded to Unicode with the file's Specific
 * Character Set (so that attribute itself is left out), multiple values kept as DICOM's `a\b`, IS as numbers.
 */
export function readContext(ds: DataSet): Record<string, unknown> {
  const decoder = textDecoderFor(text(ds, SPECIFIC_CHARACTER_SET));
  const context: Record<string, unknown> = {};
  for (const [keyword, t, kind] of CONTEXT_ATTRIBUTES) {
    const value = kind === 'int' ? number(ds, t) : text(ds, t, decoder);
    if (value !== undefined) context[keyword] = value;
  }
  return context;
}

function spacingOf(values: number[] | undefined): { row: number; column: number } | undefined {
  if (!values || values.length < 2 || !(values[0] > 0) || !(values[1] > 0)) return undefined;
  return { row: values[0], column: values[1] };
}

/**
 * Pixel Spacing (patient plane, also inside the Pixel Measures functional group), else Imager Pixel
 * Spacing (detector plane, projection radiographs: not corrected for geometric magnification).
 */
export function readSpacing(ds: DataSet): ImageRecord['spacing'] {
  const pixel = spacingOf(numbers(ds, PIXEL_SPACING));
  if (pixel) return { ...pixel, source: 'PixelSpacing' };
  const measures = functionalGroup(ds, 0, PIXEL_MEASURES_SEQUENCE);
  const enhanced = measures && spacingOf(numbers(measures, PIXEL_SPACING));
  if (enhanced) return { ...enhanced, source: 'PixelSpacing' };
  const imager = spacingOf(numbers(ds, IMAGER_PIXEL_SPACING));
  return imager ? { ...imager, source: 'ImagerPixelSpacing' } : undefined;
}

/** Rescale Slope / Intercept, from the top level or the Pixel Value Transformation functional group. */
export function readRescale(ds: DataSet): { slope: number; intercept: number } {
  const group = functionalGroup(ds, 0, PIXEL_VALUE_TRANSFORMATION_SEQUENCE);
  const slope = number(ds, RESCALE_SLOPE) ?? (group && number(group, RESCALE_SLOPE)) ?? 1;
  const intercept = number(ds, RESCALE_INTERCEPT) ?? (group && number(group, RESCALE_INTERCEPT)) ?? 0;
  return { slope: slope === 0 ? 1 : slope, intercept };
}

const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/**
 * Image Position (Patient) of every frame: per-frame functional groups (enhanced objects, SEG), the
 * top-level attribute for a single frame, or the Grid Frame Offset Vector along the slice normal
 * (RT Dose). Undefined when some frame's position is unknown.
 */
function readGeometry(ds: DataSet, frames: number): Pick<DicomSource, 'imagePositionPatient' | 'imageOrientationPatient'> {
  const orientation = numbers(ds, IMAGE_ORIENTATION_PATIENT) ?? (() => {
    const group = functionalGroup(ds, 0, PLANE_ORIENTATION_SEQUENCE);
    return group && numbers(group, IMAGE_ORIENTATION_PATIENT);
  })();
  const imageOrientationPatient = orientation?.length === 6 ? orientation : undefined;
  let positions: number[][] | undefined;
  if (perFrameGroupCount(ds) === frames) {
    const perFrame = Array.from({ length: frames }, (_, f) => {
      const group = functionalGroup(ds, f, PLANE_POSITION_SEQUENCE);
      return group && numbers(group, IMAGE_POSITION_PATIENT);
    });
    if (perFrame.every((p) => p?.length === 3)) positions = perFrame as number[][];
  }
  const top = numbers(ds, IMAGE_POSITION_PATIENT);
  if (!positions && top?.length === 3) {
    if (frames === 1) positions = [top];
    else {
      const offsets = numbers(ds, GRID_FRAME_OFFSET_VECTOR);
      if (offsets?.length === frames && imageOrientationPatient) {
        const normal = cross(imageOrientationPatient.slice(0, 3), imageOrientationPatient.slice(3));
        positions = offsets.map((o) => top.map((x, i) => x + o * normal[i]));
      }
    }
  }
  return {
    ...(positions ? { imagePositionPatient: positions } : {}),
    ...(imageOrientationPatient ? { imageOrientationPatient } : {}),
  };
}

export function readDicomSource(ds: DataSet, pm: PixelModule, syntax: TransferSyntax, rescale: { slope: number; intercept: number }): DicomSource {
  const context = readContext(ds);
  const str = (k: string) => (typeof context[k] === 'string' ? (context[k] as string) : '');
  const frameOfReferenceUID = str('FrameOfReferenceUID') || undefined;
  const [center, width] = [number(ds, WINDOW_CENTER), number(ds, WINDOW_WIDTH)];
  const window = center !== undefined && width !== undefined && width >= 1 ? { center, width } : undefined;
  return {
    transferSyntaxUID: syntax.uid,
    sopClassUID: str('SOPClassUID'),
    sopInstanceUID: str('SOPInstanceUID'),
    studyInstanceUID: str('StudyInstanceUID'),
    seriesInstanceUID: str('SeriesInstanceUID'),
    frameOfReferenceUID,
    modality: str('Modality') || undefined,
    photometricInterpretation: pm.photometric,
    bitsAllocated: pm.bitsAllocated,
    bitsStored: pm.bitsStored,
    pixelRepresentation: pm.pixelRepresentation,
    rescaleSlope: rescale.slope,
    rescaleIntercept: rescale.intercept,
    ...(window ? { window } : {}),
    context,
    ...(frameOfReferenceUID ? readGeometry(ds, pm.frames) : {}),
  };
}

/** The attributes imageGeometryOf (main/io/landmarks) maps to patient space: spacing, and plane geometry with a Frame of Reference. */
export interface HeaderGeometry {
  spacing?: ImageRecord['spacing'];
  dicom: Pick<DicomSource, 'frameOfReferenceUID' | 'imagePositionPatient' | 'imageOrientationPatient'>;
}

/**
 * The geometry part of an ImageRecord from the header alone, by the functions a decode uses
 * (readSpacing, and readGeometry only with a Frame of Reference, as readDicomSource does), so a file
 * whose pixels are not needed gives the very same geometry without decoding them.
 */
export function readHeaderGeometry(ds: DataSet): HeaderGeometry {
  const frameOfReferenceUID = text(ds, FRAME_OF_REFERENCE_UID, textDecoderFor(text(ds, SPECIFIC_CHARACTER_SET)));
  // the frame count readPixelModule gives, without its checks of the pixel encoding
  const frames = Math.max(1, Math.round(number(ds, NUMBER_OF_FRAMES) ?? 1));
  const spacing = readSpacing(ds);
  return {
    ...(spacing ? { spacing } : {}),
    dicom: frameOfReferenceUID ? { frameOfReferenceUID, ...readGeometry(ds, frames) } : {},
  };
}
