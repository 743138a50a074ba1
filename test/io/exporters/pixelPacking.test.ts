/** 1-bit frames are packed back to back (PS3.5 8.1.1): frame n starts at bit n·rows·columns, mid-byte if need be. */
import { describe, expect, it } from 'vitest';
import { concatByteFrames, packBinaryFrames, unpackBinaryFrame } from '../../../main/io/exporters/pixelPacking';

describe('packBinaryFrames', () => {
  it('packs least significant bit first, without padding between frames, to an even length', () => {
    // two 5×3 frames: 30 bits → 4 bytes
    const a = Uint8Array.from({ length: 15 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const b = Uint8Array.from({ length: 15 }, (_, i) => (i >= 10 ? 1 : 0));
    const packed = packBinaryFrames([a, b], 15);
    expect(packed.length).toBe(4);
    // bits 0,3,6,9,12 then frame b's pixels 10..14 at bits 25..29
    expect(Array.from(packed)).toEqual([0b01001001, 0b00010010, 0b00000000, 0b00111110]);
    expect(Array.from(unpackBinaryFrame(packed, 0, 15))).toEqual(Array.from(a));
    expect(Array.from(unpackBinaryFrame(packed, 1, 15))).toEqual(Array.from(b));
    expect(packBinaryFrames([a], 15).length).toBe(2);
    expect(packBinaryFrames([Uint8Array.of(1, 0, 1)], 3)).toEqual(Uint8Array.of(0b101, 0));
  });

  it('treats any non-zero as inside and refuses frames of the wrong size', () => {
    expect(packBinaryFrames([Uint8Array.of(255, 0, 7, 0, 0, 0, 0, 0)], 8)).toEqual(Uint8Array.of(0b101, 0));
    expect(() => packBinaryFrames([new Uint8Array(7)], 8)).toThrow(/7 pixels, 8 expected/);
  });
});

describe('concatByteFrames', () => {
  it('concatenates 8-bit frames and pads odd totals', () => {
    expect(concatByteFrames([Uint8Array.of(1, 2, 3)], 3)).toEqual(Uint8Array.of(1, 2, 3, 0));
    expect(concatByteFrames([Uint8Array.of(1, 2), Uint8Array.of(3, 4)], 2)).toEqual(Uint8Array.of(1, 2, 3, 4));
  });
});
