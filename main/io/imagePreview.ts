/**
 * An ImageRecord → what the viewer shows: the pixels of the first frame in the smallest exact element
 * type (PixelsHeader in common/api.ts), and small 8-bit previews (thumbnails).
 *
 * MONOCHROME1: main/io inverts such images on read (larger = brighter). For the viewer the stored
 * values are restored and `invert: true` is set, as DICOM viewers expect (a DICOM window applies to
 * the values before the presentation inversion). Thumbnails use the record's values as read, so
 * they show MONOCHROME1 images inverted, i.e. the right way round.
 * Colour images become grey (ITU-R 601 luma): radiographs are grey, and the viewer takes one channel.
 */
import type { PixelsHeader } from '../../common/api';
import type { ImageRecord } from './imageRecord';

/** One frame of grey values (luma for colour images). */
export function greyFrame(record: ImageRecord): { values: Float32Array; min: number; max: number } {
  const n = record.width * record.height;
  let values: Float32Array;
  if (record.channels === 1) values = record.pixels.subarray(0, n);
  else {
    values = new Float32Array(n);
    const p = record.pixels;
    for (let i = 0; i < n; i++) values[i] = 0.299 * p[3 * i] + 0.587 * p[3 * i + 1] + 0.114 * p[3 * i + 2];
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(min <= max)) [min, max] = [0, 0];
  return { values, min, max };
}

/** The constant K with stored-orientation value = K − record value, for a MONOCHROME1 DICOM record. */
function monochrome1Flip(record: ImageRecord): number | undefined {
  const d = record.dicom;
  if (!record.inverted || !d) return undefined;
  const signed = d.pixelRepresentation === 1;
  const bits = d.bitsStored;
  const lo = signed ? -(2 ** (bits - 1)) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return (lo + hi) * d.rescaleSlope + 2 * d.rescaleIntercept;
}

export interface PixelsPayload {
  header: PixelsHeader;
  body: Buffer;
}

export function pixelsFromRecord(record: ImageRecord): PixelsPayload {
  const { width, height } = record;
  const n = width * height;
  const grey = greyFrame(record);
  let values = grey.values;
  let { min, max } = grey;
  const flip = monochrome1Flip(record);
  if (flip !== undefined) {
    const restored = new Float32Array(n);
    for (let i = 0; i < n; i++) restored[i] = flip - values[i];
    values = restored;
    [min, max] = [flip - max, flip - min];
  }
  const colour = record.channels === 3;
  let integral = true;
  if (!colour) {
    for (let i = 0; i < n; i++) {
      if (!Number.isInteger(values[i])) {
        integral = false;
        break;
      }
    }
  }
  let dtype: PixelsHeader['dtype'];
  let typed: Uint8Array | Uint16Array | Int16Array | Float32Array;
  if ((integral || colour) && min >= 0 && max <= 255 && record.bitsStored <= 8) {
    dtype = 'uint8';
    typed = new Uint8Array(n);
  } else if (integral && min >= 0 && max <= 65535) {
    dtype = 'uint16';
    typed = new Uint16Array(n);
  } else if (integral && min >= -32768 && max <= 32767) {
    dtype = 'int16';
    typed = new Int16Array(n);
  } else {
    dtype = 'float32';
    typed = new Float32Array(n);
  }
  if (typed instanceof Float32Array) typed.set(values);
  else for (let i = 0; i < n; i++) typed[i] = Math.round(values[i]);
  if (dtype === 'uint8' && colour) {
    min = Math.round(min);
    max = Math.round(max);
  }
  const header: PixelsHeader = {
    width,
    height,
    dtype,
    min,
    max,
    // the file's own window where it has one (a CT's soft-tissue window), else the full range
    windowCenter: record.dicom?.window?.center ?? (min + max) / 2,
    windowWidth: record.dicom?.window?.width ?? Math.max(1, max - min),
    invert: flip !== undefined,
  };
  if (record.spacing) header.spacing = [record.spacing.row, record.spacing.column];
  if (record.dicom && !colour) header.rescale = { slope: record.dicom.rescaleSlope, intercept: record.dicom.rescaleIntercept };
  return { header, body: Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength) };
}

/** An 8-bit grey preview whose long side is `size` (box-averaged), windowed to the image's range. */
export function thumbnailFromRecord(record: ImageRecord, size: number): { width: number; height: number; data: Uint8Array } {
  const { width: W, height: H } = record;
  const scale = Math.min(1, size / Math.max(W, H));
  const w = Math.max(1, Math.round(W * scale));
  const h = Math.max(1, Math.round(H * scale));
  const { values, min, max } = greyFrame(record);
  const range = max > min ? max - min : 1;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * H) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * H) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * W) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * W) / w));
      let sum = 0;
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += values[yy * W + xx];
      const mean = sum / ((y1 - y0) * (x1 - x0));
      data[y * w + x] = Math.max(0, Math.min(255, Math.round(((mean - min) / range) * 255)));
    }
  }
  return { width: w, height: h, data };
}
