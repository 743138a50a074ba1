/**
 * `ld-studio export-seg`: masks drawn on DICOM images → one DICOM Segmentation (SEG) that references
 * them. Prints one JSON line on stdout; warnings go to stderr. Exit codes: 0 written, 1 failed
 * (nothing written), 2 bad arguments.
 */
import { resolve } from 'node:path';
import {
  CodeError,
  concept,
  exportSegmentationFiles,
  readSegmentDescriptionFile,
  resolveCategory,
  resolveType,
  searchCodes,
  writeSegmentDescriptionFile,
  type SegmentationMetadata,
  type SegmentDescription,
} from '../io/exporters';
import { parseCommandArgs, runSubcommand, UsageError } from './args';

export const EXPORT_SEG_USAGE = `  ld-studio export-seg --source <dicom file or dir> --masks <dir> --out <seg.dcm> [options]
      DICOM Segmentation (SEG) of masks drawn on DICOM images. --masks holds one mask per source
      image named after its file stem (01.dcm → 01.png), at the image's full size; non-zero is
      inside. A CT/MR folder gives one SEG over its slices; a radiograph (no Frame of Reference)
      one SEG per image. PNG/JPEG/TIFF sources are refused: a SEG references DICOM UIDs.
      --type CODE|NAME     what was segmented (SNOMED CT), e.g. femur, SCT:71341001, "left ventricle"
      --category CODE|NAME its category (default: the type's, e.g. Anatomical Structure)
      --label TEXT         segment label (default: the type's meaning)
      --reviewed           the masks were reviewed/corrected: SEMIAUTOMATIC (default AUTOMATIC)
      --fractional         FRACTIONAL PROBABILITY SEG: mask grey / 255 is the probability (8-bit
                           masks); default BINARY
      --segment-json FILE  segment descriptions as dcmqi JSON (Slicer, MONAI Label) instead of
                           --type/--category/--label/--reviewed; several segments: the masks are
                           label images and segment i is where the pixel equals its labelID
      --write-segment-json FILE   also save the segment descriptions used, as dcmqi JSON
      --find-code TEXT     list the codes matching TEXT and exit
`;

const OPTIONS = {
  source: { type: 'string' },
  masks: { type: 'string' },
  out: { type: 'string' },
  label: { type: 'string' },
  category: { type: 'string' },
  type: { type: 'string' },
  fractional: { type: 'boolean' },
  reviewed: { type: 'boolean' },
  'segment-json': { type: 'string' },
  'write-segment-json': { type: 'string' },
  'find-code': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>;

function findCodes(query: string): number {
  const matches = searchCodes(query, { limit: 20 }).map((m) => ({
    type: { ...concept(m.type), ...(m.type.keywords ? { keywords: m.type.keywords } : {}) },
    category: concept(m.category),
    argument: `SCT:${m.type.CodeValue}`,
  }));
  process.stdout.write(JSON.stringify({ query, matches }) + '\n');
  if (!matches.length) process.stderr.write(`no code matches '${query}'; try a broader word (bone, lung, vertebra)\n`);
  return 0;
}

/** The one segment described by --type/--category/--label/--reviewed. */
function segmentFromOptions(values: Values): SegmentDescription {
  if (!values.type) {
    throw new UsageError(
      'say what was segmented: --type <name or code>, e.g. --type femur or --type SCT:71341001 (list codes with --find-code <text>), or give --segment-json',
    );
  }
  try {
    const category = values.category ? resolveCategory(values.category) : undefined;
    const found = resolveType(values.type, category);
    return {
      label: values.label?.trim() || found.type.CodeMeaning,
      category: concept(found.category),
      type: concept(found.type),
      algorithmType: values.reviewed ? 'SEMIAUTOMATIC' : 'AUTOMATIC',
      ...(found.type.rgb ? { recommendedDisplayRGB: found.type.rgb } : {}),
    };
  } catch (err) {
    if (err instanceof CodeError) throw new UsageError(err.message);
    throw err;
  }
}

async function exportSeg(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, OPTIONS);
  if (values['find-code'] !== undefined) return findCodes(values['find-code']);
  for (const name of ['source', 'masks', 'out'] as const) {
    if (!values[name]) throw new UsageError(`--${name} is required`);
  }
  let segments: SegmentDescription[];
  let metadata: SegmentationMetadata = {};
  const warnings: string[] = [];
  if (values['segment-json']) {
    const clash = (['type', 'category', 'label', 'reviewed'] as const).filter((k) => values[k] !== undefined);
    if (clash.length) {
      throw new UsageError(`--segment-json describes the segments; leave out ${clash.map((k) => `--${k}`).join(', ')} (edit the JSON instead)`);
    }
    const file = await readSegmentDescriptionFile(resolve(values['segment-json']));
    segments = file.segments;
    metadata = file.metadata;
    warnings.push(...file.warnings);
  } else {
    segments = [segmentFromOptions(values)];
  }
  const report = await exportSegmentationFiles({
    source: values.source!,
    masks: values.masks!,
    out: values.out!,
    type: values.fractional ? 'FRACTIONAL' : 'BINARY',
    segments,
    metadata,
  });
  if (values['write-segment-json']) writeSegmentDescriptionFile(resolve(values['write-segment-json']), segments, metadata);
  const allWarnings = [...warnings, ...report.warnings];
  for (const w of allWarnings) process.stderr.write(`warning: ${w}\n`);
  for (const s of report.skippedSources) process.stderr.write(`note: skipped ${s.file}: ${s.reason}\n`);
  for (const m of report.unusedMasks) process.stderr.write(`note: ${m} matches no source image and was not used\n`);
  process.stdout.write(
    JSON.stringify({
      out: report.out,
      bytes: report.bytes,
      type: report.type,
      spatial: report.spatial,
      rows: report.rows,
      columns: report.columns,
      frames: report.frames,
      emptyFramesSkipped: report.emptyFramesSkipped,
      segments: report.segments,
      sources: report.sourceFiles,
      masks: report.maskFiles.length,
      unusedMasks: report.unusedMasks,
      skippedSources: report.skippedSources,
      sopInstanceUID: report.sopInstanceUID,
      seriesInstanceUID: report.seriesInstanceUID,
      studyInstanceUID: report.studyInstanceUID,
      ...(values['write-segment-json'] ? { segmentJson: resolve(values['write-segment-json']) } : {}),
      warnings: allWarnings,
    }) + '\n',
  );
  return 0;
}

/** `ld-studio export-seg …`; returns the exit code. */
export async function exportSegCommand(args: string[]): Promise<number> {
  return runSubcommand('export-seg', () => exportSeg(args), { afterUsageError: `\nUsage:\n${EXPORT_SEG_USAGE}`, afterFailure: 'Nothing was written.\n' });
}
