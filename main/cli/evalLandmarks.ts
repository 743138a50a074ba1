/**
 * `ld-studio eval-landmarks`: accuracy of predicted landmarks against the truth: mean radial error
 * (MRE) ± SD in px (and mm with a spacing), per landmark and per image, success detection rates, how
 * well the predictions' confidence ranks their errors, and every true point left without a prediction.
 *
 * Both files are read with main/io/landmarks (every format it reads); the spine set's header-less truth
 * with --truth-filenames. Prints one JSON line on stdout; messages go to stderr. Exit codes: 0 done,
 * 1 failed, 2 bad arguments.
 */
import { join, resolve } from 'node:path';
import { DEFAULT_RADII_MM, DEFAULT_RADII_PX, evaluateLandmarks, imageStem, type EvaluateOptions, type LandmarkEvaluation } from '../engine/landmarks/metrics';
import type { LandmarkTable } from '../engine/landmarks/types';
import { listImageFiles, readImage } from '../io';
import { readImageSize, readLandmarkFile, readSpineCsvFiles, type ImageSize } from '../io/landmarks';
import { parseCommandArgs, runSubcommand, UsageError } from './args';

export const EVAL_LANDMARKS_USAGE = `  ld-studio eval-landmarks --pred <file> --truth <file> [options]
      Landmark accuracy: mean radial error (MRE) ± SD, per landmark and per image, success
      detection rates (SDR), Spearman's rho of confidence against error (negative = useful
      confidence), and the true points with no prediction (counted as SDR failures).
      Files: .csv (long image,landmark,x,y[,confidence], or wide image,x1,y1,…), .json (COCO
      keypoints), .mrk.json (Slicer markups, one image), .txt (ISBI 2015, one image).
      Images pair by name, else by file stem (3167.png ↔ 3167); landmarks by name, else by
      position when the two files share no name.
      --truth-filenames F  --truth is the spine set's header-less landmarks.csv (x1..xN then y1..yN,
                           normalised by the image size) and F its filenames.csv; needs --images
      --spacing-mm S       pixel spacing in mm per px: errors in mm too, SDR at --radii-mm
      --radii-mm LIST      SDR radii in mm, comma-separated (default ${DEFAULT_RADII_MM.join(',')})
      --radii-px LIST      SDR radii in px (default ${DEFAULT_RADII_PX.join(',')} when there is no --spacing-mm)
      --heights            errors also as a fraction of the image height (the spine truth knows
                           its heights; otherwise they are read from the images in --images)
      --images <dir>       the image folder: image sizes for --heights and --truth-filenames (read
                           from the file headers; DICOM and TIFF are decoded)
      --points             also list every point's error
`;

const OPTIONS = {
  pred: { type: 'string' },
  truth: { type: 'string' },
  'spacing-mm': { type: 'string' },
  'radii-mm': { type: 'string' },
  'radii-px': { type: 'string' },
  heights: { type: 'boolean' },
  images: { type: 'string' },
  'truth-filenames': { type: 'string' },
  points: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function positiveNumber(text: string, what: string): number {
  const n = Number(text.trim());
  if (!DECIMAL.test(text.trim()) || !(n > 0) || !Number.isFinite(n)) throw new UsageError(`${what} expects a positive number, got '${text}'`);
  return n;
}

function radiiArg(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((s) => s === '')) throw new UsageError(`--${name} expects comma-separated positive numbers, got '${value}'`);
  return parts.map((s) => positiveNumber(s, `--${name}`));
}

// ---- The command ----

/**
 * Width and height of an image file from its header (PNG, JPEG, BMP), without decoding the pixels;
 * other formats (DICOM, TIFF), or a header the reader cannot make sense of, are decoded in full.
 */
export async function imageSizeOf(path: string): Promise<ImageSize> {
  try {
    return await readImageSize(path);
  } catch {
    const { width, height } = await readImage(path);
    return { width, height };
  }
}

/** Heights of the named images, read from the image files in `dir` (paired by name or stem). */
async function heightsFromImages(dir: string, names: readonly string[]): Promise<Map<string, number>> {
  const files = await listImageFiles(dir);
  const byName = new Map<string, string>();
  const byStem = new Map<string, string[]>();
  for (const file of files) {
    const id = file.slice(resolve(dir).length + 1).split('\\').join('/');
    byName.set(id, file);
    byStem.set(imageStem(id), [...(byStem.get(imageStem(id)) ?? []), file]);
  }
  const heights = new Map<string, number>();
  const notFound: string[] = [];
  for (const name of names) {
    const stemMatches = byStem.get(imageStem(name)) ?? [];
    const file = byName.get(name) ?? (stemMatches.length === 1 ? stemMatches[0] : undefined);
    if (!file) notFound.push(name);
    else heights.set(name, (await imageSizeOf(file)).height);
  }
  if (notFound.length) throw new Error(`--heights: no image file in ${dir} for ${listSome(notFound)}`);
  return heights;
}

function listSome(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => `'${n}'`);
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ');
}

/** 6 significant digits: enough for any error, and readable. */
function rounded(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
}

function report(e: LandmarkEvaluation, pred: string, truth: string, truthFilenames: string | undefined, withPoints: boolean) {
  return {
    pred,
    truth,
    truthFilenames,
    spacingMm: e.spacingMm,
    counts: e.counts,
    mre: { px: e.errorPx, mm: e.errorMm, heightFraction: e.errorHeightFraction },
    sdr: e.successRates,
    confidence: e.confidence,
    perLandmark: e.perLandmark,
    perImage: e.perImage,
    missing: e.missing,
    unpaired: e.unpaired,
    notes: e.notes,
    points: withPoints ? e.points : undefined,
  };
}

async function evalLandmarks(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    process.stdout.write(`Usage:\n${EVAL_LANDMARKS_USAGE}`);
    return 0;
  }
  for (const name of ['pred', 'truth'] as const) if (!values[name]) throw new UsageError(`--${name} is required`);
  if (values['truth-filenames'] !== undefined && values.images === undefined) {
    throw new UsageError('--truth-filenames needs --images <dir>: the spine coordinates are fractions of each image’s size');
  }
  if (values.images !== undefined && !values.heights && values['truth-filenames'] === undefined) {
    throw new UsageError('--images is only used with --heights or --truth-filenames');
  }
  const options: EvaluateOptions = {
    spacingMm: values['spacing-mm'] === undefined ? undefined : positiveNumber(values['spacing-mm'], '--spacing-mm'),
    radiiMm: radiiArg(values['radii-mm'], 'radii-mm'),
    radiiPx: radiiArg(values['radii-px'], 'radii-px'),
    heightFraction: values.heights ?? false,
  };
  if (options.radiiMm && options.spacingMm === undefined) throw new UsageError('--radii-mm needs --spacing-mm');

  const predPath = resolve(values.pred!);
  const truthPath = resolve(values.truth!);
  const filenamesPath = values['truth-filenames'] === undefined ? undefined : resolve(values['truth-filenames']);
  const imagesDir = values.images === undefined ? undefined : resolve(values.images);
  const onWarning = (message: string) => process.stderr.write(`eval-landmarks: warning: ${message}\n`);
  const pred = await readLandmarkFile(predPath, { onWarning });
  const truth: LandmarkTable = filenamesPath
    ? await readSpineCsvFiles(truthPath, filenamesPath, (name) => imageSizeOf(join(imagesDir!, name)), { onWarning })
    : await readLandmarkFile(truthPath, { onWarning });
  let evaluation = evaluateLandmarks(pred, truth, options);
  const withoutHeight = evaluation.unpaired.imagesWithoutHeight;
  if (withoutHeight.length) {
    if (imagesDir === undefined) {
      throw new Error(`--heights: no height known for ${listSome(withoutHeight)}; give the image folder with --images <dir>`);
    }
    const heights = await heightsFromImages(imagesDir, withoutHeight);
    evaluation = evaluateLandmarks(pred, truth, { ...options, heights });
  }

  const { counts, errorPx, errorMm } = evaluation;
  const mm = errorMm?.mean != null ? `, ${errorMm.mean.toFixed(2)} ± ${errorMm.sd!.toFixed(2)} mm` : '';
  const px = errorPx.mean != null ? `MRE ${errorPx.mean.toFixed(2)} ± ${errorPx.sd!.toFixed(2)} px${mm}` : 'no point evaluated';
  process.stderr.write(`eval-landmarks: ${counts.evaluated} of ${counts.truthPoints} true points evaluated, ${counts.missing} missing; ${px}\n`);
  for (const note of evaluation.notes) process.stderr.write(`eval-landmarks: note: ${note}\n`);
  process.stdout.write(JSON.stringify(report(evaluation, predPath, truthPath, filenamesPath, values.points ?? false), rounded) + '\n');
  return 0;
}

/** `ld-studio eval-landmarks …`; returns the exit code (0 done, 1 failed, 2 bad arguments). */
export async function evalLandmarksCommand(args: string[]): Promise<number> {
  return runSubcommand('eval-landmarks', () => evalLandmarks(args), { afterUsageError: "Run 'ld-studio eval-landmarks --help' for usage.\n" });
}
