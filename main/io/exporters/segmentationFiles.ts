/** DICOM-SEG from files: DICOM source image(s) + a folder of mask images → one .dcm, written atomically. */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../atomicWrite';
import { readSources } from './dicomSource';
import { ExportError } from './exportError';
import { readMaskImages, segmentMasksFrom } from './maskImages';
import { buildSegmentation, segmentationToBytes, type SegmentationOptions, type SegmentationSummary, type SegmentationType, type SegmentInput } from './segmentation';
import type { SegmentationMetadata, SegmentDescription } from './segmentDescription';

export interface SegmentationExportRequest {
  /** A DICOM file, or a folder of the DICOM slices of one series. */
  source: string;
  /** Folder of masks named after each source file's stem (01.dcm → 01.png). */
  masks: string;
  out: string;
  type?: SegmentationType;
  /**
   * What is segmented. One segment: every non-zero mask pixel is inside. Several (BINARY only): the
   * masks are label images and segment i is where the pixel equals its labelId (default i + 1).
   */
  segments: SegmentDescription[];
  metadata?: SegmentationMetadata;
  skipEmptyFrames?: boolean;
  /** Fixed UIDs / time (tests). */
  fixed?: Pick<SegmentationOptions, 'seriesInstanceUID' | 'sopInstanceUID' | 'now'>;
}

export interface SegmentationExportReport extends SegmentationSummary {
  out: string;
  bytes: number;
  sourceFiles: string[];
  maskFiles: string[];
  /** Mask files in the folder that match no source image (not an error: listed for the user). */
  unusedMasks: string[];
  /** DICOM files of a source folder that are no images (an earlier SEG, an SR), left out. */
  skippedSources: Array<{ file: string; reason: string }>;
}

/** Checks the output path before any work, so a typo fails fast and nothing is half-written. */
export function checkOutputFile(out: string): string {
  const path = resolve(out);
  if (existsSync(path) && statSync(path).isDirectory()) throw new ExportError('the output is a folder; give a file name, e.g. seg.dcm', path);
  if (!existsSync(dirname(path))) throw new ExportError('the output folder does not exist; create it first', dirname(path));
  return path;
}

export async function exportSegmentationFiles(request: SegmentationExportRequest): Promise<SegmentationExportReport> {
  const out = checkOutputFile(request.out);
  const type = request.type ?? 'BINARY';
  if (request.segments.length === 0) throw new ExportError('no segment description: say what was segmented (a type code)');
  if (type === 'FRACTIONAL' && request.segments.length > 1) {
    throw new ExportError('a FRACTIONAL export takes one segment per mask folder (the grey value is that segment\'s probability); export each segment separately');
  }
  const { sources, skipped } = await readSources(request.source);
  const { masks, unused } = await readMaskImages(sources, request.masks);
  const single = request.segments.length === 1;
  const segments: SegmentInput[] = request.segments.map((segment, i) => ({
    ...segment,
    masks: segmentMasksFrom(masks, type, single ? undefined : (segment.labelId ?? i + 1)),
  }));
  const built = buildSegmentation(sources, segments, {
    type,
    metadata: request.metadata,
    skipEmptyFrames: request.skipEmptyFrames,
    ...request.fixed,
  });
  const bytes = segmentationToBytes(built);
  writeFileAtomic(out, bytes);
  return {
    out,
    bytes: bytes.length,
    ...built.summary,
    sourceFiles: sources.map((s) => s.path),
    maskFiles: masks.map((m) => m.path),
    unusedMasks: unused,
    skippedSources: skipped,
  };
}
