/** Splits encapsulated (compressed) Pixel Data into the byte stream of each frame. */
import { DecodeFailure } from '../errors';
import { dicomParser, type DataSet, type Element, type Fragment } from './dicomParser';
import type { PixelEncoding } from './transferSyntax';

/** First fragment and fragment count of one frame. */
interface FragmentRange {
  first: number;
  count: number;
}

/** Whether a fragment begins a new frame, judged by the codec's start marker. */
function startsFrame(encoding: PixelEncoding, bytes: Uint8Array, at: number): boolean {
  const b = (i: number) => bytes[at + i];
  switch (encoding) {
    case 'jpeg-baseline':
    case 'jpeg-lossless':
    case 'jpeg-ls':
      return b(0) === 0xff && b(1) === 0xd8; // SOI
    case 'jpeg-2000':
      // SOC + SIZ of a codestream, or the signature box of a JP2 file (not conformant, but seen)
      return (b(0) === 0xff && b(1) === 0x4f && b(2) === 0xff && b(3) === 0x51) || (b(4) === 0x6a && b(5) === 0x50 && b(6) === 0x20);
    case 'rle':
      // the RLE header: 1-15 segments, first segment right after the 64-byte header
      return b(0) >= 1 && b(0) <= 15 && b(1) === 0 && b(2) === 0 && b(3) === 0 && b(4) === 64 && b(5) === 0;
    default:
      return true;
  }
}

function frameRanges(ds: DataSet, fragments: Fragment[], basicOffsetTable: number[], frames: number, encoding: PixelEncoding): FragmentRange[] {
  const n = fragments.length;
  if (frames === 1) return [{ first: 0, count: n }];
  if (n === frames) return fragments.map((_, i) => ({ first: i, count: 1 }));
  const fromTable = basicOffsetTable.length === frames ? basicOffsetTable.map((o) => fragments.findIndex((f) => f.offset === o)) : [];
  let starts = fromTable.length === frames && fromTable.every((i) => i >= 0) ? fromTable : [];
  if (starts.length === 0) {
    starts = fragments.flatMap((f, i) => (startsFrame(encoding, ds.byteArray, f.position) ? [i] : []));
  }
  if (starts.length !== frames || starts[0] !== 0) {
    throw new DecodeFailure(
      `cannot tell which of the ${n} pixel data fragments belong to which of the ${frames} frames ` +
        '(no usable Basic Offset Table, and frame start markers do not match)',
      'corrupt',
    );
  }
  return starts.map((first, i) => ({ first, count: (i + 1 < starts.length ? starts[i + 1] : n) - first }));
}

export interface EncapsulatedFrames {
  count: number;
  read(frame: number): Uint8Array;
}

export function encapsulatedFrames(ds: DataSet, el: Element, frames: number, encoding: PixelEncoding): EncapsulatedFrames {
  const fragments = el.fragments;
  if (!el.encapsulatedPixelData || !fragments) {
    throw new DecodeFailure('the transfer syntax is compressed but Pixel Data is not encapsulated (no fragments)', 'corrupt');
  }
  if (fragments.length === 0) {
    throw new DecodeFailure('encapsulated Pixel Data has no fragments; the file is truncated or empty', 'truncated');
  }
  for (const f of fragments) {
    if (f.position + f.length > ds.byteArray.length) {
      throw new DecodeFailure('a pixel data fragment runs past the end of the file; the file is truncated — copy it again from the source', 'truncated');
    }
  }
  const ranges = frameRanges(ds, fragments, el.basicOffsetTable ?? [], frames, encoding);
  return {
    count: ranges.length,
    read(frame: number): Uint8Array {
      const { first, count } = ranges[frame];
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, first, count, fragments) as Uint8Array;
    },
  };
}
