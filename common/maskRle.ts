/**
 * Masks as run lengths (the `MaskRle` of the IPC contract): row-major, alternating outside / inside,
 * starting with outside (a mask that starts inside begins with a 0-length run). The renderer encodes
 * strokes with it; main checks and decodes them into the one in-memory form, a Mask (./mask.ts).
 */
import type { Mask } from './mask';

/** A binary mask as run lengths, row-major, alternating outside/inside and starting with outside. */
export interface MaskRle {
  width: number;
  height: number;
  runs: number[];
}

/** A read-only view of a MaskRle, as the decoder takes it. */
export type Rle = Readonly<Omit<MaskRle, 'runs'>> & { readonly runs: readonly number[] };

/** 0/non-zero values → a MaskRle (the renderer saves strokes with it; tests build masks with it). */
export function encodeMaskRle(mask: Uint8Array, width: number, height: number): MaskRle {
  const runs: number[] = [];
  let value = 0;
  let run = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 1 : 0;
    if (v === value) run++;
    else {
      runs.push(run);
      value = v;
      run = 1;
    }
  }
  runs.push(run);
  return { width, height, runs };
}


/** Why `rle` is not a valid W×H mask (undefined when it is). */
export function rleProblem(rle: Rle, width: number, height: number): string | undefined {
  if (rle.width !== width || rle.height !== height) {
    return `the mask is ${rle.width}×${rle.height} but the image is ${width}×${height}; a mask covers the whole image at its original size`;
  }
  let total = 0;
  for (let i = 0; i < rle.runs.length; i++) {
    const r = rle.runs[i];
    if (!Number.isInteger(r) || r < 0) return `run ${i} is ${r}; run lengths are whole numbers of pixels, 0 or more`;
    total += r;
  }
  if (total !== width * height) {
    return `the runs add up to ${total} pixels but a ${width}×${height} mask has ${width * height}; runs alternate outside / inside, starting with outside, and cover every pixel once`;
  }
  return undefined;
}

/** Run lengths → a Mask without a probability map (call `rleProblem` first). */
export function rleDecode(rle: Rle): Mask {
  const inside = new Uint8Array(rle.width * rle.height);
  let at = 0;
  rle.runs.forEach((run, i) => {
    if (i % 2 === 1) inside.fill(1, at, at + run);
    at += run;
  });
  return { width: rle.width, height: rle.height, inside };
}

