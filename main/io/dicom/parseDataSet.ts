/** Parses a DICOM byte stream (Part 10 file or bare data set) into a dicom-parser DataSet. */
import { inflateRawSync } from 'node:zlib';
import { DecodeFailure, describeThrown } from '../errors';
import { tag, text } from './attributes';
import { dicomParser, type DataSet } from './dicomParser';
import { lookupTransferSyntax, unsupportedTransferSyntaxReason, type TransferSyntax } from './transferSyntax';

export interface ParsedDicom {
  dataSet: DataSet;
  /** From the meta header, or inferred from the first bytes of a data set without one. */
  transferSyntax: TransferSyntax;
}

const TRANSFER_SYNTAX_UID = tag(0x0002, 0x0010);

/** dicom-parser's messages when it runs past the end of the buffer. */
const OVERRUN = /overrun|past end|beyond|end of buffer|eof|cannot seek|outside|out of range|maxPosition|greater than or equal to 'byteArray' length/i;

function inflater(bytes: Uint8Array, position: number): Uint8Array {
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(bytes.subarray(position));
  } catch (err) {
    throw new DecodeFailure(`deflated data set cannot be inflated (${describeThrown(err)}); the file is damaged or truncated`, 'truncated');
  }
  const whole = new Uint8Array(position + inflated.length);
  whole.set(bytes.subarray(0, position));
  whole.set(inflated, position);
  return whole;
}

const isUpper = (b: number) => b >= 0x41 && b <= 0x5a;

/**
 * Transfer syntax of a data set without File Meta Information, from its first element: a big-endian
 * group reads 00 08 …, an explicit VR has two capital letters after the tag.
 */
function inferTransferSyntax(bytes: Uint8Array, at: number): string | undefined {
  if (bytes.length < at + 8) return undefined;
  const bigEndian = bytes[at] === 0x00 && bytes[at + 1] !== 0x00;
  const group = bigEndian ? (bytes[at] << 8) | bytes[at + 1] : bytes[at] | (bytes[at + 1] << 8);
  // a data set starts with a low group number (0008 identifying, 0002 meta, …)
  if (group === 0 || group > 0x0100 || group % 2 !== 0) return undefined;
  const explicit = isUpper(bytes[at + 4]) && isUpper(bytes[at + 5]);
  if (bigEndian) return explicit ? '1.2.840.10008.1.2.2' : undefined;
  return explicit ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2';
}

function hasPreamble(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/**
 * dicom-parser's errors in words for the user: its messages name its own functions
 * ("dicomParser:parseDicomDataSetExplicit: buffer overrun"), which say nothing to someone with a file.
 */
function failureFrom(err: unknown): DecodeFailure {
  if (err instanceof DecodeFailure) return err;
  if (err && typeof err === 'object' && 'exception' in err && (err as { exception: unknown }).exception instanceof DecodeFailure) {
    return (err as { exception: DecodeFailure }).exception;
  }
  if (OVERRUN.test(describeThrown(err))) {
    return new DecodeFailure('the file ends before its DICOM data does: it is truncated or damaged — copy it again from the source', 'truncated');
  }
  return new DecodeFailure('not a readable DICOM file: its data set is damaged — copy it again from the source, or export it again', 'corrupt');
}

function parseWith(bytes: Uint8Array, transferSyntaxUID?: string): DataSet {
  return dicomParser.parseDicom(bytes, {
    ...(transferSyntaxUID ? { TransferSyntaxUID: transferSyntaxUID } : {}),
    // dicom-parser's typing says void, but it uses the returned full byte array
    inflater: inflater as unknown as (arr: Uint8Array, position: number) => void,
  });
}

/** Meta header length from the File Meta Information Group Length (0002,0000), when present. */
function metaEnd(bytes: Uint8Array): number | undefined {
  // preamble (128) + DICM (4) + tag (4) + VR 'UL' (2) + length (2) + value (4)
  if (bytes.length < 144 || bytes[132] !== 0x02 || bytes[133] !== 0x00 || bytes[134] !== 0x00 || bytes[135] !== 0x00) return undefined;
  const length = bytes[140] | (bytes[141] << 8) | (bytes[142] << 16) | (bytes[143] << 24);
  return 144 + length;
}

/**
 * The data set's own encoding when it contradicts the meta header's transfer syntax: Implicit VR
 * behind a header that says Explicit VR (some writers do that; dicom-parser then reads a length out
 * of the next tag and overruns), Explicit VR behind one that says Implicit VR (dicom-parser then
 * "parses" garbage and finds no Pixel Data), or little-endian data behind a big-endian syntax.
 */
function encodingMismatch(bytes: Uint8Array, uid: string | undefined): DecodeFailure | undefined {
  const end = metaEnd(bytes);
  if (!uid || end === undefined) return undefined;
  const declared = lookupTransferSyntax(uid);
  if (!declared.encoding || declared.deflated) return undefined;
  const found = inferTransferSyntax(bytes, end);
  if (!found) return undefined;
  const actual = lookupTransferSyntax(found);
  if (actual.explicitVR === declared.explicitVR && actual.littleEndian === declared.littleEndian) return undefined;
  const says = (t: TransferSyntax) => `${t.explicitVR ? 'Explicit' : 'Implicit'} VR${t.littleEndian ? '' : ' Big Endian'}`;
  return new DecodeFailure(
    `the data set is encoded in ${says(actual)} although its transfer syntax ${uid} says ${says(declared)}; ` +
      'the program that wrote it is faulty — export the image again from its source',
    'corrupt',
  );
}

/**
 * Explains a data set dicom-parser could not parse when the meta header tells why: a transfer syntax
 * this reader does not support, or a data set encoded otherwise than its transfer syntax says.
 */
function checkSyntaxOfUnparsable(bytes: Uint8Array): void {
  let meta: DataSet;
  try {
    meta = dicomParser.readPart10Header(bytes);
  } catch {
    return;
  }
  const uid = text(meta, TRANSFER_SYNTAX_UID);
  // a data set we cannot parse in a syntax we cannot decode anyway: the syntax is the news
  if (uid && !lookupTransferSyntax(uid).encoding) throw new DecodeFailure(unsupportedTransferSyntaxReason(lookupTransferSyntax(uid)), 'unsupported-transfer-syntax');
  const mismatch = encodingMismatch(bytes, uid);
  if (mismatch) throw mismatch;
}

export function parseDataSet(bytes: Uint8Array): ParsedDicom {
  try {
    if (hasPreamble(bytes)) {
      try {
        const dataSet = parseWith(bytes);
        const declared = text(dataSet, TRANSFER_SYNTAX_UID);
        // parsed in the wrong encoding, the data set is garbage that may still parse
        const mismatch = encodingMismatch(bytes, declared);
        if (mismatch) throw mismatch;
        const uid = declared ?? '1.2.840.10008.1.2.1';
        return { dataSet, transferSyntax: lookupTransferSyntax(uid) };
      } catch (err) {
        checkSyntaxOfUnparsable(bytes);
        // a meta header without (0002,0010): infer the encoding of what follows it
        if (!/0002,0010/.test(describeThrown(err))) throw err;
        const end = metaEnd(bytes);
        const uid = end === undefined ? undefined : inferTransferSyntax(bytes, end);
        if (end === undefined || !uid) throw err;
        const dataSet = parseWith(bytes.subarray(end), uid);
        return { dataSet, transferSyntax: lookupTransferSyntax(uid) };
      }
    }
    // No preamble: either a bare meta group (rare) or a bare data set
    if (bytes[0] === 0x02 && bytes[1] === 0x00) {
      const withPreamble = new Uint8Array(132 + bytes.length);
      withPreamble.set([0x44, 0x49, 0x43, 0x4d], 128);
      withPreamble.set(bytes, 132);
      return parseDataSet(withPreamble);
    }
    if (bytes.length < 132 && bytes.every((b) => b === 0)) {
      throw new DecodeFailure(`the file ends after ${bytes.length} bytes, inside the 128-byte DICOM preamble; it is truncated`, 'truncated');
    }
    const uid = inferTransferSyntax(bytes, 0);
    if (!uid) {
      throw new DecodeFailure('not a DICOM file: no "DICM" marker at byte 128 and the content does not start like a DICOM data set', 'unsupported-format');
    }
    const dataSet = parseWith(bytes, uid);
    return { dataSet, transferSyntax: lookupTransferSyntax(uid) };
  } catch (err) {
    throw failureFrom(err);
  }
}
