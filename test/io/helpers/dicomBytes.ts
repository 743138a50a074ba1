/**
 * Independent reads of DICOM bytes for the tests (dicom-parser directly, not main/io), and byte
 * surgery to make damaged files.
 */
import { createRequire } from 'node:module';

const dicomParser = createRequire(__filename)('dicom-parser') as typeof import('dicom-parser');

export type DataSet = import('dicom-parser').DataSet;

export function parse(bytes: Uint8Array): DataSet {
  return dicomParser.parseDicom(bytes);
}

/** Raw stored value of native 16-bit little-endian pixel data at a pixel index (before masking). */
export function rawUint16(ds: DataSet, index: number): number {
  const el = ds.elements.x7fe00010;
  const p = el.dataOffset + 2 * index;
  return ds.byteArray[p] | (ds.byteArray[p + 1] << 8);
}

/** The File Meta header value offsets of (0002,0010). */
function transferSyntaxElement(bytes: Uint8Array): { dataOffset: number; length: number } {
  const meta = dicomParser.readPart10Header(bytes);
  const el = meta.elements.x00020010;
  return { dataOffset: el.dataOffset, length: el.length };
}

/**
 * Writes another Transfer Syntax UID into the meta header, fixing the element length and the
 * File Meta Information Group Length, as a DICOM writer would have.
 */
export function rewriteTransferSyntax(bytes: Uint8Array, uid: string): Uint8Array {
  const { dataOffset, length } = transferSyntaxElement(bytes);
  const value = Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');
  const out = Buffer.concat([bytes.subarray(0, dataOffset), value, bytes.subarray(dataOffset + length)]);
  out.writeUInt16LE(value.length, dataOffset - 2); // explicit VR 'UI': 2-byte length before the value
  // (0002,0000) UL sits right after the preamble: 128 + 'DICM' + tag 4 + VR 2 + length 2
  out.writeUInt32LE(out.readUInt32LE(140) + value.length - length, 140);
  return out;
}

/** The first frame's encoded bytes of an encapsulated file, as an offset into the file. */
export function firstFragment(bytes: Uint8Array): { position: number; length: number } {
  const ds = parse(bytes);
  const fragment = ds.elements.x7fe00010.fragments?.[0];
  if (!fragment) throw new Error('not encapsulated');
  return { position: fragment.position, length: fragment.length };
}

/** Count of set bits: an independent count of the foreground pixels of a BINARY SEG. */
export function popcount(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) {
    let v = b;
    while (v) {
      n += v & 1;
      v >>= 1;
    }
  }
  return n;
}
