/** Typed reads of DICOM attributes from a dicom-parser DataSet, including enhanced functional groups. */
import { TextDecoder } from 'node:util';
import type { DataSet } from './dicomParser';

/** DICOM tag as dicom-parser keys it: (0028,0010) → 'x00280010'. */
export const tag = (group: number, element: number): string =>
  `x${group.toString(16).padStart(4, '0')}${element.toString(16).padStart(4, '0')}`;

const decoders = new Map<string, TextDecoder>();

/**
 * Decoder for the Specific Character Set. dicom-parser reads bytes as Latin-1 only, which garbles
 * UTF-8 names (ISO_IR 192); ISO 2022 code extensions are not interpreted (their escapes are kept).
 */
export function textDecoderFor(specificCharacterSet: string | undefined): TextDecoder {
  const terms = (specificCharacterSet ?? '').split('\\').map((s) => s.trim().toUpperCase());
  let label = 'latin1';
  if (terms.includes('ISO_IR 192')) label = 'utf-8';
  else if (terms.includes('GB18030') || terms.includes('GBK')) label = 'gb18030';
  else if (terms.includes('ISO_IR 144')) label = 'iso-8859-5';
  else if (terms.includes('ISO_IR 127')) label = 'iso-8859-6';
  else if (terms.includes('ISO_IR 126')) label = 'iso-8859-7';
  else if (terms.includes('ISO_IR 138')) label = 'iso-8859-8';
  else if (terms.includes('ISO_IR 148')) label = 'iso-8859-9';
  else if (terms.includes('ISO_IR 166')) label = 'windows-874';
  let decoder = decoders.get(label);
  if (!decoder) {
    decoder = new TextDecoder(label);
    decoders.set(label, decoder);
  }
  return decoder;
}

/** Attribute value as text (trailing padding removed), or undefined when absent or empty. */
export function text(ds: DataSet, t: string, decoder?: TextDecoder): string | undefined {
  const el = ds.elements[t];
  if (!el || !el.length || el.dataOffset === undefined) return undefined;
  const end = Math.min(el.dataOffset + el.length, ds.byteArray.length);
  const bytes = ds.byteArray.subarray(el.dataOffset, end);
  const value = (decoder ?? textDecoderFor(undefined)).decode(bytes).replace(/[\0\s]+$/, '').replace(/^\s+/, '');
  return value === '' ? undefined : value;
}

/** Numbers of a multi-valued DS / IS attribute ("0.2\0.2"); undefined unless all parse. */
export function numbers(ds: DataSet, t: string): number[] | undefined {
  const value = text(ds, t);
  if (value === undefined) return undefined;
  const parts = value.split('\\').map((s) => Number.parseFloat(s.trim()));
  return parts.length > 0 && parts.every(Number.isFinite) ? parts : undefined;
}

/** First number of a DS / IS attribute. */
export function number(ds: DataSet, t: string): number | undefined {
  return numbers(ds, t)?.[0];
}

/** A US attribute (binary), read with the data set's own byte order. */
export function uint16(ds: DataSet, t: string): number | undefined {
  const el = ds.elements[t];
  if (!el || el.length < 2) return undefined;
  return ds.uint16(t);
}

/** Data set of the first item of a sequence attribute. */
export function firstItem(ds: DataSet | undefined, t: string): DataSet | undefined {
  return ds?.elements[t]?.items?.[0]?.dataSet;
}

const SHARED_FUNCTIONAL_GROUPS = tag(0x5200, 0x9229);
const PER_FRAME_FUNCTIONAL_GROUPS = tag(0x5200, 0x9230);

/** Number of items in the Per-frame Functional Groups Sequence (0 for classic objects). */
export function perFrameGroupCount(ds: DataSet): number {
  return ds.elements[PER_FRAME_FUNCTIONAL_GROUPS]?.items?.length ?? 0;
}

/**
 * The item of a functional group macro (e.g. Plane Position Sequence) for one frame of an enhanced
 * multi-frame object (SEG, enhanced CT/MR): per-frame first, then shared.
 */
export function functionalGroup(ds: DataSet, frame: number, macroSequence: string): DataSet | undefined {
  const perFrame = ds.elements[PER_FRAME_FUNCTIONAL_GROUPS]?.items?.[frame]?.dataSet;
  return firstItem(perFrame, macroSequence) ?? firstItem(firstItem(ds, SHARED_FUNCTIONAL_GROUPS), macroSequence);
}
