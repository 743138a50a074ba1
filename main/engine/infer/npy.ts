/**
 * NumPy `.npy` (format version 1.0) for float32 arrays: readable with `numpy.load`.
 * Layout: magic "\x93NUMPY", version 1.0, header length (uint16 LE), an ASCII Python dict literal
 * padded with spaces and ending in "\n" so that the data starts at a multiple of 64 bytes, then the
 * raw little-endian float32 data in C order.
 */
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array[] {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`npy: ${data.length} values for shape [${shape.join(', ')}]`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1; // + trailing newline
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error('npy: header too long for format 1.0');
  const head = Buffer.alloc(MAGIC.length + 4 + header.length);
  MAGIC.copy(head, 0);
  head[6] = 1; // major
  head[7] = 0; // minor
  head.writeUInt16LE(header.length, 8);
  head.write(header, 10, 'latin1');
  return [head, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
}

/** Parses a version 1.0/2.0 little-endian float32, C-order `.npy` (what `encodeNpy` writes). */
export function decodeNpy(buf: Uint8Array): { shape: number[]; data: Float32Array; headerLength: number } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) throw new Error('npy: not a NumPy file (bad magic)');
  const major = b[6];
  const lenBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = 8 + lenBytes + headerLength;
  const header = b.toString('latin1', 8 + lenBytes, start);
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`npy: only little-endian float32 is supported (${header.trim()})`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('npy: Fortran order is not supported');
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!m) throw new Error(`npy: no shape in header (${header.trim()})`);
  const shape = m[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, c) => a * c, 1);
  if (start + count * 4 > b.length) throw new Error('npy: file is truncated');
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(b.subarray(start, start + count * 4));
  return { shape, data, headerLength: start };
}
