/**
 * Reads a DICOM Segmentation (BINARY or FRACTIONAL, classic Segmentation Storage) written by any
 * tool (dcmqi, 3D Slicer, highdicom, OHIF, LD Studio) into plain typed arrays the app can overlay:
 * the segments' descriptions and one mask per frame, keyed by the SOP Instance UID of the source
 * image it was derived from. Parsing and pixel decoding reuse main/io/dicom, so native and
 * compressed (RLE, JPEG-LS, JPEG 2000) pixel data are read as for any other image.
 */
import { resolve } from 'node:path';
import { firstItem, numbers, tag, text, textDecoderFor, uint16 } from '../dicom/attributes';
import { decodeFrame } from '../dicom/decodeFrame';
import type { DataSet } from '../dicom/dicomParser';
import { encapsulatedFrames } from '../dicom/encapsulatedFrames';
import { checkNativeLength, readNativeFrame } from '../dicom/nativeFrames';
import { parseDataSet } from '../dicom/parseDataSet';
import { InputFileError, readInputFile } from '../inputFile';
import { PIXEL_DATA, readPixelModule } from '../dicom/pixelModule';
import { unsupportedTransferSyntaxReason } from '../dicom/transferSyntax';
import { describeThrown, DecodeFailure } from '../errors';

export interface Code {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
}

export interface SegmentInfo {
  /** Segment Number: what frames refer to (1, 2, …). */
  number: number;
  label: string;
  description?: string;
  algorithmType?: string;
  algorithmName?: string;
  category?: Code;
  type?: Code;
  typeModifier?: Code;
  anatomicRegion?: Code;
  trackingId?: string;
  trackingUid?: string;
  /** As stored (16-bit DICOM CIELab). */
  recommendedDisplayCIELab?: [number, number, number];
}

export interface FrameSource {
  sopInstanceUID: string;
  sopClassUID?: string;
  /** Frame of a multi-frame source image (1-based), when the SEG names one. */
  frameNumber?: number;
}

export interface SegmentationFrame {
  /** 0-based index of the frame in the SEG. */
  index: number;
  segmentNumber: number;
  /** Source images the frame was derived from (Derivation Image Sequence); empty if the SEG gives none. */
  sources: FrameSource[];
  /** Image Position (Patient) of the frame, when the SEG has plane positions. */
  imagePositionPatient?: number[];
  /** rows×columns, row-major: 0/1 (BINARY) or 0…maximumFractionalValue (FRACTIONAL). */
  pixels: Uint8Array;
}

export interface Segmentation {
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  frameOfReferenceUID?: string;
  rows: number;
  columns: number;
  type: 'BINARY' | 'FRACTIONAL';
  /** FRACTIONAL only. */
  fractionalType?: 'PROBABILITY' | 'OCCUPANCY';
  /** FRACTIONAL only: the stored value meaning probability (or occupancy) 1. */
  maximumFractionalValue?: number;
  imageOrientationPatient?: number[];
  pixelSpacing?: number[];
  segments: SegmentInfo[];
  frames: SegmentationFrame[];
  /** Frames by the SOP Instance UID of their source image (a frame with several sources is under each). */
  framesBySource: Map<string, SegmentationFrame[]>;
}

/** Every failure names the file and says what is wrong with it. */
export class SegmentationReadError extends Error {
  constructor(
    readonly reason: string,
    readonly file?: string,
  ) {
    super(file ? `${file}: ${reason}` : reason);
    this.name = 'SegmentationReadError';
  }
}

const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
const LABEL_MAP_SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.7';

const T = {
  sopClassUID: tag(0x0008, 0x0016),
  sopInstanceUID: tag(0x0008, 0x0018),
  studyInstanceUID: tag(0x0020, 0x000d),
  seriesInstanceUID: tag(0x0020, 0x000e),
  frameOfReferenceUID: tag(0x0020, 0x0052),
  specificCharacterSet: tag(0x0008, 0x0005),
  segmentationType: tag(0x0062, 0x0001),
  segmentSequence: tag(0x0062, 0x0002),
  categorySequence: tag(0x0062, 0x0003),
  segmentNumber: tag(0x0062, 0x0004),
  segmentLabel: tag(0x0062, 0x0005),
  segmentDescription: tag(0x0062, 0x0006),
  algorithmType: tag(0x0062, 0x0008),
  algorithmName: tag(0x0062, 0x0009),
  segmentIdentificationSequence: tag(0x0062, 0x000a),
  referencedSegmentNumber: tag(0x0062, 0x000b),
  cieLab: tag(0x0062, 0x000d),
  maximumFractionalValue: tag(0x0062, 0x000e),
  typeSequence: tag(0x0062, 0x000f),
  fractionalType: tag(0x0062, 0x0010),
  typeModifierSequence: tag(0x0062, 0x0011),
  trackingId: tag(0x0062, 0x0020),
  trackingUid: tag(0x0062, 0x0021),
  anatomicRegionSequence: tag(0x0008, 0x2218),
  codeValue: tag(0x0008, 0x0100),
  codingSchemeDesignator: tag(0x0008, 0x0102),
  codeMeaning: tag(0x0008, 0x0104),
  longCodeValue: tag(0x0008, 0x0119),
  urnCodeValue: tag(0x0008, 0x0120),
  sharedGroups: tag(0x5200, 0x9229),
  perFrameGroups: tag(0x5200, 0x9230),
  derivationImageSequence: tag(0x0008, 0x9124),
  sourceImageSequence: tag(0x0008, 0x2112),
  referencedSopClassUID: tag(0x0008, 0x1150),
  referencedSopInstanceUID: tag(0x0008, 0x1155),
  referencedFrameNumber: tag(0x0008, 0x1160),
  planePositionSequence: tag(0x0020, 0x9113),
  planeOrientationSequence: tag(0x0020, 0x9116),
  pixelMeasuresSequence: tag(0x0028, 0x9110),
  imagePositionPatient: tag(0x0020, 0x0032),
  imageOrientationPatient: tag(0x0020, 0x0037),
  pixelSpacing: tag(0x0028, 0x0030),
};

type Decoder = ReturnType<typeof textDecoderFor>;

/** A read on an item that may be absent. */
const maybe = <R>(ds: DataSet | undefined, read: (ds: DataSet) => R | undefined): R | undefined => (ds ? read(ds) : undefined);

const items = (ds: DataSet | undefined, t: string): DataSet[] => (ds?.elements[t]?.items ?? []).flatMap((i) => (i.dataSet ? [i.dataSet] : []));

function readCode(ds: DataSet | undefined, decoder: Decoder): Code | undefined {
  if (!ds) return undefined;
  const value = text(ds, T.codeValue) ?? text(ds, T.longCodeValue) ?? text(ds, T.urnCodeValue);
  const scheme = text(ds, T.codingSchemeDesignator);
  const meaning = text(ds, T.codeMeaning, decoder);
  return value && scheme ? { CodeValue: value, CodingSchemeDesignator: scheme, CodeMeaning: meaning ?? '' } : undefined;
}

function readSegment(item: DataSet, decoder: Decoder): SegmentInfo {
  const number = uint16(item, T.segmentNumber);
  if (number === undefined) throw new DecodeFailure('a Segment Sequence item has no Segment Number (0062,0004)', 'corrupt');
  const segment: SegmentInfo = { number, label: text(item, T.segmentLabel, decoder) ?? `Segment ${number}` };
  const optional = {
    description: text(item, T.segmentDescription, decoder),
    algorithmType: text(item, T.algorithmType),
    algorithmName: text(item, T.algorithmName, decoder),
    category: readCode(firstItem(item, T.categorySequence), decoder),
    type: readCode(firstItem(item, T.typeSequence), decoder),
    // the modifier sits inside the type's item (Segment Description macro)
    typeModifier: readCode(firstItem(firstItem(item, T.typeSequence), T.typeModifierSequence), decoder),
    anatomicRegion: readCode(firstItem(item, T.anatomicRegionSequence), decoder),
    trackingId: text(item, T.trackingId, decoder),
    trackingUid: text(item, T.trackingUid),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (segment as unknown as Record<string, unknown>)[key] = value;
  const lab = item.elements[T.cieLab];
  if (lab && lab.length >= 6) segment.recommendedDisplayCIELab = [item.uint16(T.cieLab, 0)!, item.uint16(T.cieLab, 1)!, item.uint16(T.cieLab, 2)!];
  return segment;
}

/** Functional group macro item of a frame: per-frame first, then shared. */
function group(perFrame: DataSet | undefined, shared: DataSet | undefined, macro: string): DataSet | undefined {
  return firstItem(perFrame, macro) ?? firstItem(shared, macro);
}

function readFrameSources(perFrame: DataSet | undefined, shared: DataSet | undefined): FrameSource[] {
  const derivations = items(perFrame, T.derivationImageSequence);
  const list = derivations.length ? derivations : items(shared, T.derivationImageSequence);
  return list.flatMap((d) =>
    items(d, T.sourceImageSequence).flatMap((s): FrameSource[] => {
      const sopInstanceUID = text(s, T.referencedSopInstanceUID);
      if (!sopInstanceUID) return [];
      const source: FrameSource = { sopInstanceUID };
      const sopClassUID = text(s, T.referencedSopClassUID);
      if (sopClassUID) source.sopClassUID = sopClassUID;
      const frame = numbers(s, T.referencedFrameNumber)?.[0];
      if (frame !== undefined) source.frameNumber = frame;
      return [source];
    }),
  );
}

async function parse(bytes: Uint8Array): Promise<Segmentation> {
  const { dataSet: ds, transferSyntax } = parseDataSet(bytes);
  const sopClass = text(ds, T.sopClassUID);
  if (sopClass === LABEL_MAP_SEGMENTATION_STORAGE) {
    throw new DecodeFailure('this is a Label Map Segmentation (LABELMAP), which is not supported yet; BINARY and FRACTIONAL are', 'unsupported-format');
  }
  if (sopClass !== SEGMENTATION_STORAGE) {
    throw new DecodeFailure(`not a DICOM Segmentation: SOP Class UID ${sopClass ?? '(none)'} (Segmentation Storage is ${SEGMENTATION_STORAGE})`, 'not-an-image');
  }
  const type = text(ds, T.segmentationType);
  if (type !== 'BINARY' && type !== 'FRACTIONAL') {
    throw new DecodeFailure(`Segmentation Type ${type ?? '(missing)'} is not supported (BINARY and FRACTIONAL are)`, 'unsupported-format');
  }
  if (!transferSyntax.encoding) throw new DecodeFailure(unsupportedTransferSyntaxReason(transferSyntax), 'unsupported-transfer-syntax');
  const pixelData = ds.elements[PIXEL_DATA];
  if (!pixelData) throw new DecodeFailure('the Segmentation has no Pixel Data', 'corrupt');
  const pm = readPixelModule(ds);
  const expectedBits = type === 'BINARY' ? 1 : 8;
  if (pm.bitsAllocated !== expectedBits) {
    throw new DecodeFailure(`a ${type} Segmentation has Bits Allocated ${expectedBits}, this one ${pm.bitsAllocated}`, 'corrupt');
  }
  const decoder = textDecoderFor(text(ds, T.specificCharacterSet));
  const segments = items(ds, T.segmentSequence).map((item) => readSegment(item, decoder));
  if (segments.length === 0) throw new DecodeFailure('the Segment Sequence (0062,0002) is empty: no segment is described', 'corrupt');

  const perFrameItems = ds.elements[T.perFrameGroups]?.items ?? [];
  if (perFrameItems.length !== pm.frames) {
    throw new DecodeFailure(`Number of Frames is ${pm.frames} but the Per-frame Functional Groups Sequence has ${perFrameItems.length} items`, 'corrupt');
  }
  const shared = firstItem(ds, T.sharedGroups);
  const pixelsPerFrame = pm.rows * pm.columns;
  const native = transferSyntax.encoding === 'native';
  if (native) checkNativeLength(ds, pixelData, pm);
  const encapsulated = native ? undefined : encapsulatedFrames(ds, pixelData, pm.frames, transferSyntax.encoding);

  const maximum = type === 'FRACTIONAL' ? (uint16(ds, T.maximumFractionalValue) ?? 255) : 1;
  const frames: SegmentationFrame[] = [];
  for (let f = 0; f < pm.frames; f++) {
    const perFrame = perFrameItems[f].dataSet;
    const segmentNumber = maybe(group(perFrame, shared, T.segmentIdentificationSequence), (g) => uint16(g, T.referencedSegmentNumber));
    if (segmentNumber === undefined) throw new DecodeFailure(`frame ${f + 1} has no Referenced Segment Number (Segment Identification Sequence)`, 'corrupt');
    const samples = native
      ? readNativeFrame(ds, pixelData, pm, f, transferSyntax.littleEndian).samples
      : (await decodeFrame(transferSyntax, encapsulated!.read(f), pm)).samples;
    const pixels = samples instanceof Uint8Array ? samples : Uint8Array.from(samples);
    if (pixels.length !== pixelsPerFrame) throw new DecodeFailure(`frame ${f + 1} holds ${pixels.length} pixels, ${pixelsPerFrame} expected`, 'corrupt');
    const frame: SegmentationFrame = { index: f, segmentNumber, sources: readFrameSources(perFrame, shared), pixels };
    const position = maybe(group(perFrame, shared, T.planePositionSequence), (g) => numbers(g, T.imagePositionPatient));
    if (position?.length === 3) frame.imagePositionPatient = position;
    frames.push(frame);
  }
  if (type === 'FRACTIONAL') {
    for (const frame of frames) {
      const over = frame.pixels.find((v) => v > maximum);
      if (over !== undefined) throw new DecodeFailure(`frame ${frame.index + 1} holds ${over}, above Maximum Fractional Value ${maximum}`, 'corrupt');
    }
  }

  const framesBySource = new Map<string, SegmentationFrame[]>();
  for (const frame of frames) {
    for (const source of frame.sources) framesBySource.set(source.sopInstanceUID, [...(framesBySource.get(source.sopInstanceUID) ?? []), frame]);
  }
  const result: Segmentation = {
    sopInstanceUID: text(ds, T.sopInstanceUID) ?? '',
    seriesInstanceUID: text(ds, T.seriesInstanceUID) ?? '',
    studyInstanceUID: text(ds, T.studyInstanceUID) ?? '',
    rows: pm.rows,
    columns: pm.columns,
    type,
    segments,
    frames,
    framesBySource,
  };
  const frameOfReferenceUID = text(ds, T.frameOfReferenceUID);
  if (frameOfReferenceUID) result.frameOfReferenceUID = frameOfReferenceUID;
  if (type === 'FRACTIONAL') {
    result.maximumFractionalValue = maximum;
    result.fractionalType = text(ds, T.fractionalType) === 'OCCUPANCY' ? 'OCCUPANCY' : 'PROBABILITY';
  }
  const orientation = maybe(firstItem(shared, T.planeOrientationSequence), (g) => numbers(g, T.imageOrientationPatient));
  if (orientation?.length === 6) result.imageOrientationPatient = orientation;
  const spacing = maybe(firstItem(shared, T.pixelMeasuresSequence), (g) => numbers(g, T.pixelSpacing));
  if (spacing?.length === 2) result.pixelSpacing = spacing;
  return result;
}

/** Reads a SEG from a file path or its bytes; failures are SegmentationReadErrors naming the file. */
export async function readSegmentation(input: string | Uint8Array, options: { file?: string } = {}): Promise<Segmentation> {
  const file = typeof input === 'string' ? resolve(input) : options.file;
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    try {
      bytes = await readInputFile(input);
    } catch (err) {
      if (err instanceof InputFileError) throw new SegmentationReadError(err.reason, file);
      const code = (err as NodeJS.ErrnoException).code;
      throw new SegmentationReadError(code === 'ENOENT' ? 'file not found' : `file cannot be read (${describeThrown(err)})`, file);
    }
  } else bytes = input;
  try {
    return await parse(bytes);
  } catch (err) {
    if (err instanceof DecodeFailure) throw new SegmentationReadError(err.reason, file);
    throw new SegmentationReadError(`not a readable DICOM Segmentation (${describeThrown(err)})`, file);
  }
}

/**
 * The mask of one segment on one source image, or undefined when the SEG has no frame for it (an
 * empty frame left out by the writer, or an image the segment does not touch).
 */
export function segmentMask(seg: Segmentation, sopInstanceUID: string, segmentNumber: number, frameNumber?: number): Uint8Array | undefined {
  return seg.framesBySource
    .get(sopInstanceUID)
    ?.find((f) => f.segmentNumber === segmentNumber && (frameNumber === undefined || f.sources.some((s) => s.sopInstanceUID === sopInstanceUID && (s.frameNumber ?? 1) === frameNumber)))?.pixels;
}
