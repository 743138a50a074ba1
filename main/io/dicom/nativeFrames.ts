/** Frames of native (uncompressed) Pixel Data, as the container values they are stored in. */
import { DecodeFailure } from '../errors';
import type { DataSet, Element } from './dicomParser';
import type { PixelModule } from './pixelModule';

/** Stored sample values, one container per sample (8-bit, 16-bit or 32-bit), not yet masked. */
export type Samples = Uint8Array | Uint16Array | Uint32Array;

export interface FrameSamples {
  samples: Samples;
  /** Colour by plane (RR…GG…BB…) rather than by pixel (RGBRGB…). */
  planar: boolean;
}

/** YBR_FULL_422 native data keeps one Cb and one Cr per two pixels: Y1 Y2 Cb Cr. */
function samplesPerFrame(pm: PixelModule): number {
  const pixels = pm.rows * pm.columns;
  return pm.photometric === 'YBR_FULL_422' ? pixels * 2 : pixels * pm.samplesPerPixel;
}

/**
 * Checks that the Pixel Data holds every frame, and says why not: a file cut short (the element's own
 * length runs past the end of the file: copy it again), or a header whose Rows, Columns, Samples per
 * Pixel, Bits Allocated or Number of Frames disagree with a whole Pixel Data element (the writer is at
 * fault: copying again would not help). Data longer than the header describes by more than a row is
 * refused too (its first rows would be shown as a wrong image); up to a row is trailing padding and
 * is read; 1-bit data is exempt, since writers differ on padding each frame.
 */
export function checkNativeLength(ds: DataSet, el: Element, pm: PixelModule): void {
  const bitsPerFrame = samplesPerFrame(pm) * pm.bitsAllocated;
  const needed = Math.ceil((bitsPerFrame * pm.frames) / 8);
  const inFile = Math.max(0, ds.byteArray.length - el.dataOffset);
  const shape = `${pm.frames} frame(s) of ${pm.columns}×${pm.rows}×${pm.samplesPerPixel} at ${pm.bitsAllocated} bits`;
  if (Math.min(el.length, inFile) < needed && el.length > inFile) {
    throw new DecodeFailure(`Pixel Data holds ${inFile} bytes but ${needed} are needed for ${shape}; the file is truncated — copy it again from the source`, 'truncated');
  }
  // up to one row more is padding some writers add (pydicom's MR_small_padded: one row); more means
  // the header describes another image than the data holds
  const rowBytes = Math.ceil((bitsPerFrame / pm.rows) / 8);
  const tooLong = pm.bitsAllocated >= 8 && el.length > needed + Math.max(rowBytes, needed % 2);
  if (el.length < needed || tooLong) {
    throw new DecodeFailure(
      `the header's Rows, Columns and Bits Allocated do not match the Pixel Data length: Rows ${pm.rows} × Columns ${pm.columns} × ` +
        `Samples per Pixel ${pm.samplesPerPixel} × Bits Allocated ${pm.bitsAllocated}${pm.frames > 1 ? ` × ${pm.frames} frames` : ''} = ${needed} bytes, ` +
        `but Pixel Data holds ${el.length}; the program that wrote the file is faulty — export the image again from its source`,
      'corrupt',
    );
  }
}

function unpackBits(bytes: Uint8Array, firstBit: number, count: number): Uint8Array {
  // DICOM packs 1-bit pixels little-endian: the first pixel is the least significant bit
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = firstBit + i;
    out[i] = (bytes[bit >> 3] >> (bit & 7)) & 1;
  }
  return out;
}

/** Expands Y1 Y2 Cb Cr groups into full YBR triplets per pixel. */
function expandYbr422(packed: Samples, pixels: number): Samples {
  const out = new (packed.constructor as new (n: number) => Samples)(pixels * 3);
  for (let p = 0, i = 0; p < pixels; p += 2, i += 4) {
    const cb = packed[i + 2];
    const cr = packed[i + 3];
    out[p * 3] = packed[i];
    out[p * 3 + 1] = cb;
    out[p * 3 + 2] = cr;
    if (p + 1 < pixels) {
      out[p * 3 + 3] = packed[i + 1];
      out[p * 3 + 4] = cb;
      out[p * 3 + 5] = cr;
    }
  }
  return out;
}

export function readNativeFrame(ds: DataSet, el: Element, pm: PixelModule, frame: number, littleEndian: boolean): FrameSamples {
  const count = samplesPerFrame(pm);
  const bytes = ds.byteArray;
  const base = el.dataOffset;
  let samples: Samples;
  if (pm.bitsAllocated === 1) {
    samples = unpackBits(bytes.subarray(base, base + el.length), frame * count, count);
  } else if (pm.bitsAllocated === 8) {
    const start = frame * count;
    samples = new Uint8Array(count);
    // Big endian OW swaps every byte pair, even when the samples are bytes (PS3.5 §7.3)
    const swap = !littleEndian && el.vr === 'OW' ? 1 : 0;
    for (let i = 0; i < count; i++) samples[i] = bytes[base + ((start + i) ^ swap)];
  } else if (pm.bitsAllocated === 16) {
    const start = base + frame * count * 2;
    const out = new Uint16Array(count);
    if (littleEndian) for (let i = 0, p = start; i < count; i++, p += 2) out[i] = bytes[p] | (bytes[p + 1] << 8);
    else for (let i = 0, p = start; i < count; i++, p += 2) out[i] = (bytes[p] << 8) | bytes[p + 1];
    samples = out;
  } else {
    const start = base + frame * count * 4;
    const out = new Uint32Array(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0, p = start; i < count; i++, p += 4) out[i] = view.getUint32(p, littleEndian);
    samples = out;
  }
  if (pm.photometric === 'YBR_FULL_422') {
    return { samples: expandYbr422(samples, pm.rows * pm.columns), planar: false };
  }
  return { samples, planar: pm.samplesPerPixel === 3 && pm.planarConfiguration === 1 };
}
