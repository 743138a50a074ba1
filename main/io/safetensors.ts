/**
 * Checkpoints as safetensors files (a JSON header + raw little-endian float32 data): readable by
 * the `safetensors` Python package and by a few lines of NumPy, so weights move between engines.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { NamedArray } from '../engine/model/params';
import { writeFileAtomic } from './atomicWrite';
import { checkInputStats, InputFileError, readInputFileSync } from './inputFile';

export function encodeSafetensors(tensors: Map<string, NamedArray>, metadata: Record<string, string>): Uint8Array[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align data to 8 bytes
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  head.write(json, 8, 'utf8');
  const chunks: Uint8Array[] = [head];
  for (const t of tensors.values()) chunks.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return chunks;
}

export function writeSafetensors(path: string, tensors: Map<string, NamedArray>, metadata: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function decodeSafetensors(buf: Buffer, source = 'checkpoint'): { tensors: Map<string, NamedArray>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`${source}: file is too short to be a safetensors checkpoint`);
  const headerLength = Number(buf.readBigUInt64LE(0));
  if (8 + headerLength > buf.length) throw new Error(`${source}: truncated header (the file was cut short)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength));
  } catch {
    throw new Error(`${source}: the header is not valid JSON`);
  }
  const base = 8 + headerLength;
  const tensors = new Map<string, NamedArray>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (e.dtype !== 'F32') throw new Error(`${source}: tensor '${name}' has dtype ${e.dtype}; only F32 is supported`);
    const [start, end] = e.data_offsets;
    if (base + end > buf.length) throw new Error(`${source}: tensor '${name}' runs past the end of the file (truncated)`);
    const copy = new Float32Array((end - start) / 4);
    new Uint8Array(copy.buffer).set(buf.subarray(base + start, base + end));
    tensors.set(name, { shape: e.shape, data: copy });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string) {
  return decodeSafetensors(readInputFileSync(path), path);
}

/**
 * Why a safetensors file is not whole, or undefined when it is: its header must parse, and the data
 * its header describes must end exactly where the file does. Reads the header only (a checkpoint is
 * megabytes): resume uses it to pass over a newest checkpoint that a power cut left cut short.
 */
export function safetensorsFileProblem(path: string): string | undefined {
  let fd: number | undefined;
  try {
    const st = statSync(path);
    checkInputStats(path, st);
    const size = st.size;
    if (size < 8) return `the file has ${size} bytes, too few for a safetensors header`;
    fd = openSync(path, 'r');
    const prefix = Buffer.alloc(8);
    readSync(fd, prefix, 0, 8, 0);
    const headerLength = Number(prefix.readBigUInt64LE(0));
    if (8 + headerLength > size) return `the file was cut short inside its header (${size} bytes; the header alone needs ${8 + headerLength})`;
    const headerBytes = Buffer.alloc(headerLength);
    readSync(fd, headerBytes, 0, headerLength, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      return 'its header is not valid JSON';
    }
    let dataEnd = 0;
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const offsets = (entry as { data_offsets?: unknown } | null)?.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(Number.isSafeInteger)) return `tensor '${name}' has no valid data_offsets in the header`;
      dataEnd = Math.max(dataEnd, offsets[1] as number);
    }
    const expected = 8 + headerLength + dataEnd;
    if (size < expected) return `the file was cut short: it has ${size} of the ${expected} bytes its header describes`;
    if (size > expected) return `the file has ${size - expected} bytes after the data its header describes`;
    return undefined;
  } catch (err) {
    return err instanceof InputFileError ? err.reason : `it cannot be read (${(err as Error).message})`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
