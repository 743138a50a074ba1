/**
 * The IPC contract shared by the main process, the preload bridge, the browser-mode server and the
 * renderer. It is compiled into both the Node and the web TypeScript projects, so it imports nothing
 * outside common/ (no Node, no Electron, no zod; lint holds this).
 *
 * Add a channel: declare it in `IpcChannels` here, give it a zod request schema in
 * `main/ipc/contract.ts`, and a handler in the domain file under `main/ipc/` (the compiler then refuses
 * the build until all three agree). Add a binary route (a body plus a JSON header, e.g. pixels):
 * declare it in `BinaryRoutes` and `binaryRouteHeaders`, and a handler in `main/ipc/binaryRoutes.ts`.
 */

import type { AppCommand } from './appCommands';
import type { BackendName, ImageFormat } from './names';
import type { MaskRle } from './maskRle';

export type { BackendName, ImageFormat } from './names';
export { encodeMaskRle, type MaskRle } from './maskRle';

export interface BackendInfo {
  name: BackendName;
  available: boolean;
  /** Why it is (un)available: the package found, the adapter, or what is missing. */
  detail: string;
  version?: string;
}

export interface EngineInfo {
  /** Package and runtime versions, e.g. `{ node: '20.20.2', 'tfjs-core': '4.22.0', 'tfjs-node': null }` (null = not installed). */
  versions: Record<string, string | null>;
  backends: BackendInfo[];
}

// ---------------------------------------------------------------------------------------------
// Project, images, training, landmarks, export (the app's domains). Coordinates are pixel-centre
// coordinates in the original image, whatever its format: x right, y down, (0, 0) the centre of the
// top-left pixel (as in ISBI .txt files and the landmark CSVs).

export interface ImageEntry {
  /** Stable id inside the project (never reused). */
  id: string;
  /** File name, for display. */
  name: string;
  /** Path relative to the project folder (forward slashes), or absolute when on another drive. */
  path: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** The file is not where the project says (moved or deleted); `missingReason` says what to do. */
  missing?: boolean;
  missingReason?: string;
  /** DICOM only: what the exporters and the viewer need. */
  dicom?: { sopInstanceUid: string; modality?: string; photometric?: string };
  /** What import found doubtful (e.g. the same pixels as another image, a damaged-looking decode); the image is used all the same. */
  warnings?: string[];
}

export interface ImportFailure {
  path: string;
  reason: string;
}

/** A named landmark set (built-in scheme or the user's own). */
export interface LandmarkSetInfo {
  id: string;
  title: string;
  names: string[];
  builtIn: boolean;
  /** What each landmark is, by name, where the scheme says (the built-in schemes do). */
  descriptions?: Record<string, string>;
}

export interface XY {
  x: number;
  y: number;
}

export type PointStatus = 'template' | 'predicted' | 'corrected';

export interface LandmarkPoint extends XY {
  name: string;
  /** In [0, 1]; absent for template and hand-placed points. */
  confidence?: number;
  status: PointStatus;
  /** A corrected point's prediction before the user moved it (undo restores it; calibration learns from it). */
  prediction?: XY & { confidence?: number };
}

/**
 * What a confidence score means on this project, learnt from the reviewed (accepted) images:
 * main/engine/landmarks/calibration.ts. `steps` is P(off by more than `tolerancePx` | confidence),
 * non-increasing; `expected` the share of the open points under each listed threshold that are
 * expected to be off.
 */
export interface LandmarkCalibration {
  tolerancePx: number;
  /** Reviewed points the curve was fitted on. */
  points: number;
  steps: Array<{ from: number; offRate: number; count: number }>;
  /** Spearman's ρ of confidence against the reviewed error (negative = the score ranks errors). */
  rho: number | null;
  /** For thresholds 0.1 … 1: the open (not accepted) points under it, and the share expected off. */
  expected: Array<{ threshold: number; count: number; offRate: number | null }>;
}

export interface TemplateState {
  imageId: string;
  setId: string;
  names: string[];
  /** Placed points by landmark name (a name without an entry is not placed yet). */
  points: Record<string, XY>;
}

export interface ImageLandmarks {
  imageId: string;
  points: LandmarkPoint[];
  /** The user reviewed this image and accepted its points. */
  accepted: boolean;
  /** Which run and template produced the predictions. */
  runId?: string;
  updatedAt: string;
}

export type TrainEngineId = 'torch' | 'tfjs';

export interface TrainSettings {
  stage: '1' | '2' | 'both';
  steps: number;
  size: number;
  batch: number;
  lr: number;
  lrHalveEvery: number;
  clusters: number;
  seed: number;
  checkpointEvery: number;
  centreSensitive: boolean;
  /**
   * Shape-guided segmentation (ld-method.md §5): an absolute folder of binary reference masks (unpaired,
   * any size) whose shapes a discriminator pushes clustering channel 0 towards. Needs stage 2 or both.
   */
  shapePrior?: string;
  /** Start stage 2 from this project run's latest checkpoint (the paper's stage 2 after its stage 1). */
  initFromRunId?: string;
  /**
   * 'landmarks': the one-shot landmark recipe's augmentation (no flips, small rotations, a wide crop
   * scale, no quarter turns of view 2) and same-image negatives, on top of the other settings
   * (TrainOptions.landmarkPreset fills those too). Absent: the paper's augmentation and negatives.
   */
  preset?: 'landmarks';
  /**
   * Train for about this many minutes instead of `steps` (ignored then): the engine times the first
   * steps and fixes the step count, which the run then reports as its total.
   */
  minutes?: number;
}

export interface TrainEngineOption {
  id: TrainEngineId;
  available: boolean;
  /** What was found (interpreter + torch version, tfjs backend) or what is missing. */
  detail: string;
  /** tfjs only: the backends, best first. */
  backends?: BackendInfo[];
}

export interface TrainOptions {
  engines: TrainEngineOption[];
  /** The paper's settings (ld-method.md). */
  paperDefaults: TrainSettings;
  /** What this machine can afford (smaller images and batch on a CPU); the form starts here. */
  suggested: TrainSettings;
  /** The one-shot landmark recipe (`ld-studio pretrain --preset landmarks`), by time. */
  landmarkPreset: TrainSettings;
  /** What the landmark recipe changes beyond the form's fields, each with the paper's value (augmentation, negatives). */
  landmarkPresetNotes: string[];
}

export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed';

export interface RunSummary {
  id: string;
  /** Run directory, relative to the project folder. */
  dir: string;
  engine: TrainEngineId;
  backend: string;
  status: RunStatus;
  step: number;
  /** 0 while unknown: a run by time (settings.minutes) that has not timed its first steps yet. */
  totalSteps: number;
  settings: TrainSettings;
  startedAt: string;
  error?: string;
  /** Last logged losses by term (l_pd, l_mix, l_rd, l_ent, loss). */
  lastLosses?: Record<string, number>;
  hasCheckpoint: boolean;
}

export interface LossRow {
  step: number;
  stage: number;
  losses: Record<string, number>;
}

export interface ProjectSnapshot {
  /** Absolute project folder. */
  dir: string;
  name: string;
  /** Project file format version. */
  version: number;
  images: ImageEntry[];
  landmarkSets: LandmarkSetInfo[];
  template: TemplateState | null;
  runs: RunSummary[];
  /** The run `propagate` uses by default (the last completed one unless the user picks another). */
  activeRunId: string | null;
  landmarks: ImageLandmarks[];
  /** Where the project file was last written (autosave), ISO time. */
  savedAt: string | null;
}

export interface RecentProject {
  dir: string;
  name: string;
  openedAt: string;
  /** The folder or its project file is gone. */
  missing: boolean;
}

export type LandmarkExportFormat = 'mrk.json' | 'csv' | 'wide-csv' | 'isbi-txt' | 'coco';

export interface FolderListing {
  dir: string;
  parent: string | null;
  entries: { name: string; kind: 'dir' | 'file'; /** An image LD Studio can read (by extension). */ image: boolean }[];
}

/** Binary pixels for the viewer: the `pixels` binary route (`BinaryRoutes` below). */
export interface PixelsHeader {
  width: number;
  height: number;
  /** Element type of the body (little-endian). */
  dtype: 'uint8' | 'uint16' | 'int16' | 'float32';
  min: number;
  max: number;
  /** A sensible initial window (DICOM's own where present). */
  windowCenter: number;
  windowWidth: number;
  /** MONOCHROME1: display inverted. */
  invert: boolean;
  /** mm per pixel (row, column) where known. */
  spacing?: [number, number];
  /** DICOM Modality (CR, DX, CT…); absent for PNG/JPEG/TIFF. */
  modality?: string;
  /**
   * DICOM Rescale Slope/Intercept: the body holds rescaled (modality) values, stored = (value − intercept) / slope.
   * Absent for other formats and colour images.
   */
  rescale?: { slope: number; intercept: number };
}

// ---------------------------------------------------------------------------------------------
// Segmentation (shape-guided clustering) review and DICOM exports.

export type MaskSource = 'predicted' | 'corrected' | 'imported';

export interface MaskInfo {
  imageId: string;
  source: MaskSource;
  /** Run that predicted it (predicted or corrected-from-predicted masks). */
  runId?: string;
  /** Probability threshold used for a predicted mask. */
  threshold?: number;
  accepted: boolean;
  /** Fraction of the image inside the mask. */
  foreground: number;
  updatedAt: string;
}

export interface CodedConcept {
  scheme: string;
  value: string;
  meaning: string;
}

export interface SegmentCodeMatch {
  category: CodedConcept;
  type: CodedConcept;
  /** Why it matched (keyword or synonym), for display. */
  matched?: string;
}

/** What `X-LD-Mask` carries: the mask's size (the image's original size) and its `MaskInfo`. */
export interface MaskHeader extends MaskInfo {
  width: number;
  height: number;
}

// ---------------------------------------------------------------------------------------------
// Binary routes: `GET api/images/<id>/<route>` → a binary body plus one JSON response header. Both
// transports serve them at the same path (browser mode over HTTP, the Electron app on its
// ld-studio:// scheme), from the handler table of main/ipc/binaryRoutes.ts, which the compiler holds
// to this list. Binary, not an invoke channel: megabytes of pixels are too much to send as JSON.

/** Route → what its JSON header carries. */
export interface BinaryRoutes {
  /** The image's pixels for the viewer; the body's element type is `PixelsHeader.dtype`. */
  pixels: PixelsHeader;
  /** The image's mask: width·height uint8 values (0 or 1); 404 when the image has none. */
  mask: MaskHeader;
}

export type BinaryRoute = keyof BinaryRoutes;

/** Each route's response header (its `BinaryRoutes` value as JSON). */
export const binaryRouteHeaders = {
  pixels: 'X-LD-Pixels',
  mask: 'X-LD-Mask',
} as const satisfies { [R in BinaryRoute]: string };

export const pixelsHeaderName = binaryRouteHeaders.pixels;
export const maskHeaderName = binaryRouteHeaders.mask;

const BINARY_ROUTE_NAMES = Object.keys(binaryRouteHeaders) as BinaryRoute[];
const BINARY_ROUTE_PATH = /^\/?api\/images\/([^/]+)\/([^/]+)$/;

/** A route's path for one image, relative (no leading slash) so it resolves under either transport's origin. */
export function binaryRoutePath(route: BinaryRoute, imageId: string): string {
  return `api/images/${encodeURIComponent(imageId)}/${route}`;
}

/** A request path that names a binary route; `imageId` is null when it is not valid percent-encoding (answer 400). */
export interface BinaryRouteMatch {
  route: BinaryRoute;
  imageId: string | null;
}

/** `/api/images/<id>/<route>` (leading slash optional) → route and decoded id; null for any other path. */
export function matchBinaryRoute(path: string): BinaryRouteMatch | null {
  const m = BINARY_ROUTE_PATH.exec(path);
  const route = m ? BINARY_ROUTE_NAMES.find((r) => r === m[2]) : undefined;
  if (!m || !route) return null;
  try {
    return { route, imageId: decodeURIComponent(m[1]) };
  } catch {
    return { route, imageId: null };
  }
}

/** Channel → request (payload) and response types. `void` request = no payload. */
export interface IpcChannels {
  /** Echo, used by tests and health checks. */
  'app:ping': { request: { nonce: string }; response: { nonce: string } };
  /** Runtime versions and the tfjs backends this machine can use. */
  'engine:info': { request: void; response: EngineInfo };

  /** Create a project in `dir` (created if absent; refused if it already holds a project). */
  'project:create': { request: { dir: string; name?: string }; response: ProjectSnapshot };
  /** Open the project in `dir` (the folder holding ld-project.json). */
  'project:open': { request: { dir: string }; response: ProjectSnapshot };
  /** Open (creating on first use) the sample project. */
  'project:openSample': { request: void; response: ProjectSnapshot };
  /** The open project, or null. */
  'project:get': { request: void; response: ProjectSnapshot | null };
  'project:recent': { request: void; response: RecentProject[] };
  'project:close': { request: void; response: { closed: boolean } };
  /** Browse the local file system (browser mode has no native dialog). */
  'fs:list': { request: { dir?: string }; response: FolderListing };
  /** Native dialogs (Electron); browser mode answers `{ paths: null, unsupported: true }`. */
  'dialog:open': {
    request: { kind: 'folder' | 'files' | 'save'; title?: string; defaultPath?: string };
    response: { paths: string[] | null; unsupported?: boolean };
  };

  /** Import files and folders (recursively); progress as `job:progress` with this jobId. */
  'images:import': {
    request: { jobId: string; paths: string[] };
    /** `skipped` counts the files left out as already imported; `skippedFiles` names each, with why. */
    response: { imported: ImageEntry[]; failed: ImportFailure[]; skipped: number; skippedFiles: ImportFailure[] };
  };
  /** A small PNG preview as a data: URL. */
  'images:thumbnail': { request: { imageId: string; size?: number }; response: { dataUrl: string } };
  'images:remove': { request: { imageIds: string[] }; response: ProjectSnapshot };

  'train:options': { request: void; response: TrainOptions };
  /** Start a run on the project's images; returns at once (progress as `train:progress`). */
  'train:start': { request: { engine: TrainEngineId; backend?: BackendName; settings: TrainSettings }; response: RunSummary };
  /** Checkpoint and stop after the current step. */
  'train:cancel': { request: { runId: string }; response: RunSummary };
  /** Continue a cancelled or failed run from its last checkpoint. */
  'train:resume': { request: { runId: string; steps?: number }; response: RunSummary };
  'train:losses': { request: { runId: string }; response: LossRow[] };
  /** Cluster assignment of one image as a coloured RGBA overlay (PNG data: URL) at the image's size. */
  'train:clusterMap': { request: { runId: string; imageId: string }; response: { dataUrl: string; clusters: number; source: 'clustering-branch' | 'k-means-of-embedding' } };
  /**
   * Add a run trained elsewhere (e.g. `ld-studio pretrain` on a GPU machine) by reference, not copied:
   * its folder must hold run.json and a checkpoint. Such a run is used, not resumed, from the project.
   */
  'train:addRun': { request: { dir: string }; response: RunSummary };
  /** Use this run for propagation. */
  'train:setActive': { request: { runId: string }; response: ProjectSnapshot };

  /** Pick the template image and landmark set (`names` defines a custom set). */
  'landmarks:setTemplate': { request: { imageId: string; setId?: string; names?: string[] }; response: TemplateState };
  /** Place, move (point) or remove (null) one template landmark. */
  'landmarks:setTemplatePoint': { request: { name: string; point: XY | null }; response: TemplateState };
  /** Propagate the template to the other images (or `imageIds`; by default those not accepted), the accepted images as templates too; progress as `job:progress`. */
  'landmarks:propagate': {
    request: { jobId: string; runId?: string; imageIds?: string[] };
    /** `templates`: how many templates voted (the template and every accepted image). */
    response: { images: number; failed: ImportFailure[]; seconds: number; landmarks: ImageLandmarks[]; templates: number };
  };
  /** Move one point of one image (a review correction); saved at once. */
  'landmarks:setPoint': { request: { imageId: string; name: string; point: XY; status?: PointStatus }; response: ImageLandmarks };
  'landmarks:accept': { request: { imageId: string; accepted: boolean }; response: ImageLandmarks };
  'landmarks:calibration': { request: { tolerancePx?: number }; response: LandmarkCalibration };

  /**
   * Write the landmarks (template + every image) in one format into `dir`. Every export refuses to
   * replace an existing file (code `conflict`, naming it) unless `overwrite` is true.
   */
  'export:landmarks': { request: { format: LandmarkExportFormat; dir: string; overwrite?: boolean }; response: { files: string[] } };

  /** Segment the images (or `imageIds`) with a run's clustering channel 0; progress as `job:progress`. */
  'segment:run': {
    request: { jobId: string; runId?: string; imageIds?: string[]; threshold?: number; method?: 'attention' | 'cos' };
    response: { images: number; failed: ImportFailure[]; seconds: number; masks: MaskInfo[] };
  };
  /**
   * Few-shot segmentation from corrected masks: fine-tune a segmentation head on a run's LD network
   * (the PyTorch engine) with the accepted masks whose source is 'corrected' or 'imported', then
   * re-segment the images (or `imageIds`) whose masks are not accepted, corrected or imported (stored as
   * 'predicted'). The head is kept in the run's directory (segmentation-head/). Progress as
   * `job:progress` (kind 'segment': training steps, then images); cancel stops after the step or image.
   */
  'segment:learn': {
    request: { jobId: string; runId?: string; imageIds?: string[]; steps?: number; seed?: number };
    response: {
      status: 'completed' | 'cancelled';
      /** Training pairs used. */
      trained: number;
      completedSteps: number;
      /** The network input the head was trained at. */
      shape: { width: number; height: number };
      images: number;
      failed: ImportFailure[];
      seconds: number;
      masks: MaskInfo[];
    };
  };
  'segment:list': { request: void; response: MaskInfo[] };
  /** Replace one image's mask with a reviewed one (saved before answering). */
  'segment:saveMask': { request: { imageId: string; mask: MaskRle }; response: MaskInfo };
  'segment:accept': { request: { imageId: string; accepted: boolean }; response: MaskInfo };
  /** Search the SNOMED CT category/type list for a segment (e.g. "vertebra", "femur"). */
  'segment:codes': { request: { query: string; limit?: number }; response: SegmentCodeMatch[] };
  /** Load a DICOM-SEG written by any tool as masks of the project images it references (by SOPInstanceUID). */
  'segment:importSeg': {
    request: { path: string; segmentNumber?: number };
    response: { segments: { number: number; label: string }[]; applied: string[]; unmatched: number; warnings: string[] };
  };
  /** DICOM-SEG of the project's DICOM images that have masks; PNG/JPEG sources are refused with the reason. */
  'export:seg': {
    request: { file: string; label: string; category: CodedConcept; type: CodedConcept; fractional?: boolean; imageIds?: string[]; overwrite?: boolean };
    /**
     * `file`: the SEG written. A SEG on projection radiographs (no Frame of Reference) references one
     * image, and one SEG holds one series, so a selection that needs several SEGs writes one per
     * radiograph / series: into `file` when it is an existing folder (`<image>.seg.dcm`), else beside it
     * as `<file stem>-<image>.dcm`; then `file` is their folder and `files` lists them all.
     */
    response: { file: string; files?: string[]; frames: number; warnings: string[] };
  };
  /** One DICOM SR (TID 1500) per DICOM image with landmarks, into `dir`. */
  'export:sr': { request: { dir: string; overwrite?: boolean }; response: { files: string[]; skipped: ImportFailure[] } };
  /** Masks as label PNGs (`<stem>_mask.png`, 0/255) or one COCO segmentation file, for any image format (main/ipc/exportMasks.ts). */
  'export:masks': { request: { dir: string; format: 'png' | 'coco'; imageIds?: string[]; label?: string; overwrite?: boolean }; response: { files: string[]; skipped: ImportFailure[] } };

  /** Cancel a running import or propagation. */
  'job:cancel': { request: { jobId: string }; response: { cancelled: boolean } };
}

export type Channel = keyof IpcChannels;
export type RequestOf<C extends Channel> = IpcChannels[C]['request'];
export type ResponseOf<C extends Channel> = IpcChannels[C]['response'];

/** Arguments after the channel name: the payload, optional when the request is `void`. */
export type PayloadArgs<C extends Channel> = RequestOf<C> extends void ? [payload?: undefined] : [payload: RequestOf<C>];

/** Events pushed from the main process to the renderer (event name → payload). */
export interface IpcEvents {
  /** A message the main process wants shown to the user. */
  'app:notice': { level: 'info' | 'warning' | 'error'; message: string };
  /** Progress of an import, propagation or export started with this jobId. */
  'job:progress': { jobId: string; kind: 'import' | 'propagate' | 'export' | 'segment'; done: number; total: number; message?: string; etaSeconds?: number };
  /** One training step (throttled to a few per second) or a phase change while loading. */
  'train:progress': {
    runId: string;
    phase: 'loading' | 'training' | 'checkpoint';
    step: number;
    /** 0 while unknown: a run by time is still timing its first steps (no ETA then). */
    totalSteps: number;
    stage?: number;
    losses?: Record<string, number>;
    stepSeconds?: number;
    etaSeconds?: number;
    message?: string;
  };
  /** A run changed status (started, completed, cancelled, failed). */
  'train:state': RunSummary;
  /** The project changed on the main side (autosaved); the renderer may refresh. */
  'project:changed': { reason: string; savedAt: string | null };
  /** A menu command of the Electron app (File menu) for the renderer to carry out (common/appCommands.ts). */
  'app:command': AppCommand;
}

export type EventName = keyof IpcEvents;

export type IpcErrorCode =
  /** The payload failed the channel's schema; `issues` says where. */
  | 'validation'
  /** No such channel. */
  | 'unknown_channel'
  /** The request itself was malformed (browser mode: bad JSON, wrong content type, too large). */
  | 'bad_request'
  /** Browser mode: no valid token. */
  | 'unauthorized'
  /** A named project, image, run, landmark set or file does not exist (common/errors.ts). */
  | 'not_found'
  /** The project is not ready for this yet; the message says what to do first (common/errors.ts). */
  | 'precondition'
  /** It would replace an existing file; the message names it, and `overwrite: true` allows it (common/errors.ts). */
  | 'conflict'
  /** The handler failed. */
  | 'internal';

export interface IpcIssue {
  /** Where in the payload, e.g. `['nonce']`; empty for the payload itself. */
  path: (string | number)[];
  message: string;
  code: string;
}

export interface IpcErrorPayload {
  code: IpcErrorCode;
  message: string;
  issues?: IpcIssue[];
}

/** What crosses the process boundary: never a thrown error with a stack. */
export type IpcEnvelope<T> = { result: T } | { error: IpcErrorPayload };

/** What preload/index.ts exposes as `window.ldStudio` (Electron only). */
export interface LdStudioBridge {
  invoke<C extends Channel>(channel: C, ...args: PayloadArgs<C>): Promise<IpcEnvelope<ResponseOf<C>>>;
  /** Subscribe to a main-process event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, callback: (payload: IpcEvents[E]) => void): () => void;
}

/** The ipcRenderer channel name used for an event (kept apart from invoke channels). */
export const eventChannelPrefix = 'ld-studio-event:';
