/**
 * PNG (or other greyscale) mask files named after each source image's stem ("01.dcm" → "01.png"),
 * turned into segment masks keyed by the source's SOP Instance UID.
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ImageReadError } from '../imageRecord';
import { readImage } from '../readImage';
import { sourceStem, type SourceImage } from './dicomSource';
import { ExportError } from './exportError';
import type { SegmentationType } from './segmentation';

/** Extensions tried for a mask, in order. */
const MASK_EXTENSIONS = ['.png', '.tif', '.tiff'];

export interface MaskImage {
  source: SourceImage;
  path: string;
  /** Grey values, rows×columns. */
  values: Float32Array;
  bitsStored: number;
}

/** Finds and reads the mask of every source; a missing, unreadable or mis-sized mask is an ExportError. */
export async function readMaskImages(sources: readonly SourceImage[], masksDir: string): Promise<{ masks: MaskImage[]; unused: string[] }> {
  const dir = resolve(masksDir);
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ExportError(code === 'ENOENT' ? 'mask folder not found' : code === 'ENOTDIR' ? 'this is a file; give the folder that holds the masks' : `cannot read the mask folder (${(err as Error).message})`, dir);
  }
  // case-insensitive lookup, as masks often come from Windows tools
  const byLowerName = new Map(names.map((n) => [n.toLowerCase(), n]));
  const used = new Set<string>();
  const masks: MaskImage[] = [];
  for (const source of sources) {
    const stem = sourceStem(source.path);
    const name = MASK_EXTENSIONS.map((ext) => byLowerName.get(`${stem}${ext}`.toLowerCase())).find((n) => n !== undefined);
    if (!name) {
      throw new ExportError(`no mask for this source image: expected ${join(dir, `${stem}.png`)} (masks are named after the source file's stem)`, source.path);
    }
    used.add(name);
    const path = join(dir, name);
    let record;
    try {
      record = await readImage(path);
    } catch (err) {
      throw new ExportError(`the mask cannot be read: ${err instanceof ImageReadError ? err.reason : (err as Error).message}`, path);
    }
    if (record.channels !== 1 || record.frames !== 1) {
      throw new ExportError('a mask must be a single greyscale image (non-zero = inside); this one is colour or multi-frame', path);
    }
    if (record.width !== source.columns || record.height !== source.rows) {
      throw new ExportError(
        `the mask is ${record.width}×${record.height} pixels but its source image ${source.path} is ${source.columns}×${source.rows}; ` +
          'masks must be drawn on the source image at its full size',
        path,
      );
    }
    masks.push({ source, path, values: record.pixels, bitsStored: record.bitsStored });
  }
  const unused = names.filter((n) => !used.has(n) && MASK_EXTENSIONS.some((ext) => n.toLowerCase().endsWith(ext))).map((n) => join(dir, n));
  return { masks, unused };
}

/**
 * The masks of one segment. BINARY: with a labelId, pixels equal to it are inside (a label image
 * holding several segments, dcmqi style); without, every non-zero pixel is. FRACTIONAL: the 8-bit
 * grey value is the stored probability (grey / 255).
 */
export function segmentMasksFrom(masks: readonly MaskImage[], type: SegmentationType, labelId?: number): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const mask of masks) {
    const values = mask.values;
    const frame = new Uint8Array(values.length);
    if (type === 'FRACTIONAL') {
      if (mask.bitsStored > 8) {
        throw new ExportError(`a FRACTIONAL export reads probabilities as 8-bit grey values (grey / 255); this mask has ${mask.bitsStored} bits; save it as 8-bit`, mask.path);
      }
      for (let i = 0; i < values.length; i++) frame[i] = values[i];
    } else if (labelId === undefined) {
      for (let i = 0; i < values.length; i++) frame[i] = values[i] !== 0 ? 1 : 0;
    } else {
      for (let i = 0; i < values.length; i++) frame[i] = values[i] === labelId ? 1 : 0;
    }
    out.set(mask.source.sopInstanceUID, frame);
  }
  return out;
}
