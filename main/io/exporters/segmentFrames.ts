/**
 * The frames of a SEG: one per (segment, source image), their functional groups and Pixel Data.
 * A frame carries its source through the per-frame Derivation Image Sequence always, and through
 * Plane Position only on the spatial (Frame of Reference) path.
 */
import type { CodedConcept } from './codes';
import type { NaturalDataset } from './dcmjs';
import type { SourceImage } from './dicomSource';
import { formatDS } from './dicomValues';
import { ExportError } from './exportError';
import { concatByteFrames, packBinaryFrames } from './pixelPacking';
import { codeItem } from './segmentItems';

export type SegmentationType = 'BINARY' | 'FRACTIONAL';

/** Stored value for probability 1 in FRACTIONAL segmentations (8-bit). */
export const MAXIMUM_FRACTIONAL_VALUE = 255;

/**
 * One mask per source image, keyed by the source's SOP Instance UID; rows×columns, row-major.
 * BINARY: non-zero is inside. FRACTIONAL: a Float32Array holds probabilities in [0, 1]; a Uint8Array
 * holds the stored value itself (probability × 255, as an 8-bit probability map does).
 */
export type SegmentMasks = ReadonlyMap<string, Uint8Array | Float32Array>;

/** One candidate frame: a segment on a source image, as stored (0/1 or 0…255). */
export interface Plane {
  segment: number;
  source: SourceImage;
  /** 1-based rank of the source along the slice normal (its dimension index value). */
  position: number;
  pixels: Uint8Array;
}

const PURPOSE_SOURCE_IMAGE: CodedConcept = { CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' };
const DERIVATION_SEGMENTATION: CodedConcept = { CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' };
const TAG_REFERENCED_SEGMENT_NUMBER = 0x0062000b;
const TAG_SEGMENT_IDENTIFICATION_SEQUENCE = 0x0062000a;
const TAG_IMAGE_POSITION_PATIENT = 0x00200032;
const TAG_PLANE_POSITION_SEQUENCE = 0x00209113;

/** The stored frame for one mask: 0/1 (BINARY) or 0…255 (FRACTIONAL). */
function storedFrame(mask: Uint8Array | Float32Array, type: SegmentationType, where: string): Uint8Array {
  const out = new Uint8Array(mask.length);
  if (type === 'BINARY') {
    for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? 1 : 0;
    return out;
  }
  if (mask instanceof Uint8Array) return mask;
  for (let i = 0; i < mask.length; i++) {
    const p = mask[i];
    if (!(p >= 0 && p <= 1)) throw new ExportError(`${where}: probability ${p} at pixel ${i} is outside [0, 1]`);
    out[i] = Math.round(p * MAXIMUM_FRACTIONAL_VALUE);
  }
  return out;
}

/**
 * Every segment's stored frame on every source, in frame order (segment, then position). A mask
 * missing, extra or of the wrong size is refused, naming the segment and the source.
 */
export function storedPlanes(ordered: readonly SourceImage[], segments: ReadonlyArray<{ label: string; masks: SegmentMasks }>, type: SegmentationType): Plane[] {
  const { rows, columns } = ordered[0];
  const pixels = rows * columns;
  const known = new Set(ordered.map((s) => s.sopInstanceUID));
  const planes: Plane[] = [];
  segments.forEach((segment, s) => {
    const number = s + 1;
    for (const uid of segment.masks.keys()) {
      if (!known.has(uid)) throw new ExportError(`segment ${number} ('${segment.label}') has a mask for SOP Instance UID ${uid}, which is none of the source images`);
    }
    ordered.forEach((source, position) => {
      const mask = segment.masks.get(source.sopInstanceUID);
      if (!mask) throw new ExportError(`segment ${number} ('${segment.label}') has no mask for this source image (SOP Instance UID ${source.sopInstanceUID})`, source.path);
      if (mask.length !== pixels) {
        throw new ExportError(`the mask of segment ${number} holds ${mask.length} pixels, but the image is ${columns}×${rows} = ${pixels}; masks must have the source's size`, source.path);
      }
      planes.push({ segment: number, source, position: position + 1, pixels: storedFrame(mask, type, `${source.path}, segment ${number}`) });
    });
  });
  return planes;
}

/**
 * The planes to write: empty ones are left out (dcmqi --skip, highdicom omit_empty_frames), but a
 * segment that is empty everywhere keeps its frames, so every described segment is in the pixel data.
 */
export function keptPlanes(planes: readonly Plane[], skipEmpty: boolean): Plane[] {
  if (!skipEmpty) return [...planes];
  const empty = planes.map((p) => p.pixels.every((v) => v === 0));
  const withContent = new Set(planes.filter((_, i) => !empty[i]).map((p) => p.segment));
  return planes.filter((p, i) => !empty[i] || !withContent.has(p.segment));
}

/** Multi-frame Dimension module: segment number, and on the spatial path the plane position. */
export function dimensionIndexSequence(organizationUID: string, spatial: boolean): NaturalDataset[] {
  const dimensions: NaturalDataset[] = [
    {
      DimensionOrganizationUID: organizationUID,
      DimensionIndexPointer: TAG_REFERENCED_SEGMENT_NUMBER,
      FunctionalGroupPointer: TAG_SEGMENT_IDENTIFICATION_SEQUENCE,
      DimensionDescriptionLabel: 'ReferencedSegmentNumber',
    },
  ];
  if (spatial) {
    dimensions.push({
      DimensionOrganizationUID: organizationUID,
      DimensionIndexPointer: TAG_IMAGE_POSITION_PATIENT,
      FunctionalGroupPointer: TAG_PLANE_POSITION_SEQUENCE,
      DimensionDescriptionLabel: 'ImagePositionPatient',
    });
  }
  return dimensions;
}

export const sourceReference = (source: SourceImage): NaturalDataset => ({
  ReferencedSOPClassUID: source.sopClassUID,
  ReferencedSOPInstanceUID: source.sopInstanceUID,
});

/** Per-frame Functional Groups: derivation from the source image, dimension values, segment, position. */
export function perFrameFunctionalGroups(planes: readonly Plane[], spatial: boolean): NaturalDataset[] {
  return planes.map((plane) => {
    const item: NaturalDataset = {
      DerivationImageSequence: [
        {
          // the frame is the source's pixel grid, unresampled: spatial locations are preserved
          SourceImageSequence: [{ ...sourceReference(plane.source), PurposeOfReferenceCodeSequence: [codeItem(PURPOSE_SOURCE_IMAGE)], SpatialLocationsPreserved: 'YES' }],
          DerivationCodeSequence: [codeItem(DERIVATION_SEGMENTATION)],
        },
      ],
      FrameContentSequence: [{ DimensionIndexValues: spatial ? [plane.segment, plane.position] : [plane.segment] }],
      SegmentIdentificationSequence: [{ ReferencedSegmentNumber: plane.segment }],
    };
    if (spatial) item.PlanePositionSequence = [{ ImagePositionPatient: plane.source.geometry!.imagePositionPatient.map(formatDS) }];
    return item;
  });
}

/**
 * Shared Functional Groups: orientation and pixel measures on the spatial path; one empty item for a
 * radiograph, which has neither (highdicom writes the same).
 */
export function sharedFunctionalGroups(first: SourceImage, spatial: boolean): NaturalDataset {
  const shared: NaturalDataset = {};
  if (!spatial) return shared;
  const g = first.geometry!;
  shared.PlaneOrientationSequence = [{ ImageOrientationPatient: g.imageOrientationPatient.map(formatDS) }];
  const measures: NaturalDataset = { PixelSpacing: g.pixelSpacing.map(formatDS) };
  if (g.sliceThickness !== undefined) measures.SliceThickness = formatDS(g.sliceThickness);
  shared.PixelMeasuresSequence = [measures];
  return shared;
}

/** Pixel Data: 1-bit packed (BINARY) or 8-bit (FRACTIONAL) frames, back to back. */
export function pixelDataOf(planes: readonly Plane[], type: SegmentationType): Uint8Array {
  const frames = planes.map((p) => p.pixels);
  const pixelsPerFrame = planes[0].source.rows * planes[0].source.columns;
  return type === 'BINARY' ? packBinaryFrames(frames, pixelsPerFrame) : concatByteFrames(frames, pixelsPerFrame);
}

/** Segments Overlap: whether a pixel of one source lies in two BINARY segments. */
export function segmentsOverlap(planes: readonly Plane[], type: SegmentationType, segments: number): 'YES' | 'NO' | 'UNDEFINED' {
  if (segments === 1) return 'NO';
  if (type === 'FRACTIONAL') return 'UNDEFINED'; // probabilities of several segments may sum over 1
  const bySource = new Map<string, Uint8Array[]>();
  for (const p of planes) bySource.set(p.source.sopInstanceUID, [...(bySource.get(p.source.sopInstanceUID) ?? []), p.pixels]);
  for (const list of bySource.values()) {
    if (list.length < 2) continue;
    for (let i = 0; i < list[0].length; i++) {
      let n = 0;
      for (const pixels of list) n += pixels[i];
      if (n > 1) return 'YES';
    }
  }
  return 'NO';
}
