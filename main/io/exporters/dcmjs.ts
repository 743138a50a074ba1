/**
 * dcmjs, typed as far as this code uses it. dcmjs ships no type declarations and a UMD bundle, so it
 * is loaded with require like dicom-parser (main/io/dicom/dicomParser.ts). Only its data layer is
 * used: reading a file into a "naturalized" data set (attributes by keyword) and writing one back.
 * Its SEG derivation is not used: it refuses single-frame sources (docs/stack-notes.md, DICOM).
 */
import { createRequire } from 'node:module';

/** A data set keyed by DICOM keyword; sequences are arrays of data sets, `_vrMap` overrides VRs. */
export type NaturalDataset = { [keyword: string]: unknown; _vrMap?: Record<string, string> };

/** DICOM JSON model element as dcmjs keeps it: `{ vr, Value }` keyed by tag 'GGGGEEEE'. */
type DenaturalizedDataset = Record<string, { vr: string; Value?: unknown[] }>;

interface DicomDictInstance {
  meta: DenaturalizedDataset;
  dict: DenaturalizedDataset;
  write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
}

interface Logger {
  setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
  getLogger(name: string): Logger;
}

interface Dcmjs {
  data: {
    DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: { untilTag?: string; includeUntilTagValue?: boolean; ignoreErrors?: boolean }): DicomDictInstance;
    };
    DicomDict: new (meta: DenaturalizedDataset) => DicomDictInstance;
    DicomMetaDictionary: {
      naturalizeDataset(dataset: DenaturalizedDataset): NaturalDataset;
      denaturalizeDataset(dataset: NaturalDataset): DenaturalizedDataset;
    };
    Colors: {
      /** 8-bit sRGB → 16-bit DICOM CIELab (Recommended Display CIELab Value). */
      rgb82DICOMLAB(rgb: ArrayLike<number>): number[];
      /** 16-bit DICOM CIELab → 8-bit sRGB. */
      dicomlab2RGB8(lab: ArrayLike<number>): number[];
    };
  };
  log: Logger;
}

const requireHere = createRequire(__filename);

export const dcmjs = requireHere('dcmjs') as Dcmjs;

// dcmjs logs through loglevel: its "validation" logger reports VRs it repairs while reading (the
// `xs` of implicit-VR Pixel Padding Value, …) on stderr, which would garble the CLI's output.
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
dcmjs.log.setLevel('error');

const PIXEL_DATA_TAG = '7FE00010';

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

/**
 * The data set of a Part 10 file by keyword, text decoded by its Specific Character Set (dcmjs
 * rewrites that attribute to ISO_IR 192 since its strings are now Unicode). `withoutPixelData`
 * stops before Pixel Data: enough for copying modules, and quick on large radiographs.
 */
export function readNaturalDataset(bytes: Uint8Array, options: { withoutPixelData?: boolean } = {}): NaturalDataset {
  const dict = dcmjs.data.DicomMessage.readFile(
    arrayBufferOf(bytes),
    options.withoutPixelData ? { untilTag: PIXEL_DATA_TAG, includeUntilTagValue: false } : undefined,
  );
  // dcmjs leaves a placeholder for the tag it stopped at
  if (options.withoutPixelData) delete dict.dict[PIXEL_DATA_TAG];
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
}

/**
 * A deep copy of a natural value: dcmjs decorates arrays and items with accessor functions, which
 * structuredClone refuses; only data is kept.
 */
export function copyNaturalValue<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof ArrayBuffer) return value.slice(0) as T;
  if (ArrayBuffer.isView(value)) return (value as unknown as Uint8Array).slice() as unknown as T;
  if (Array.isArray(value)) return value.map((v) => copyNaturalValue(v)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v !== 'function') out[key] = copyNaturalValue(v);
  return out as T;
}

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/**
 * LD Studio's implementation identity in the File Meta Information (PS3.7 D.3.3.2): a UUID-derived
 * UID fixed for the application, and the version, so a file's writer can be traced.
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.244242250483739057655840238028327600653';

/** A Part 10 file (preamble, meta header, data set in Explicit VR Little Endian) for a data set. */
export function writePart10(dataset: NaturalDataset, implementationVersionName: string): Uint8Array {
  const sopClassUID = dataset.SOPClassUID;
  const sopInstanceUID = dataset.SOPInstanceUID;
  if (typeof sopClassUID !== 'string' || typeof sopInstanceUID !== 'string') {
    throw new Error('a data set needs SOPClassUID and SOPInstanceUID to be written');
  }
  const meta = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUID,
    MediaStorageSOPInstanceUID: sopInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: implementationVersionName.slice(0, 16),
    _vrMap: { FileMetaInformationVersion: 'OB' },
  });
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}
