/**
 * Handlers for the `segment:` domain: segmentation masks of the project's images.
 *
 *   segment:run        a job: a stage-2 / shape-guided run's clustering channel 0 (main/engine/shapeGuided)
 *                      → probability map + thresholded mask per image, at the image's original size
 *   segment:learn      a job: few-shot — a segmentation head fine-tuned on a run's LD network with the
 *                      accepted corrected/imported masks (jobs/segmentationHead.ts), then the other
 *                      images re-segmented with it
 *   segment:list       every mask (MaskInfo)
 *   segment:saveMask   a reviewed mask as run lengths → source 'corrected', on disk before answering
 *   segment:accept     the review flag
 *   segment:codes      the SNOMED CT category/type list (main/io/exporters) searched
 *   segment:importSeg  a DICOM-SEG written by any tool → masks of the images its frames reference
 *
 * Masks live in `<project>/masks/` (main/project/masks.ts) and are recorded in the project file.
 *
 * What a run does not overwrite: masks the user corrected and masks imported from a DICOM-SEG. They
 * are skipped quietly, not reported as failures: the response's `images` and `masks` count only the
 * masks written, and the last progress event says how many were kept. A re-run never loses review
 * work; predicted masks (accepted or not) are replaced and their acceptance is withdrawn.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportFailure, MaskHeader, MaskInfo, MaskRle, MaskSource, RequestOf, ResponseOf, SegmentCodeMatch } from '../../common/api';
import { DEFAULT_THRESHOLD, type SegmentMethod } from '../engine/shapeGuided/segment';
import { searchCodes, type CodeMatch, type CodedConcept as DicomCode } from '../io/exporters';
import { readSegmentation, segmentMask, type Segmentation } from '../io/seg';
import { propagationSettings } from '../jobs/landmarkPropagation';
import type { SegmentedImage } from '../jobs/segmentImages';
import { runInWorker } from '../jobs/runInWorker';
import { runJob } from '../jobs/runJob';
import { foregroundOf, type Mask } from '../../common/mask';
import { rleDecode, rleProblem } from '../../common/maskRle';
import { maskFilesOf, readMaskPng, writeMask } from '../project/masks';
import { resolveModel } from '../jobs/modelSource';
import { DEFAULT_HEAD_STEPS, learnAndSegment, type SegmentLoop, type TrainingPair } from '../jobs/segmentationHead';
import { describeMissingTorch, findTorchAsync } from '../jobs/torch/findPython';
import type { StoredImage, StoredMask, StoredRun } from '../project/projectFile';
import type { ProjectStore } from '../project/projectStore';
import { IpcError } from './errors';
import { PixelsError } from './pixels';
import type { Session } from './session';
import { modelRunFor, runDirOf } from './snapshot';
import type { DomainHandlers } from './types';
import { PreconditionError } from '../../common/errors';

export function maskInfoOf(m: StoredMask): MaskInfo {
  const info: MaskInfo = { imageId: m.imageId, source: m.source, accepted: m.accepted, foreground: m.foreground, updatedAt: m.updatedAt };
  if (m.runId !== undefined) info.runId = m.runId;
  if (m.threshold !== undefined) info.threshold = m.threshold;
  return info;
}

export function storedMaskOf(store: ProjectStore, imageId: string): StoredMask | undefined {
  return store.data.masks.find((m) => m.imageId === imageId);
}

// One write of an image's mask at a time (two quick brush strokes must land in order: the PNG is
// encoded off the event loop, so without this the older stroke could finish last).
const maskLocks = new Map<string, Promise<unknown>>();

async function withMaskLock<T>(store: ProjectStore, imageId: string, work: () => Promise<T>): Promise<T> {
  const key = `${store.dir}\0${imageId}`;
  const next = (maskLocks.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
  maskLocks.set(key, next);
  try {
    return await next;
  } finally {
    if (maskLocks.get(key) === next) maskLocks.delete(key);
  }
}

export interface MaskWrite {
  source: MaskSource;
  runId?: string;
  threshold?: number;
  method?: SegmentMethod;
  /** Default: false (a new mask is not reviewed yet). */
  accepted?: boolean;
}

/**
 * Writes an image's mask (with its probability map when it has one), then records it in the project
 * (autosaved; callers that answer "saved" flush). Serialised per image.
 */
export async function storeMask(store: ProjectStore, image: StoredImage, mask: Mask, write: MaskWrite): Promise<StoredMask> {
  if (mask.width !== image.width || mask.height !== image.height) {
    throw new Error(`a ${mask.width}×${mask.height} mask for ${image.name}, which is ${image.width}×${image.height}; a mask covers the whole image at its original size`);
  }
  return withMaskLock(store, image.id, async () => {
    if (store.isClosed) throw new PreconditionError('the project was closed');
    const files = maskFilesOf(image.id);
    await writeMask(store.dir, files, mask);
    const entry: StoredMask = {
      imageId: image.id,
      source: write.source,
      accepted: write.accepted ?? false,
      foreground: foregroundOf(mask),
      updatedAt: new Date().toISOString(),
      file: files.file,
    };
    if (write.runId !== undefined) entry.runId = write.runId;
    if (write.threshold !== undefined) entry.threshold = write.threshold;
    if (write.method !== undefined) entry.method = write.method;
    if (mask.probability) entry.probFile = files.probFile;
    store.change(`mask ${write.source}`, (d) => {
      const at = d.masks.findIndex((m) => m.imageId === image.id);
      if (at >= 0) d.masks[at] = entry;
      else d.masks.push(entry);
    });
    return entry;
  });
}

// ---------------------------------------------------------------------------------------------
// segment:run


export function noClusteringBranchMessage(run: StoredRun): string {
  return (
    `run ${run.id} has no clustering branch (it was trained with stage ${run.settings.stage === '1' ? '1 only' : run.settings.stage}): ` +
    "segmentation uses the clustering channel of a stage-2 model; train a run with stage '2' or 'both' (or a shape-guided run) and segment with that run"
  );
}

type RunRequest = RequestOf<'segment:run'>;

export async function runSegmentation(session: Session, request: RunRequest): Promise<ResponseOf<'segment:run'>> {
  const { jobId } = request;
  const threshold = request.threshold ?? DEFAULT_THRESHOLD;
  const method: SegmentMethod = request.method ?? 'attention';
  const store = session.requireProject();
  const run = modelRunFor(store, request.runId, 'no trained model yet: train a run with stage 2 (Train) before segmenting');
  const targets = (request.imageIds ? [...new Set(request.imageIds)] : store.data.images.map((im) => im.id)).map((id) => store.image(id));
  const failed: ImportFailure[] = [];
  let kept = 0;
  const todo = targets.filter((im) => {
    const existing = storedMaskOf(store, im.id);
    if (existing && (existing.source === 'corrected' || existing.source === 'imported')) {
      kept++;
      return false;
    }
    const missing = store.missingReason(im);
    if (missing) failed.push({ path: store.imagePath(im), reason: missing });
    return !missing;
  });
  const masks: MaskInfo[] = [];
  const keptNote = kept ? `; kept ${kept} corrected or imported mask(s)` : '';
  return runJob(session.jobHost(jobId, 'segment'), async (job) => {
    job.total = todo.length;
    if (todo.length === 0) {
      job.progress(0, `nothing to segment${keptNote}`);
      return { images: 0, failed, seconds: job.seconds, masks };
    }
    job.progress(0, 'loading the model');
    const model = resolveModel(runDirOf(store, run).dir, undefined);
    for (const note of model.notes ?? []) session.emit('app:notice', { level: 'warning', message: `run ${run.id}: ${note}` });
    const { size } = propagationSettings(model, {});
    const byId = new Map(todo.map((im) => [im.id, im]));
    let done = 0;
    // The network and the resampling run in a worker; each result is stored here, in order.
    let storing = Promise.resolve();
    const keep = async (result: SegmentedImage) => {
      const image = byId.get(result.id)!;
      if (job.cancelled || store.isClosed) return;
      if (result.error !== undefined) failed.push({ path: store.imagePath(image), reason: result.error });
      else {
        try {
          const entry = await storeMask(store, image, result.mask, { source: 'predicted', runId: run.id, threshold, method });
          masks.push(maskInfoOf(entry));
        } catch (err) {
          failed.push({ path: store.imagePath(image), reason: (err as Error).message });
        }
      }
      done++;
      job.progress(done, image.name);
    };
    const images = todo.map((im) => ({ id: im.id, path: store.imagePath(im), width: im.width, height: im.height }));
    await runInWorker(
      'segment',
      { model: model.source, size, method, threshold, noClusteringMessage: noClusteringBranchMessage(run), images },
      { onEvent: (result) => (storing = storing.then(() => keep(result))), cancel: job.token },
    ).finally(() => storing);
    job.progress(done, `${job.cancelled ? 'cancelled' : 'done'}: ${masks.length} segmented${keptNote}`);
    return { images: masks.length, failed, seconds: job.seconds, masks };
  }, store);
}

// ---------------------------------------------------------------------------------------------
// segment:learn

/** Masks a user has vouched for: accepted, and drawn or corrected by hand or imported. */
const isTrainingMask = (m: StoredMask) => m.accepted && (m.source === 'corrected' || m.source === 'imported');

/** The segmentation loop in a worker thread (the main process stays responsive); results in order. */
const segmentInWorker: SegmentLoop = (opts, onImage, cancel) => {
  let storing: Promise<void> = Promise.resolve();
  return runInWorker('segment', opts, { onEvent: (r) => (storing = storing.then(() => onImage(r))), cancel }).finally(() => storing);
};

type LearnRequest = RequestOf<'segment:learn'>;

export async function learnSegmentation(session: Session, request: LearnRequest): Promise<ResponseOf<'segment:learn'>> {
  const store = session.requireProject();
  const run = modelRunFor(store, request.runId, 'no trained model yet: train a run (Train) before learning from corrected masks');
  const pairs: TrainingPair[] = [];
  for (const m of store.data.masks.filter(isTrainingMask)) {
    const image = store.data.images.find((im) => im.id === m.imageId);
    if (!image || store.missingReason(image)) continue;
    pairs.push({ id: image.id, path: store.imagePath(image), mask: { mask: store.imagePath({ path: m.file }) } });
  }
  if (pairs.length === 0) {
    throw new PreconditionError(
      'no accepted corrected or imported masks to learn from: correct a mask in Segment mode (brush/eraser) and accept it, or import a DICOM-SEG and accept its masks, then learn again',
    );
  }
  const discovery = await findTorchAsync();
  if (!discovery.found) throw new PreconditionError(`learning from corrected masks needs the PyTorch engine: ${describeMissingTorch(discovery)}`);
  const dir = runDirOf(store, run);
  const whole = dir.newestWholeCheckpoint();
  if (whole.step === undefined) throw new PreconditionError(`run ${run.id} has no whole checkpoint to start from`);
  const init = dir.checkpointPath(whole.step);

  const failed: ImportFailure[] = [];
  const wanted = request.imageIds ? new Set(request.imageIds) : undefined;
  if (wanted) for (const imageId of wanted) store.image(imageId); // an unknown id is refused by name
  const targets = store.data.images.filter((im) => {
    if (wanted && !wanted.has(im.id)) return false;
    const existing = storedMaskOf(store, im.id);
    if (existing && (existing.accepted || existing.source === 'corrected' || existing.source === 'imported')) return false;
    const missing = store.missingReason(im);
    if (missing) failed.push({ path: store.imagePath(im), reason: missing });
    return !missing;
  });
  const byId = new Map(targets.map((im) => [im.id, im]));
  const masks: MaskInfo[] = [];
  const steps = request.steps ?? DEFAULT_HEAD_STEPS;
  return runJob(session.jobHost(request.jobId, 'segment'), async (job) => {
    const head = await learnAndSegment(
      {
        pairs, runDir: join(dir.dir, 'segmentation-head'), init, steps, seed: request.seed ?? 0, python: discovery.found!.interpreter,
        targets: targets.map((im) => ({ id: im.id, path: store.imagePath(im), width: im.width, height: im.height })),
      },
      job,
      async (result) => {
        const image = byId.get(result.id)!;
        if (job.cancelled || store.isClosed) return;
        if (result.error !== undefined) failed.push({ path: store.imagePath(image), reason: result.error });
        else {
          try {
            masks.push(maskInfoOf(await storeMask(store, image, result.mask, { source: 'predicted', runId: run.id, threshold: 0.5 })));
          } catch (err) {
            failed.push({ path: store.imagePath(image), reason: (err as Error).message });
          }
        }
      },
      segmentInWorker,
    );
    const status = head.status === 'completed' && !job.cancelled ? 'completed' : 'cancelled';
    job.progress((head.status === 'completed' ? steps : head.completedSteps) + head.segmented, `${status === 'cancelled' ? 'cancelled' : 'done'}: learned from ${pairs.length} mask(s), ${masks.length} image(s) segmented`);
    return { status, trained: pairs.length, completedSteps: head.completedSteps, shape: head.shape, images: masks.length, failed, seconds: job.seconds, masks };
  }, store);
}

// ---------------------------------------------------------------------------------------------
// segment:codes

const normalise = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, ' ').trim();
const contractCode = (c: DicomCode) => ({ scheme: c.CodingSchemeDesignator, value: c.CodeValue, meaning: c.CodeMeaning });

/** A code-list match as the contract has it; `matched` names the keyword or code when the meaning does not show why. */
export function codeMatchOf(match: CodeMatch, query: string): SegmentCodeMatch {
  const out: SegmentCodeMatch = { category: contractCode(match.category), type: contractCode(match.type) };
  const q = normalise(query);
  if (q === '' || normalise(match.type.CodeMeaning).includes(q)) return out;
  const keyword = match.type.keywords?.find((k) => normalise(k).includes(q));
  if (keyword) out.matched = keyword;
  else if (match.type.CodeValue === query.trim() || normalise(`${match.type.CodingSchemeDesignator}:${match.type.CodeValue}`) === q) {
    out.matched = `${match.type.CodingSchemeDesignator} ${match.type.CodeValue}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// segment:importSeg

/**
 * A SEG frame's values → a Mask: BINARY non-zero is inside; FRACTIONAL values are probabilities out
 * of `fractionalMax`, inside over half of it. No frame: an empty mask (writers skip empty frames).
 */
function segMaskOf(pixels: ArrayLike<number> | undefined, width: number, height: number, fractionalMax?: number): Mask {
  const inside = new Uint8Array(width * height);
  if (!pixels) return { width, height, inside };
  if (fractionalMax === undefined) {
    for (let i = 0; i < pixels.length; i++) inside[i] = pixels[i] ? 1 : 0;
    return { width, height, inside };
  }
  const probability = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    inside[i] = pixels[i] > fractionalMax / 2 ? 1 : 0;
    probability[i] = Math.min(1, pixels[i] / fractionalMax);
  }
  return { width, height, inside, probability };
}

export async function importSegmentation(store: ProjectStore, path: string, segmentNumber: number | undefined): Promise<ResponseOf<'segment:importSeg'>> {
  const seg: Segmentation = await readSegmentation(path);
  const segments = seg.segments.map((s) => ({ number: s.number, label: s.label }));
  if (segments.length === 0) throw new Error(`${path}: the SEG describes no segment`);
  const describe = () => segments.map((s) => `${s.number} '${s.label}'`).join(', ');
  const number = segmentNumber ?? segments[0].number;
  if (!segments.some((s) => s.number === number)) throw new IpcError('validation', `segment ${number} is not in ${path} (its segments: ${describe()})`);
  const label = segments.find((s) => s.number === number)!.label;

  const byUid = new Map<string, StoredImage>();
  for (const im of store.data.images) if (im.dicom?.sopInstanceUid) byUid.set(im.dicom.sopInstanceUid, im);
  const warnings: string[] = [];
  // the project images the SEG covers: any frame (of any segment) derived from them
  const covered = new Map<string, StoredImage>();
  let withoutSource = 0;
  for (const frame of seg.frames) {
    if (frame.sources.length === 0) withoutSource++;
    for (const s of frame.sources) {
      const image = byUid.get(s.sopInstanceUID);
      if (image) covered.set(image.id, image);
    }
  }
  const ownFrames = seg.frames.filter((f) => f.segmentNumber === number);
  const unmatched = ownFrames.filter((f) => !f.sources.some((s) => byUid.has(s.sopInstanceUID))).length;
  if (unmatched) {
    warnings.push(
      `${unmatched} of the ${ownFrames.length} frame(s) of segment ${number} reference images that are not in this project (matched by SOP Instance UID): import those DICOM images and load the SEG again`,
    );
  }
  if (withoutSource) warnings.push(`${withoutSource} frame(s) name no source image (no Derivation Image Sequence), so they cannot be placed on an image`);
  if (covered.size === 0) {
    warnings.push('no frame of this SEG references an image of this project: import the DICOM images it was drawn on first');
    return { segments, applied: [], unmatched, warnings };
  }
  const fractional = seg.type === 'FRACTIONAL';
  const max = seg.maximumFractionalValue && seg.maximumFractionalValue > 0 ? seg.maximumFractionalValue : 255;
  if (fractional) warnings.push(`a FRACTIONAL SEG: the mask is where the ${seg.fractionalType === 'OCCUPANCY' ? 'occupancy' : 'probability'} exceeds half its maximum (${max / 2} of ${max})`);
  const applied: string[] = [];
  const empty: string[] = [];
  // in project order, so the answer does not depend on the SEG's frame order
  for (const image of store.data.images.filter((im) => covered.has(im.id))) {
    if (seg.columns !== image.width || seg.rows !== image.height) {
      warnings.push(`${image.name}: the SEG's frames are ${seg.columns}×${seg.rows} but the image is ${image.width}×${image.height}; left unchanged`);
      continue;
    }
    const pixels = segmentMask(seg, image.dicom!.sopInstanceUid, number);
    if (!pixels) empty.push(image.name);
    await storeMask(store, image, segMaskOf(pixels, image.width, image.height, fractional ? max : undefined), { source: 'imported' });
    applied.push(image.id);
  }
  if (empty.length) {
    warnings.push(
      `segment ${number} ('${label}') has no frame on ${empty.length} image(s) the SEG covers (${empty.slice(0, 5).join(', ')}${empty.length > 5 ? ', …' : ''}): ` +
        'writers leave out empty frames, so their masks are empty',
    );
  }
  store.flush();
  return { segments, applied, unmatched, warnings };
}

// ---------------------------------------------------------------------------------------------
// GET api/images/<id>/mask (both transports)

export interface MaskPayload {
  header: MaskHeader;
  /** width·height values, 0 or 1. */
  body: Uint8Array;
}

/** An image's mask for the viewer; PixelsError(404) when there is none (or no project / image). */
export async function readMaskPayload(session: Session, imageId: string): Promise<MaskPayload> {
  const store = session.project;
  if (!store) throw new PixelsError(404, 'no project is open');
  const image = store.data.images.find((im) => im.id === imageId);
  if (!image) throw new PixelsError(404, `no image '${imageId.slice(0, 200)}' in this project`);
  const entry = storedMaskOf(store, imageId);
  if (!entry) throw new PixelsError(404, `${image.name} has no mask yet`);
  if (!existsSync(store.imagePath({ path: entry.file }))) {
    throw new PixelsError(404, `${image.name}: its mask file ${store.imagePath({ path: entry.file })} is missing; segment the image again or import its mask`);
  }
  let body: Uint8Array;
  try {
    body = await readMaskPng(store.dir, entry.file, image.width, image.height);
  } catch (err) {
    throw new PixelsError(500, `${image.name}: ${(err as Error).message}`);
  }
  return { header: { ...maskInfoOf(entry), width: image.width, height: image.height }, body };
}

// ---------------------------------------------------------------------------------------------

function requireMask(store: ProjectStore, imageId: string): StoredMask {
  const image = store.image(imageId);
  const entry = storedMaskOf(store, imageId);
  if (!entry) throw new PreconditionError(`${image.name} has no mask yet: segment it (Segment) or draw one first`);
  return entry;
}

async function saveMask(store: ProjectStore, imageId: string, rle: MaskRle): Promise<MaskInfo> {
  const image = store.image(imageId);
  const problem = rleProblem(rle, image.width, image.height);
  if (problem) throw new IpcError('validation', `invalid mask for ${image.name}: ${problem}`);
  const mask = rleDecode(rle); // without a probability map: the correction replaces the prediction's
  const previous = storedMaskOf(store, imageId);
  // a correction keeps the run it started from and the review flag
  const entry = await storeMask(store, image, mask, { source: 'corrected', runId: previous?.runId, accepted: previous?.accepted ?? false });
  store.flush();
  return maskInfoOf(entry);
}

export const segmentHandlers: DomainHandlers<'segment:run' | 'segment:learn' | 'segment:list' | 'segment:saveMask' | 'segment:accept' | 'segment:codes' | 'segment:importSeg'> = {
  'segment:run': async (request, { session }) => runSegmentation(session, request),

  'segment:learn': async (request, { session }) => learnSegmentation(session, request),

  'segment:list': async (_payload, { session }) => session.requireProject().data.masks.map(maskInfoOf),

  'segment:saveMask': async ({ imageId, mask }, { session }) => saveMask(session.requireProject(), imageId, mask),

  'segment:accept': async ({ imageId, accepted }, { session }) => {
    const store = session.requireProject();
    requireMask(store, imageId);
    const entry = await withMaskLock(store, imageId, async () =>
      store.change(accepted ? 'mask accepted' : 'mask acceptance withdrawn', (d) => {
        const m = d.masks.find((x) => x.imageId === imageId);
        if (!m) throw new PreconditionError(`${store.image(imageId).name} has no mask any more`);
        m.accepted = accepted;
        m.updatedAt = new Date().toISOString();
        return m;
      }),
    );
    store.flush();
    return maskInfoOf(entry);
  },

  'segment:codes': async ({ query, limit }) => searchCodes(query, { limit: limit ?? 20 }).map((m) => codeMatchOf(m, query)),

  'segment:importSeg': async ({ path, segmentNumber }, { session }) => importSegmentation(session.requireProject(), path, segmentNumber),
};
