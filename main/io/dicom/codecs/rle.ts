/**
 * RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, then one PackBits segment per
 * byte plane (most significant byte of sample 0 first). Output is colour-by-pixel container values.
 */
import { DecodeFailure } from '../../errors';
import type { Samples } from '../nativeFrames';

function readUint32LE(bytes: Uint8Array, p: number): number {
  return (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)) >>> 0;
}

/** Unpacks one PackBits segment into `out`; returns how many bytes it produced. */
function unpackSegment(bytes: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let p = start;
  let o = 0;
  while (p < end && o < out.length) {
    const n = (bytes[p++] << 24) >> 24; // signed byte
    if (n >= 0) {
      const count = Math.min(n + 1, end - p, out.length - o);
      out.set(bytes.subarray(p, p + count), o);
      p += n + 1;
      o += count;
    } else if (n !== -128) {
      const count = Math.min(1 - n, out.length - o);
      if (p >= end) break;
      out.fill(bytes[p++], o, o + count);
      o += count;
    }
  }
  return o;
}

export function decodeRle(bytes: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): Samples {
  const pixels = rows * columns;
  const bytesPerSample = bitsAllocated === 1 ? 1 : bitsAllocated / 8;
  const expected = samplesPerPixel * bytesPerSample;
  if (bytes.length < 64) throw new DecodeFailure('RLE frame is shorter than its 64-byte header; the file is truncated', 'truncated');
  const segments = readUint32LE(bytes, 0);
  if (segments !== expected) {
    throw new DecodeFailure(`RLE frame has ${segments} segments but ${expected} are expected (${samplesPerPixel} samples × ${bytesPerSample} bytes)`, 'corrupt');
  }
  const offsets = Array.from({ length: segments }, (_, i) => readUint32LE(bytes, 4 + 4 * i));
  const planes: Uint8Array[] = [];
  for (let s = 0; s < segments; s++) {
    const start = offsets[s];
    const end = s + 1 < segments ? offsets[s + 1] : bytes.length;
    if (start < 64 || start > end || end > bytes.length) {
      throw new DecodeFailure(`RLE segment ${s + 1} has an invalid offset ${start}; the frame is damaged or truncated`, 'corrupt');
    }
    const plane = new Uint8Array(pixels);
    const produced = unpackSegment(bytes, start, end, plane);
    if (produced < pixels) {
      throw new DecodeFailure(`RLE segment ${s + 1} decodes to ${produced} of ${pixels} bytes; the frame is damaged or truncated`, 'truncated');
    }
    planes.push(plane);
  }
  const out: Samples =
    bytesPerSample === 1 ? new Uint8Array(pixels * samplesPerPixel) : bytesPerSample === 2 ? new Uint16Array(pixels * samplesPerPixel) : new Uint32Array(pixels * samplesPerPixel);
  for (let s = 0; s < samplesPerPixel; s++) {
    for (let b = 0; b < bytesPerSample; b++) {
      const plane = planes[s * bytesPerSample + b];
      const factor = 2 ** (8 * (bytesPerSample - 1 - b));
      for (let i = 0, o = s; i < pixels; i++, o += samplesPerPixel) out[o] += plane[i] * factor;
    }
  }
  return out;
}
