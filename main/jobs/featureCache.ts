/**
 * On-disk cache of the per-image features that landmark propagation needs (coarse centre-sensitive
 * map in float32, full-resolution embedding in float16), so that moving a template point or adding
 * images re-propagates without running the network again. One file per (model, image, settings):
 * the key hashes the model file's identity, the image file's path/size/mtime and every setting that
 * changes the features. Writes are atomic; an unreadable entry is treated as a miss.
 *
 * File: "LDF1" · u32 header length · JSON header · coarse f32 · full f16 (both HWC, little-endian).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fullMapFromHwc, type ImageFeatures } from '../engine/landmarks/features';
import { writeFileAtomic } from '../io/atomicWrite';
import { decodeHalf, encodeHalf } from '../io/half';

const MAGIC = 'LDF1';

export interface FeatureKeyParts {
  /** Model file (or checkpoint) path; its size and mtime are added. */
  model: string;
  image: string;
  settings: Record<string, string | number>;
}

function fileIdentity(path: string) {
  const abs = resolve(path);
  const st = statSync(abs);
  return { path: abs, size: st.size, mtimeMs: Math.round(st.mtimeMs) };
}

export function featureKey(parts: FeatureKeyParts): string {
  const json = JSON.stringify({ model: fileIdentity(parts.model), image: fileIdentity(parts.image), settings: parts.settings });
  return createHash('sha256').update(json).digest('hex').slice(0, 32);
}

interface Header {
  source: ImageFeatures['source'];
  scale: ImageFeatures['scale'];
  sigma: number;
  coarse: { factor: number; width: number; height: number; channels: number };
  full: { width: number; height: number; channels: number };
}

export class FeatureCache {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private file(key: string) {
    return join(this.dir, `${key}.ldf`);
  }

  /** The cached features, or undefined on a miss (or an unreadable entry). */
  get(key: string): ImageFeatures | undefined {
    const path = this.file(key);
    if (!existsSync(path)) return undefined;
    try {
      const buf = readFileSync(path);
      if (buf.toString('latin1', 0, 4) !== MAGIC) return undefined;
      const headerLength = buf.readUInt32LE(4);
      const header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as Header;
      let offset = 8 + headerLength;
      const coarseCount = header.coarse.width * header.coarse.height * header.coarse.channels;
      const fullCount = header.full.width * header.full.height * header.full.channels;
      if (buf.length !== offset + coarseCount * 4 + fullCount * 2) return undefined;
      const coarse = new Float32Array(coarseCount);
      new Uint8Array(coarse.buffer).set(buf.subarray(offset, offset + coarseCount * 4));
      offset += coarseCount * 4;
      const half = new Uint16Array(fullCount);
      new Uint8Array(half.buffer).set(buf.subarray(offset, offset + fullCount * 2));
      const full = decodeHalf(half);
      return {
        source: header.source,
        scale: header.scale,
        sigma: header.sigma,
        coarse: { ...header.coarse, data: coarse },
        full: fullMapFromHwc(full, header.full.width, header.full.height, header.full.channels),
      };
    } catch {
      return undefined;
    }
  }

  /** Refined landmark positions of one image (see landmarkPropagation.ts), by point key; undefined on a miss. */
  getRefined(key: string): Record<string, [number, number]> | undefined {
    try {
      const path = join(this.dir, `${key}.pts.json`);
      return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, [number, number]>) : undefined;
    } catch {
      return undefined;
    }
  }

  putRefined(key: string, points: Record<string, [number, number]>): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, `${key}.pts.json`), JSON.stringify(points));
  }

  put(key: string, f: ImageFeatures): void {
    mkdirSync(this.dir, { recursive: true });
    const header: Header = {
      source: f.source,
      scale: f.scale,
      sigma: f.sigma,
      coarse: { factor: f.coarse.factor, width: f.coarse.width, height: f.coarse.height, channels: f.coarse.channels },
      full: { width: f.full.width, height: f.full.height, channels: f.full.channels },
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const prefix = Buffer.alloc(8);
    prefix.write(MAGIC, 0, 'latin1');
    prefix.writeUInt32LE(json.length, 4);
    const half = encodeHalf(f.full.data);
    writeFileAtomic(
      this.file(key),
      Buffer.concat([prefix, json, Buffer.from(f.coarse.data.buffer, f.coarse.data.byteOffset, f.coarse.data.byteLength), Buffer.from(half.buffer, half.byteOffset, half.byteLength)]),
    );
  }
}
