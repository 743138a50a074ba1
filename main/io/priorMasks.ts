/**
 * Reading a folder of prior masks for shape-guided training (ld-method.md §5.2), and handing them to
 * the PyTorch engine as one raw file. Masks may have any size and bit depth: each is scaled to [0, 1]
 * by its own maximum (so {0, 1} label PNGs work as well as {0, 255} ones; colour masks use the
 * brightest channel), stored 8-bit like the reference's PIL images, and area-averaged down once when
 * its longer side exceeds `maxSide`. Binarisation (> 0.1) happens after each augmentation.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readImage } from './';
import { ImageReadError } from './imageRecord';
import { scanFolder } from './listImageFiles';
import { writeFileAtomic } from './atomicWrite';
import { resizeHWC } from '../engine/data/resample';
import type { PriorMask } from '../engine/shapeGuided/priors';

/** A prior-mask folder that cannot be used; the message names the folder and the fix. */
export class PriorMaskError extends Error {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`shape prior ${dir}: ${reason}`);
    this.name = 'PriorMaskError';
  }
}

export interface PriorFailure {
  file: string;
  reason: string;
}

export interface LoadedPriors {
  priors: PriorMask[];
  failures: PriorFailure[];
  /** Mean foreground fraction of the stored masks (a sanity figure for logs and run.json). */
  meanForeground: number;
}

/** One decoded image → an 8-bit mask scaled by its own maximum, shrunk to `maxSide` when larger. */
export function maskFromRecord(record: { id: string; width: number; height: number; channels: number; pixels: Float32Array; range: { min: number; max: number } }, maxSide: number): PriorMask {
  const { width: W, height: H, channels: C } = record;
  const n = W * H;
  const lo = Math.min(0, record.range.min);
  const span = record.range.max - lo;
  const inv = span > 0 && Number.isFinite(span) ? 1 / span : 0;
  const grey = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = record.pixels[i * C];
    for (let c = 1; c < C; c++) v = Math.max(v, record.pixels[i * C + c]);
    const t = (v - lo) * inv;
    grey[i] = t < 0 ? 0 : t > 1 ? 1 : t;
  }
  let w = W;
  let h = H;
  let data: Float32Array = grey;
  if (Math.max(W, H) > maxSide) {
    const scale = maxSide / Math.max(W, H);
    w = Math.max(1, Math.round(W * scale));
    h = Math.max(1, Math.round(H * scale));
    data = resizeHWC(grey, W, H, 1, w, h);
  }
  const bytes = new Uint8Array(w * h);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, data[i])) * 255);
  return { id: record.id, width: w, height: h, data: bytes };
}

export async function loadPriorMasks(dir: string, opts: { maxSide: number }, onProgress?: (done: number, total: number, file: string) => void): Promise<LoadedPriors> {
  const root = resolve(dir);
  let scan;
  try {
    scan = await scanFolder(root);
  } catch (err) {
    throw new PriorMaskError(root, err instanceof ImageReadError ? err.reason : (err as Error).message);
  }
  const { files } = scan;
  if (files.length === 0) {
    const seen = [scan.ignored ? `${scan.ignored} other file(s) ignored` : 'the folder is empty', scan.subfolders ? `${scan.subfolders} subfolder(s) not searched` : '']
      .filter(Boolean)
      .join(', ');
    throw new PriorMaskError(root, `no mask images (PNG, JPEG, TIFF or DICOM) in this folder (${seen}); give the folder that holds the binary reference masks`);
  }
  const out: LoadedPriors = { priors: [], failures: [], meanForeground: 0 };
  let fg = 0;
  for (const [i, file] of files.entries()) {
    onProgress?.(i, files.length, file.path);
    try {
      const record = await readImage(file.path, { id: file.id });
      if (record.channels !== 1 && record.channels !== 3) throw new Error(`${record.channels} channels are not supported`);
      const mask = maskFromRecord(record, opts.maxSide);
      let on = 0;
      for (let k = 0; k < mask.data.length; k++) if (mask.data[k] > 25) on++;
      fg += on / mask.data.length;
      out.priors.push(mask);
    } catch (err) {
      out.failures.push({ file: file.path, reason: err instanceof ImageReadError ? err.reason : (err as Error).message });
    }
  }
  onProgress?.(files.length, files.length, '');
  if (out.priors.length === 0) {
    throw new PriorMaskError(root, `none of the ${files.length} file(s) could be read as a mask (first error: ${out.failures[0]?.file}: ${out.failures[0]?.reason})`);
  }
  out.meanForeground = fg / out.priors.length;
  return out;
}

export interface PreparedPriorsFile {
  /** Raw uint8 file: each mask row-major at `offset` (bytes). */
  file: string;
  index: Array<{ id: string; width: number; height: number; offset: number }>;
}

/** The masks as one raw uint8 file plus an index, for the PyTorch engine (resources/torch/PROTOCOL.md). */
export function writePreparedPriors(dir: string, priors: readonly PriorMask[]): PreparedPriorsFile {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'priors.u8');
  let offset = 0;
  const index = priors.map((m) => {
    const entry = { id: m.id, width: m.width, height: m.height, offset };
    offset += m.data.length;
    return entry;
  });
  writeFileAtomic(file, priors.map((m) => m.data));
  return { file, index };
}
