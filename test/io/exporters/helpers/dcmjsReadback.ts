/**
 * A SEG read back with dcmjs alone (its own parser, our own few lines of bit unpacking, written
 * independently of the exporter's), frame by frame, keyed by the source SOP Instance UID.
 */
import { readFileSync } from 'node:fs';
import { readNaturalDataset, type NaturalDataset } from '../../../../main/io/exporters/dcmjs';

export interface DcmjsFrame {
  segment: number;
  source: string;
  /** 0/1 (BINARY) or stored value (FRACTIONAL). */
  pixels: Uint8Array;
  position?: number[];
}

export function dcmjsReadSeg(file: string): { dataset: NaturalDataset; frames: DcmjsFrame[] } {
  const dataset = readNaturalDataset(readFileSync(file));
  const rows = dataset.Rows as number;
  const columns = dataset.Columns as number;
  const n = Number(dataset.NumberOfFrames);
  const bits = dataset.BitsAllocated as number;
  const raw = dataset.PixelData as ArrayBuffer[] | ArrayBuffer;
  const bytes = new Uint8Array(Array.isArray(raw) ? raw[0] : raw);
  const perFrame = dataset.PerFrameFunctionalGroupsSequence as NaturalDataset[];
  const pixelsPerFrame = rows * columns;
  const frames: DcmjsFrame[] = [];
  for (let f = 0; f < n; f++) {
    const pixels = new Uint8Array(pixelsPerFrame);
    for (let i = 0; i < pixelsPerFrame; i++) {
      if (bits === 1) {
        const bit = f * pixelsPerFrame + i;
        pixels[i] = (bytes[Math.floor(bit / 8)] >> bit % 8) & 1;
      } else pixels[i] = bytes[f * pixelsPerFrame + i];
    }
    const item = perFrame[f];
    const first = (v: unknown) => (Array.isArray(v) ? v[0] : v) as NaturalDataset;
    const segment = first(item.SegmentIdentificationSequence).ReferencedSegmentNumber as number;
    const derivation = first(item.DerivationImageSequence);
    const source = first(derivation.SourceImageSequence).ReferencedSOPInstanceUID as string;
    const frame: DcmjsFrame = { segment, source, pixels };
    if (item.PlanePositionSequence) frame.position = (first(item.PlanePositionSequence).ImagePositionPatient as number[]).map(Number);
    frames.push(frame);
  }
  return { dataset, frames };
}

/** The first item of a natural sequence (dcmjs gives one-item sequences as arrays with accessors). */
export const firstItem = (v: unknown): NaturalDataset => (Array.isArray(v) ? v[0] : v) as NaturalDataset;
