/**
 * Pixel Data of a Segmentation: 1-bit BINARY frames packed without padding between frames (PS3.5
 * 8.1.1: frame n starts at bit n·rows·columns, not at a byte boundary), or 8-bit FRACTIONAL values.
 */

/** Packs 0/1 frames, least significant bit first, frames back to back; padded to an even length. */
export function packBinaryFrames(frames: readonly Uint8Array[], pixelsPerFrame: number): Uint8Array {
  const bits = frames.length * pixelsPerFrame;
  const bytes = Math.ceil(bits / 8);
  const out = new Uint8Array(bytes + (bytes & 1)); // OB values have an even length
  let bit = 0;
  for (const frame of frames) {
    if (frame.length !== pixelsPerFrame) throw new Error(`frame holds ${frame.length} pixels, ${pixelsPerFrame} expected`);
    for (let i = 0; i < pixelsPerFrame; i++, bit++) {
      if (frame[i]) out[bit >> 3] |= 1 << (bit & 7);
    }
  }
  return out;
}

/** Concatenates 8-bit frames; padded to an even length. */
export function concatByteFrames(frames: readonly Uint8Array[], pixelsPerFrame: number): Uint8Array {
  const bytes = frames.length * pixelsPerFrame;
  const out = new Uint8Array(bytes + (bytes & 1));
  frames.forEach((frame, f) => {
    if (frame.length !== pixelsPerFrame) throw new Error(`frame holds ${frame.length} pixels, ${pixelsPerFrame} expected`);
    out.set(frame, f * pixelsPerFrame);
  });
  return out;
}

/** Frame `frame` of packed 1-bit pixel data as 0/1 values (the inverse of packBinaryFrames). */
export function unpackBinaryFrame(packed: Uint8Array, frame: number, pixelsPerFrame: number): Uint8Array {
  const out = new Uint8Array(pixelsPerFrame);
  const first = frame * pixelsPerFrame;
  for (let i = 0; i < pixelsPerFrame; i++) {
    const bit = first + i;
    out[i] = (packed[bit >> 3] >> (bit & 7)) & 1;
  }
  return out;
}
