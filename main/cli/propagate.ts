/**
 * `ld-studio propagate`: one-shot landmarks. The template file's points on the template image are
 * found on every image of a folder with a trained LD model; writes <out>/landmarks.csv (long format
 * with confidence), one <image>.mrk.json per image (Slicer) and <out>/landmarks.coco.json.
 * Features are cached in <out>/.ld-cache, so running again (a moved template point, new images, or
 * after Ctrl+C) only runs the network on images it has not seen.
 *
 * Prints one JSON line on stdout; progress and messages on stderr. Exit codes: 0 done, 1 failed,
 * 2 bad arguments, 130 cancelled (what was done is written).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { imageStem } from '../engine/landmarks/metrics';
import type { ConsensusMode } from '../engine/landmarks/propagate';
import type { LandmarkScheme, LandmarkTable, Point } from '../engine/landmarks/types';
import type { InputFit } from '../engine/infer/preprocess';
import { listImageFiles } from '../io';
import { runPropagation, type CascadeRequest } from '../jobs/landmarkPropagation';
import type { PropagationRequest } from '../jobs/workerTasks';
import type { PseudoTemplateOptions } from '../jobs/extraTemplates';
import { BUILTIN_SCHEME_IDS, loadBuiltinScheme, loadSchemeFile, readLandmarkFile, writeLandmarkFile, type BuiltinSchemeId } from '../io/landmarks';
import { runJob } from '../jobs/runJob';
import { executionProvidersArg, numberArg, oneOf, parseCommandArgs, runSubcommand, UsageError } from './args';
import { cliJobHost } from './jobHost';

export const PROPAGATE_USAGE = `  ld-studio propagate --model <run-dir|checkpoint|model.onnx> --template <file> --template-image <image>
                     --images <dir> --out <dir> [options]
      One-shot landmarks: find the template's landmarks on every image of <dir>. The template file
      (.mrk.json, .csv long or wide, .txt ISBI, .json COCO) holds the points of --template-image
      (when it holds several images, the entry named like --template-image is used).
      --template-images DIR  every image of the template file is a template, found in DIR by file name or
                           stem (001 → 001.tif); the first (or --template-image) leads, and each image's
                           points are the robust centre of all the templates' answers
      --extra-template-levels on|off  run the cascade for every extra template (default: on for labelled
                           templates, off for pseudo-templates)
      Writes <out>/landmarks.csv (image,landmark,x,y,confidence), <out>/<image>.mrk.json per image
      and <out>/landmarks.coco.json. Confidence in [0, 1]: review the lowest first.
      --scheme ID|file.json  landmark names/order (${BUILTIN_SCHEME_IDS.join(', ')}, or a JSON scheme)
      --consensus dense|affine|prior|none  shape consensus before each landmark's search:
                           dense (default): mutual matches of the whole image vote for an affine map, with
                           a local correction, and each landmark is searched near where it puts it; affine:
                           the landmarks' own best matches vote; prior: near the template's own position;
                           none: the paper's plain argmax
      --cascade on|off     the multi-scale cascade after the global search (default on): regions around
                           each estimate re-embedded at 2×, 4×, … finer resolution
      --cascade-size N     region side per level, network px (default 64)
      --cascade-radius R   search half-width per level, in that level's px (default 4)
      --refine ncc|none    a last NCC step in two windows, at 512 px and at the original resolution
                           (≤ 1024 px) (default ncc)
      --pseudo-templates N|off   after the template alone, the N images it reached most confidently serve
                           as extra templates (their propagated points as labels); a point that all the
                           templates' robust centre outvotes is moved there (default off: the template
                           alone, as the paper; N = 4 when given without the others below)
      --template-weight W  the template's vote against each extra template's 1 (default 1)
      --pseudo-gate G|none   keep the template's own answer unless it lies more than G·σ from the fused
                           point (default 1); none: every point takes the fused point
      --size N             network input side (default: the training base size, size·512/448)
      --sigma S            centre-sensitive σ in network px (default: the run's, scaled to --size)
      --fit square|long-side   square (default, as training) or keep the aspect ratio
      --step N             with a run directory: the checkpoint of step N (default: the latest)
      --threads N          CPU threads for ONNX Runtime (default: one per physical core)
      --ep auto|cpu|cuda   ONNX Runtime execution provider (default cpu)
      --no-cache           do not read or write the feature cache (<out>/.ld-cache)
`;

const OPTIONS = {
  model: { type: 'string' },
  template: { type: 'string' },
  'template-image': { type: 'string' },
  'template-images': { type: 'string' },
  'extra-template-levels': { type: 'string' },
  images: { type: 'string' },
  out: { type: 'string' },
  scheme: { type: 'string' },
  consensus: { type: 'string' },
  cascade: { type: 'string' },
  'cascade-size': { type: 'string' },
  'cascade-radius': { type: 'string' },
  refine: { type: 'string' },
  'pseudo-templates': { type: 'string' },
  'template-weight': { type: 'string' },
  'pseudo-gate': { type: 'string' },
  size: { type: 'string' },
  sigma: { type: 'string' },
  fit: { type: 'string' },
  step: { type: 'string' },
  threads: { type: 'string' },
  ep: { type: 'string' },
  'no-cache': { type: 'boolean' },
} as const;

/** The template entry for the template image: the only one, or the one with the same name or stem. */
export function templateEntry(table: LandmarkTable, templateImage: string, file: string) {
  if (table.images.length === 1) return table.images[0];
  const wanted = basename(templateImage);
  const found = table.images.find((i) => basename(i.image) === wanted) ?? table.images.find((i) => imageStem(i.image) === imageStem(wanted));
  if (!found) {
    const names = table.images.slice(0, 8).map((i) => i.image).join(', ');
    throw new Error(`${file} has no landmarks for ${wanted} (it holds ${table.images.length} images: ${names}${table.images.length > 8 ? ', …' : ''})`);
  }
  return found;
}

async function loadScheme(arg: string | undefined): Promise<LandmarkScheme | undefined> {
  if (arg === undefined) return undefined;
  if ((BUILTIN_SCHEME_IDS as readonly string[]).includes(arg)) return loadBuiltinScheme(arg as BuiltinSchemeId);
  if (!existsSync(arg)) throw new UsageError(`--scheme ${arg}: not a built-in scheme (${BUILTIN_SCHEME_IDS.join(', ')}) and no such file`);
  return loadSchemeFile(arg);
}

function cascadeOption(values: { cascade?: string; 'cascade-size'?: string; 'cascade-radius'?: string }): CascadeRequest | false | undefined {
  const on = oneOf(values.cascade, 'cascade', ['on', 'off'] as const);
  const inputSize = numberArg(values['cascade-size'], 'cascade-size', { integer: true, min: 16 });
  const radius = numberArg(values['cascade-radius'], 'cascade-radius', { min: 1 });
  if (inputSize !== undefined && inputSize % 16 !== 0) throw new UsageError(`--cascade-size must be a multiple of 16, got ${inputSize}`);
  if (on === 'off') {
    if (inputSize !== undefined || radius !== undefined) throw new UsageError('--cascade-size and --cascade-radius set the cascade; drop them or use --cascade on');
    return false;
  }
  if (inputSize === undefined && radius === undefined) return undefined;
  return { ...(inputSize !== undefined ? { inputSize } : {}), ...(radius !== undefined ? { radius } : {}) };
}

function pseudoTemplatesOption(values: { 'pseudo-templates'?: string; 'template-weight'?: string; 'pseudo-gate'?: string }): Partial<PseudoTemplateOptions> | false {
  const templateWeight = numberArg(values['template-weight'], 'template-weight', { min: 0.01 });
  const gateArg = values['pseudo-gate'];
  const gate = gateArg === 'none' ? null : numberArg(gateArg, 'pseudo-gate', { min: 0 });
  const tuned = templateWeight !== undefined || gateArg !== undefined;
  const count = values['pseudo-templates'] === 'off' ? 0 : numberArg(values['pseudo-templates'], 'pseudo-templates', { integer: true, min: 0 });
  if (!count) {
    if (tuned) throw new UsageError('--template-weight and --pseudo-gate tune the pseudo-templates: add --pseudo-templates N');
    return false;
  }
  return { count, ...(templateWeight !== undefined ? { templateWeight } : {}), ...(gate !== undefined ? { gate } : {}) };
}

const onOff = (v: 'on' | 'off' | undefined) => (v === undefined ? undefined : v === 'on');

/** The file of `dir` for a template entry's image name: the same file name, else the only file with its stem (`001` → `001.tif`). */
function locateTemplateImage(files: string[], name: string, dir: string): string {
  const byName = files.find((f) => basename(f) === basename(name));
  if (byName) return byName;
  const byStem = files.filter((f) => imageStem(basename(f)) === imageStem(name));
  if (byStem.length === 1) return byStem[0];
  if (byStem.length > 1) throw new UsageError(`--template-images ${dir}: ${byStem.length} images have the stem of '${name}' (${byStem.map((f) => basename(f)).join(', ')}): rename one`);
  throw new UsageError(`--template-images ${dir}: no image for the template entry '${name}' (looked for that file name and its stem)`);
}

interface Templates {
  image: string;
  points: Array<Point | null>;
  extra: Array<{ image: string; points: Array<Point | null> }>;
  landmarks: string[];
}

/** The template (and, with --template-images, every other entry of the file as an extra template). */
async function readTemplates(values: { template?: string; 'template-image'?: string; 'template-images'?: string }, scheme: LandmarkScheme | undefined): Promise<Templates> {
  const templateFile = resolve(values.template!);
  if (!existsSync(templateFile)) throw new UsageError(`--template ${values.template}: file not found`);
  const chosen = values['template-image'] ? resolve(values['template-image']) : null;
  if (chosen && !existsSync(chosen)) throw new UsageError(`--template-image ${values['template-image']}: file not found`);
  const strip = (points: ReadonlyArray<Point | null>) => points.map((p) => (p ? { x: p.x, y: p.y } : null));
  if (!values['template-images']) {
    if (!chosen) throw new UsageError('--template-image is required (or --template-images <dir> with a template file that names its images)');
    const table = await readLandmarkFile(templateFile, { scheme, image: basename(chosen) });
    return { image: chosen, points: strip(templateEntry(table, chosen, templateFile).points), extra: [], landmarks: table.landmarks };
  }
  const dir = resolve(values['template-images']);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--template-images ${values['template-images']}: folder not found`);
  const table = await readLandmarkFile(templateFile, { scheme });
  const files = await listImageFiles(dir);
  const located = table.images.map((entry) => ({ image: resolve(locateTemplateImage(files, entry.image, values['template-images']!)), points: strip(entry.points) }));
  const main = chosen ? located.find((l) => l.image === chosen) : located[0];
  if (!main) throw new UsageError(`--template-image ${values['template-image']} is not one of the template file's images in ${values['template-images']}`);
  return { image: main.image, points: main.points, extra: located.filter((l) => l !== main), landmarks: table.landmarks };
}

async function propagate(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, OPTIONS);
  for (const name of ['model', 'template', 'images', 'out'] as const) {
    if (!values[name]) throw new UsageError(`--${name} is required`);
  }
  const imagesDir = resolve(values.images!);
  if (!existsSync(imagesDir) || !statSync(imagesDir).isDirectory()) throw new UsageError(`--images ${values.images}: folder not found`);
  const templateFile = resolve(values.template!);
  const out = resolve(values.out!);
  const scheme = await loadScheme(values.scheme);

  const template = await readTemplates(values, scheme);
  const templateImage = template.image;
  const templatePaths = new Set([templateImage, ...template.extra.map((e) => e.image)]);
  const images = (await listImageFiles(imagesDir)).filter((p) => !templatePaths.has(resolve(p)));
  if (!images.length) throw new Error(`${imagesDir}: no images to propagate to (besides the template images)`);

  // every option is read before the job starts, so a mistake is reported before any progress
  const request: PropagationRequest = {
    model: values.model!,
    step: numberArg(values.step, 'step', { integer: true, min: 0 }),
    templateImage,
    landmarks: template.landmarks,
    templatePoints: template.points,
    extraTemplates: template.extra,
    extraTemplateLevels: onOff(oneOf(values['extra-template-levels'], 'extra-template-levels', ['on', 'off'] as const)),
    images: images.map((path) => ({ path, name: basename(path) })),
    size: numberArg(values.size, 'size', { integer: true, min: 16 }),
    sigma: numberArg(values.sigma, 'sigma', { min: 0.1 }),
    fit: oneOf<InputFit>(values.fit, 'fit', ['square', 'long-side']),
    consensus: oneOf<ConsensusMode>(values.consensus, 'consensus', ['dense', 'affine', 'prior', 'none']),
    cascade: cascadeOption(values),
    refine: oneOf(values.refine, 'refine', ['none', 'ncc'] as const),
    pseudoTemplates: pseudoTemplatesOption(values),
    threads: numberArg(values.threads, 'threads', { integer: true, min: 0 }),
    executionProviders: executionProvidersArg(values.ep, 'cpu').providers,
    cacheDir: values['no-cache'] ? null : join(out, '.ld-cache'),
  };
  mkdirSync(out, { recursive: true });
  const host = cliJobHost({ stopping: 'stopping after this image' });
  const result = await runJob(host, async (job) => {
    job.total = images.length;
    job.progress(0, 'loading the model and the template');
    return runPropagation({
      ...request,
      cancel: job.token,
      onProgress: (e) => {
        job.total = e.total; // two passes with pseudo-templates
        job.progress(e.done, `${e.cached ? 'cached ' : ''}${e.image}`);
      },
    });
  });
  // readers' messages already begin with the file's path: print it once
  for (const f of result.failures) host.message(f.error.startsWith(f.image) ? `skipped ${f.error}` : `skipped ${f.image}: ${f.error}`);

  const table = result.table;
  const csv = join(out, 'landmarks.csv');
  await writeLandmarkFile(csv, table);
  const markups: string[] = [];
  for (const image of table.images) {
    const file = join(out, `${imageStem(image.image)}.mrk.json`);
    await writeLandmarkFile(file, { landmarks: table.landmarks, images: [image] }, { scheme, geometry: image.geometry });
    markups.push(file);
  }
  const coco = join(out, 'landmarks.coco.json');
  await writeLandmarkFile(coco, table, { scheme });

  const confidences = table.images.flatMap((i) => i.points.flatMap((p) => (p ? [p.confidence ?? 0] : []))).sort((a, b) => a - b);
  const lowest = table.images
    .flatMap((i) => i.points.map((p, k) => ({ image: i.image, landmark: table.landmarks[k], confidence: p?.confidence ?? 0 })))
    .sort((a, b) => a.confidence - b.confidence)
    .slice(0, 5);
  const report = {
    out,
    csv,
    coco,
    markups: markups.length,
    images: table.images.length,
    landmarks: table.landmarks.length,
    template: { image: templateImage, file: templateFile, placed: template.points.filter(Boolean).length, extraTemplates: template.extra.map((e) => e.image) },
    failures: result.failures,
    cancelled: result.cancelled,
    settings: result.settings,
    confidence: confidences.length ? { min: confidences[0], median: confidences[Math.floor(confidences.length / 2)], max: confidences[confidences.length - 1] } : null,
    reviewFirst: lowest,
    timing: result.timing,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
  if (result.cancelled) {
    process.stderr.write(`cancelled: wrote the ${table.images.length} images done; run the same command again to continue (cached features are reused)\n`);
    return 130;
  }
  return result.failures.length && !table.images.length ? 1 : 0;
}

/** `ld-studio propagate …`; returns the exit code. */
export async function propagateCommand(args: string[]): Promise<number> {
  return runSubcommand('propagate', () => propagate(args), { afterUsageError: `\nUsage:\n${PROPAGATE_USAGE}` });
}
