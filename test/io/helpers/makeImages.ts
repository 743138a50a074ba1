/** Small image files written by the tests themselves, with known pixels. */
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { createRequire } from 'node:module';

const UTIF = createRequire(__filename)('utif2') as typeof import('utif2');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A PNG written chunk by chunk: any colour type and depth pngjs cannot write (palette, grey+alpha). */
export function rawPng(width: number, height: number, bitDepth: number, colorType: number, rows: Uint8Array[], palette?: number[][]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const filtered = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), r]))); // filter type 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(palette ? [chunk('PLTE', Uint8Array.from(palette.flat()))] : []),
    chunk('IDAT', deflateSync(filtered)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** 16-bit grey PNG through pngjs. */
export function grey16Png(width: number, height: number, values: Uint16Array): Buffer {
  const png = new PNG({ width, height, bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return PNG.sync.write(png, { bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** 8-bit RGB PNG through pngjs. */
export function rgbPng(width: number, height: number, rgb: Uint8Array): Buffer {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Uncompressed big-endian TIFF through utif2's IFD writer (as its encodeImage does), any depth. */
export function utifTiff(width: number, height: number, bits: number, samples: number, photometric: number, data: Uint8Array): Buffer {
  const at = 1000;
  const ifd = {
    t256: [width],
    t257: [height],
    t258: Array(samples).fill(bits),
    t259: [1],
    t262: [photometric],
    t273: [at],
    t277: [samples],
    t278: [height],
    t279: [data.length],
    t284: [1],
  } as unknown as import('utif2').IFD;
  const header = new Uint8Array(UTIF.encode([ifd]));
  const out = Buffer.alloc(at + data.length);
  out.set(header, 0);
  out.set(data, at);
  return out;
}

/** Minimal little-endian grey TIFF written by hand (utif2 only writes big endian). */
export function littleEndianGreyTiff(width: number, height: number, bits: 8 | 16, values: ArrayLike<number>): Buffer {
  const entries: [tag: number, type: number, value: number][] = [
    [256, 3, width],
    [257, 3, height],
    [258, 3, bits],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0], // patched below
    [277, 3, 1],
    [278, 3, height],
    [279, 4, width * height * (bits / 8)],
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const dataAt = 8 + ifdSize;
  const out = Buffer.alloc(dataAt + width * height * (bits / 8));
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const p = 10 + i * 12;
    out.writeUInt16LE(tag, p);
    out.writeUInt16LE(type, p + 2);
    out.writeUInt32LE(1, p + 4);
    if (tag === 273) out.writeUInt32LE(dataAt, p + 8);
    else if (type === 3) out.writeUInt16LE(value, p + 8);
    else out.writeUInt32LE(value, p + 8);
  });
  for (let i = 0; i < width * height; i++) {
    if (bits === 8) out[dataAt + i] = values[i];
    else out.writeUInt16LE(values[i], dataAt + 2 * i);
  }
  return out;
}
