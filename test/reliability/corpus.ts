/**
 * A malformed-input corpus made at test time, in a temp folder, from a few real files of the shared
 * data (read in place, never written to, never copied into the repository): empty files, cuts at
 * several points, bit flips and garbage with a fixed seed, DICOMs whose Rows/Columns lie about the
 * Pixel Data, and explicit-VR data under another Transfer Syntax UID. The same folder holds
 * untouched copies of the real files (the GOOD ones), which every entry point must keep.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse, rewriteTransferSyntax } from '../io/helpers/dicomBytes';
import { dataPath } from '../helpers/sharedData';
import { mulberry32 } from '../../main/engine/rng';

export interface CorpusFile {
  /** Absolute path in the corpus folder. */
  path: string;
  /** The real file it was made from. */
  source: string;
  /** 'good' (an untouched copy) or what was done to it. */
  kind: string;
  /** A good file: every entry point must keep it. */
  good: boolean;
  /**
   * The damage may leave a decodable image (bit flips in pixel data, a missing last byte): keeping it
   * is allowed. Everything else must be refused with a reason.
   */
  mayDecode: boolean;
}

export interface Corpus {
  dir: string;
  files: CorpusFile[];
  good: CorpusFile[];
  bad: CorpusFile[];
}

/** The real files, kept few and small: the suite runs on two busy cores. */
export const SOURCES = {
  crNative: () => dataPath('dicom/cr/RG2_UNC.dcm'), // explicit VR little endian, 2140×1760
  crJ2k: () => dataPath('dicom/cr/RG2_J2KR.dcm'), // JPEG 2000 lossless, encapsulated
  ct: () => dataPath('dicom/ct-3slice-seg/01.dcm'), // implicit VR little endian, 512×512
  hand: () => dataPath('landmarks/hand/7088.png'), // 8-bit PNG
  spine: () => dataPath('landmarks/spine/images/training/sunhl-1th-30-Dec-2016-159 A AP.jpg'), // 8-bit JPEG, name with spaces
};

/** mulberry32: a fixed seed gives the same corpus on every machine. */
const rng = mulberry32;

/** `count` random bytes XOR 0xFF, past the first `from` bytes (DICOM: the preamble and meta header). */
function bitFlip(bytes: Uint8Array, seed: number, count: number, from: number): Buffer {
  const out = Buffer.from(bytes);
  const next = rng(seed);
  for (let k = 0; k < count; k++) out[from + Math.floor(next() * (out.length - from))] ^= 0xff;
  return out;
}

function garbage(length: number, seed: number): Buffer {
  const next = rng(seed);
  return Buffer.from(Uint8Array.from({ length }, () => Math.floor(next() * 256)));
}

/**
 * Gives a DICOM its own SOP Instance UID (same length, patched in place), so that the import's
 * "same DICOM image" check does not hide what the damage does, and a damaged twin never takes the
 * place of the good copy.
 */
function ownInstanceUid(bytes: Uint8Array, n: number): Buffer {
  const out = Buffer.from(bytes);
  const el = parse(out).elements.x00080018;
  const uid = out.toString('latin1', el.dataOffset, el.dataOffset + el.length).replace(/\0+$/, '');
  const parts = uid.split('.');
  const k = parts.map((p) => p.length >= 3).lastIndexOf(true);
  const code = String(10 + (n % 90));
  parts[k] = parts[k].slice(0, -2) + code;
  out.write(parts.join('.'), el.dataOffset, 'latin1');
  return out;
}

/** Writes a different value into a 2-byte US element in place (Rows, Columns). */
function patchUs(bytes: Uint8Array, tag: string, value: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt16LE(value, parse(out).elements[tag].dataOffset);
  return out;
}

/** A point inside the header, before any pixel data: DICOM just before Rows, PNG inside IHDR's successor, JPEG in its tables. */
function headerCut(bytes: Uint8Array, format: 'dicom' | 'png' | 'jpeg'): number {
  if (format === 'dicom') return parse(bytes).elements.x00280010.dataOffset - 4;
  if (format === 'png') return 40; // signature 8 + IHDR 25, then 7 bytes of the next chunk
  return 300; // SOI, APP0, DQT and DHT tables: a few hundred bytes
}

export function makeCorpus(root: string): Corpus {
  const dir = join(root, 'corpus');
  mkdirSync(dir, { recursive: true });
  const files: CorpusFile[] = [];
  let seed = 1;
  let uidCode = 0;

  const add = (source: string, name: string, kind: string, bytes: Uint8Array | null, mayDecode: boolean) => {
    const path = join(dir, name);
    if (bytes === null) copyFileSync(source, path);
    else writeFileSync(path, bytes);
    files.push({ path, source, kind, good: kind === 'good', mayDecode: kind === 'good' || mayDecode });
  };

  for (const [label, sourceOf] of Object.entries(SOURCES)) {
    const source = sourceOf();
    const ext = extname(source);
    const format = ext === '.dcm' ? 'dicom' : ext === '.png' ? 'png' : 'jpeg';
    const stem = `${label} ${basename(source, ext)}`;
    const original = readFileSync(source);
    // damaged DICOMs each get their own SOP Instance UID (see ownInstanceUid)
    const own = () => (format === 'dicom' ? ownInstanceUid(original, uidCode++) : Buffer.from(original));
    const bad = (kind: string, bytes: Uint8Array, mayDecode = false) => add(source, `${stem} ~${kind}${ext}`, kind, bytes, mayDecode);

    add(source, `${stem}${ext}`, 'good', null, true);
    bad('empty', new Uint8Array());
    bad('cut at 10 bytes', original.subarray(0, 10));
    bad('cut in the header', own().subarray(0, headerCut(original, format)));
    bad('cut half way', own().subarray(0, original.length >> 1));
    bad('one byte short', own().subarray(0, original.length - 1), true);
    bad('50 bytes flipped', bitFlip(own(), seed++, 50, format === 'dicom' ? 144 + original.readUInt32LE(140) : 64), true);
    bad('garbage', garbage(Math.min(original.length, 64 * 1024), seed++));

    if (format === 'dicom') {
      const ds = parse(original);
      const rows = ds.uint16('x00280010')!;
      const cols = ds.uint16('x00280011')!;
      bad('Rows plus one', patchUs(own(), 'x00280010', rows + 1));
      bad('Columns halved', patchUs(own(), 'x00280011', cols >> 1));
      const ts = ds.string('x00020010');
      if (ts === '1.2.840.10008.1.2.1') {
        // explicit VR little endian data under another transfer syntax
        bad('says implicit VR', rewriteTransferSyntax(own(), '1.2.840.10008.1.2'));
        bad('says JPEG baseline', rewriteTransferSyntax(own(), '1.2.840.10008.1.2.4.50'));
        bad('says big endian', rewriteTransferSyntax(own(), '1.2.840.10008.1.2.2'));
      } else if (ts === '1.2.840.10008.1.2') {
        // and the other way round: implicit VR data that claims to be explicit
        bad('says explicit VR', rewriteTransferSyntax(own(), '1.2.840.10008.1.2.1'));
      }
    }
  }
  const good = files.filter((f) => f.good);
  return { dir, files, good, bad: files.filter((f) => !f.good) };
}

/** Raw engine messages that must never reach a user as a reason. */
const RAW = /\n\s+at |^\s*(Type|Range|Reference|Syntax)?Error\b|Cannot read propert|is not a function|is not defined|outside the bounds|Invalid (typed )?array length|Maximum call stack|\[object |\bundefined\b|\bNaN\b/;

/** A reason a person can read: a sentence, not a stack, not a bare code, not 'undefined'. */
export function problemWithReason(reason: unknown): string | undefined {
  if (typeof reason !== 'string') return `not a string: ${String(reason)}`;
  if (reason.trim().length < 12) return `too short to say anything: '${reason}'`;
  if (!/[a-z]{3,} [a-z]{2,}/i.test(reason)) return `not a sentence: '${reason}'`;
  if (RAW.test(reason)) return `a raw engine message or stack: '${reason}'`;
  return undefined;
}
