/** JPEG Lossless, Process 14 (any selection value), through jpeg-lossless-decoder-js. */
import { createRequire } from 'node:module';
import { DecodeFailure, describeThrown } from '../../errors';

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
  xDim: number;
  yDim: number;
  numComp: number;
}

// The package ships no type declarations; this is the part used here
const { Decoder } = createRequire(__filename)('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder };

export interface LosslessImage {
  width: number;
  height: number;
  components: number;
  samples: Uint8Array | Uint16Array;
}

export function decodeJpegLossless(encoded: Uint8Array, bitsAllocated: number): LosslessImage {
  try {
    const decoder = new Decoder();
    const samples = decoder.decode(encoded.buffer as ArrayBuffer, encoded.byteOffset, encoded.byteLength, bitsAllocated > 8 ? 2 : 1);
    return { width: decoder.xDim, height: decoder.yDim, components: decoder.numComp, samples };
  } catch (err) {
    throw new DecodeFailure(`the JPEG Lossless decoder rejected the pixel data (${describeThrown(err)}); the file is damaged`, 'corrupt');
  }
}
