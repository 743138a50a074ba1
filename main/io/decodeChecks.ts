/**
 * Signs that a decode went wrong although it produced pixels: a codec that reported damage and went
 * on, stored values that Bits Stored cannot hold (masking them to Bits Stored, as the modality
 * transform does, would silently turn them into other values), and a picture that is (almost) one
 * value. Each becomes a warning on the image record: the image is still used, but the user is told.
 *
 * A bit flip inside JPEG 2000 code-block data is not among them: the codestream has no checksum, the
 * decoder reports nothing and the values stay in range, so only the eye can tell.
 */
import type { Samples } from './dicom/nativeFrames';

/** At least this fraction of pixels on the lowest or the highest value: the image looks blank. */
const FLAT_FRACTION = 0.995;

export function codecWarning(codec: string, messages: readonly string[]): string | undefined {
  if (messages.length === 0) return undefined;
  const shown = messages.slice(0, 3).map((m) => m.replace(/^\[(WARNING|ERROR)\]\s*/, ''));
  return `the ${codec} decoder reported damage in the pixel data and decoded past it (${shown.join('; ')}${messages.length > 3 ? '; …' : ''}); the image may be corrupt`;
}

/** How many of the first `n` unsigned samples exceed 2^bitsStored − 1. */
export function countBeyondBitsStored(samples: Samples, n: number, bitsStored: number): number {
  if (bitsStored >= 32) return 0;
  const max = 2 ** bitsStored - 1;
  let count = 0;
  for (let i = 0; i < n; i++) if (samples[i] > max) count++;
  return count;
}

export function beyondBitsStoredWarning(count: number, total: number, bitsStored: number): string | undefined {
  if (count === 0) return undefined;
  const share = (100 * count) / total;
  return (
    `${count} decoded value(s) (${share < 0.1 ? '< 0.1' : share.toFixed(1)} %) exceed the ${bitsStored} bits the header says are stored; ` +
    'the pixel data or the header is damaged, and those pixels are wrong'
  );
}

/** A warning when (almost) every pixel has the lowest or the highest value. */
export function flatImageWarning(image: { pixels: Float32Array; range: { min: number; max: number } }): string | undefined {
  const { pixels, range } = image;
  if (pixels.length === 0) return undefined;
  if (range.min === range.max) return `every pixel has the same value (${range.min}): the image is blank or did not decode`;
  let low = 0;
  let high = 0;
  for (let i = 0; i < pixels.length; i++) {
    if (pixels[i] === range.min) low++;
    else if (pixels[i] === range.max) high++;
  }
  const share = Math.max(low, high) / pixels.length;
  if (share < FLAT_FRACTION) return undefined;
  return `${(100 * share).toFixed(1)} % of the pixels have the ${low >= high ? 'lowest' : 'highest'} value: the image looks blank or did not decode`;
}
