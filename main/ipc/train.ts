/**
 * Handlers for the `train:` domain. A run lives in `<project>/runs/<id>/` (run.json, loss.csv,
 * checkpoints/: main/jobs/runDir.ts) and trains on the project's images, either in the PyTorch
 * engine (a supervised Python child process, found as the CLI finds it) or in the tfjs engine (a
 * worker thread): the main event loop never trains. One run at a time. Events: `train:progress`
 * (throttled to 4 per second, with the losses by term, step time and ETA) and `train:state`.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { BackendName, IpcEvents, RunSummary, TrainOptions, TrainSettings } from '../../common/api';
import { chooseBackend } from '../engine/backends';
import { centreSigmaFor } from '../engine/losses';
import { defaultShapeGuided } from '../engine/shapeGuided/config';
import { PAPER_AUGMENT, PAPER_DEFAULTS, PRESETS, runLength, stepsProvisional, validateConfig, type TrainConfig } from '../engine/trainer/config';
import { readImage } from '../io';
import { startTraining } from '../jobs/startTraining';
import type { TrainJob } from '../jobs/trainJob';
import type { TrainEvent, TrainResult } from '../jobs/trainRun';
import { CancelSource, runJob, type Job, type JobHost, type JobStore } from '../jobs/runJob';
import { Throttle } from '../jobs/throttle';
import { clusterMapOf } from '../jobs/clusterMap';
import { resolveModel } from '../jobs/modelSource';
import { RunDir, skippedText } from '../jobs/runDir';
import type { StoredRun } from '../project/projectFile';
import type { ProjectStore } from '../project/projectStore';
import { describeMissingTorch, findTorchAsync } from '../jobs/torch/findPython';
import { probedBackends } from './engine';
import { IpcError } from './errors';
import type { Session, TrainingState } from './session';
import { contractLosses, runDirOf, runSummaryOf, snapshotOf } from './snapshot';
import type { DomainHandlers } from './types';
import { NotFoundError, PreconditionError } from '../../common/errors';

/** Least time between two `train:progress` events of the same phase. */
export const PROGRESS_INTERVAL_MS = 250;

export const PAPER_SETTINGS: TrainSettings = {
  stage: PAPER_DEFAULTS.stage,
  steps: PAPER_DEFAULTS.steps,
  size: PAPER_DEFAULTS.size,
  batch: PAPER_DEFAULTS.batch,
  lr: PAPER_DEFAULTS.lr,
  lrHalveEvery: PAPER_DEFAULTS.lrHalveEvery,
  clusters: PAPER_DEFAULTS.clusters,
  seed: PAPER_DEFAULTS.seed,
  checkpointEvery: PAPER_DEFAULTS.checkpointEvery,
  centreSensitive: false,
};

/** What a CPU affords in minutes: small crops, batch 2, stage 1, centre-sensitive for landmarks. */
export const CPU_SETTINGS: TrainSettings = {
  stage: '1',
  steps: 300,
  size: 128,
  batch: 2,
  lr: PAPER_DEFAULTS.lr,
  lrHalveEvery: PAPER_DEFAULTS.lrHalveEvery,
  clusters: PAPER_DEFAULTS.clusters,
  seed: PAPER_DEFAULTS.seed,
  checkpointEvery: 50,
  centreSensitive: true,
};

/**
 * The one-shot landmark recipe (PRESETS.landmarks, `ld-studio pretrain --preset landmarks`): its
 * stage, size, batch, learning rate and centre-sensitive averaging, for its minutes. `steps` is what
 * the form falls back to when the minutes are cleared (the CLI's default for the stage); the
 * checkpoint interval is the CLI's, as a run by time on a GPU can take tens of thousands of steps.
 */
const LANDMARK_PRESET = PRESETS.landmarks;
export const LANDMARK_SETTINGS: TrainSettings = {
  stage: LANDMARK_PRESET.stage,
  steps: runLength(LANDMARK_PRESET.stage, {}).steps,
  size: LANDMARK_PRESET.size,
  batch: LANDMARK_PRESET.batch,
  lr: LANDMARK_PRESET.lr,
  lrHalveEvery: LANDMARK_PRESET.lrHalveEvery,
  clusters: PAPER_DEFAULTS.clusters,
  seed: PAPER_DEFAULTS.seed,
  checkpointEvery: PAPER_DEFAULTS.checkpointEvery,
  centreSensitive: LANDMARK_PRESET.centreSensitive,
  preset: 'landmarks',
  ...(LANDMARK_PRESET.minutes !== undefined ? { minutes: LANDMARK_PRESET.minutes } : {}),
};

const percent = (f: number) => `${Math.round(f * 100)}`;

/** What a preset changes beyond the form's fields (augmentation, negatives), each with the paper's value. */
export function presetNotes(name: NonNullable<TrainSettings['preset']>): string[] {
  const preset = PRESETS[name];
  const notes: string[] = [];
  const a = preset.augment;
  const p = PAPER_AUGMENT;
  if (a) {
    const aug: string[] = [];
    if (a.hflipP !== p.hflipP || a.vflipP !== p.vflipP) {
      aug.push(a.hflipP === 0 && a.vflipP === 0 ? `no flips (paper ${p.hflipP} each way)` : `flips ${a.hflipP} left-right, ${a.vflipP} up-down (paper ${p.hflipP} each)`);
    }
    if (a.rotationDeg !== p.rotationDeg) aug.push(`rotation ±${a.rotationDeg}° (paper ±${p.rotationDeg}°)`);
    if (a.cropScale[0] !== p.cropScale[0] || a.cropScale[1] !== p.cropScale[1]) {
      aug.push(`crops of ${percent(a.cropScale[0])}–${percent(a.cropScale[1])} % of the area (paper ${percent(p.cropScale[0])}–${percent(p.cropScale[1])} %)`);
    }
    if (a.view2Turns !== p.view2Turns) aug.push(a.view2Turns ? 'view 2 turned by quarter turns (paper off)' : 'no quarter turns of view 2 (paper on)');
    if (a.viewWarp) aug.push(`view 2 warped (scale ×${a.viewWarp[0]}, ±${a.viewWarp[1]}°, shifts ${percent(a.viewWarp[2])} %; paper none)`);
    if (aug.length) notes.push(`augmentation: ${aug.join(', ')}`);
  }
  if (preset.negatives && preset.negatives !== 'batch') notes.push('negatives from the same image only (paper: every patch of the batch)');
  return notes;
}

/** The form's settings → the trainer's configuration (validated); a run by time as `pretrain --minutes` makes it. */
export function trainConfigOf(s: TrainSettings): Omit<TrainConfig, 'filterGrad'> {
  const length = runLength(s.stage, { steps: s.steps, minutes: s.minutes });
  const config: Omit<TrainConfig, 'filterGrad'> = {
    stage: s.stage,
    steps: length.steps,
    stage1Steps: length.stage1Steps,
    size: s.size,
    batch: s.batch,
    channels: 1,
    clusters: s.clusters,
    embedDim: PAPER_DEFAULTS.embedDim,
    lr: s.lr,
    lrHalveEvery: s.lrHalveEvery,
    seed: s.seed,
    checkpointEvery: s.checkpointEvery,
  };
  if (s.preset) config.preset = s.preset;
  if (length.minutes !== undefined) {
    config.minutes = length.minutes;
    if (length.stage1Share !== undefined) config.stage1Share = length.stage1Share;
  }
  if (s.centreSensitive) config.centreSigma = centreSigmaFor(s.size);
  if (s.preset) {
    const preset = PRESETS[s.preset];
    if (preset.augment) config.augment = { ...preset.augment, cropScale: [...preset.augment.cropScale] };
    if (preset.negatives) config.negatives = preset.negatives;
  }
  const errors = validateConfig({ ...config, filterGrad: 'im2col' });
  if (errors.length) throw new IpcError('validation', `invalid training settings: ${errors.join('; ')}`);
  return config;
}

/**
 * The form's shape prior and stage-2 start → the trainer's `shapeGuided` / `initFrom` (validated here,
 * where the messages can name the form's fields rather than command-line options).
 */
function withShapeGuidance(store: ProjectStore, s: TrainSettings, config: Omit<TrainConfig, 'filterGrad'>): Omit<TrainConfig, 'filterGrad'> {
  const out = { ...config };
  if (s.initFromRunId !== undefined) {
    if (s.stage !== '2') throw new IpcError('validation', `starting from run ${s.initFromRunId} trains the clustering branch: choose stage 2`);
    const dir = runDirOf(store, storedRunOf(store, s.initFromRunId));
    const whole = dir.exists() ? dir.newestWholeCheckpoint() : { skipped: [] };
    if (whole.path === undefined) throw new PreconditionError(`run ${s.initFromRunId} has no whole checkpoint to start from${skippedText(whole.skipped)}; train it first, or pick another run`);
    out.initFrom = whole.path;
  }
  if (s.shapePrior !== undefined) {
    if (!existsSync(s.shapePrior) || !statSync(s.shapePrior).isDirectory()) throw new NotFoundError(`shape prior ${s.shapePrior}: not a folder; choose the folder of binary reference masks`);
    out.shapeGuided = defaultShapeGuided(s.shapePrior, s.size);
    const errors = validateConfig({ ...out, filterGrad: 'im2col' });
    if (errors.length) throw new IpcError('validation', `invalid shape-guided settings: ${errors.join('; ')}`);
  }
  return out;
}

function storedRunOf(store: ProjectStore, runId: string): StoredRun {
  const run = store.data.runs.find((r) => r.id === runId);
  if (!run) throw new NotFoundError(`no run '${runId}' in this project (runs: ${store.data.runs.map((r) => r.id).join(', ') || 'none'})`);
  return run;
}

function newRunId(store: ProjectStore, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `run-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  for (let i = 1; ; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    if (!store.data.runs.some((r) => r.id === id) && !existsSync(join(store.dir, 'runs', id))) return id;
  }
}

function refuseIfTraining(session: Session): void {
  const t = session.training;
  if (t) throw new PreconditionError(`a training run is already in progress (${t.runId}, step ${t.step}${t.totalSteps ? ` of ${t.totalSteps}` : ', timing its first steps'}); cancel it or wait until it ends`);
  if (session.startingTraining) throw new PreconditionError('a training run is being started; wait until it runs, then cancel it or wait until it ends');
}

/** The open project if it is the one `store` was opened from (a run may outlive its project being open). */
function currentStore(session: Session, store: ProjectStore): ProjectStore | null {
  return session.project && session.project.dir === store.dir ? session.project : null;
}

function flushQuietly(store: ProjectStore): void {
  try {
    store.flush();
  } catch {
    // reported as an app:notice by the store
  }
}

/** Start the engine for a stored run (new or resumed). */
async function launch(session: Session, store: ProjectStore, run: StoredRun, config: Omit<TrainConfig, 'filterGrad'>, resume: boolean, backend?: BackendName): Promise<TrainJob> {
  const runDir = runDirOf(store, run).dir;
  const imageFiles = store.data.images.filter((im) => !store.missingReason(im)).map((im) => store.imagePath(im));
  if (imageFiles.length === 0) {
    throw new PreconditionError(store.data.images.length ? 'none of the project’s images is where the project says (all are missing): move them back or import them again' : 'the project has no images: import images first');
  }
  const started = await startTraining({
    engine: run.engine === 'torch' ? 'torch' : 'tfjs', backend: run.engine === 'torch' ? 'auto' : (backend ?? 'auto'), probes: probedBackends(),
    imagesDir: store.dir, imageFiles, runDir, config, resume,
    unavailable: (reason) => new PreconditionError(`the PyTorch engine is unavailable: ${reason}; or train with the tfjs engine`),
  });
  return started.job;
}

const plural = (n: number, one: string) => `${n} ${n === 1 ? one : `${one}s`}`;
const secondsText = (s: number) => (s >= 1 ? s.toFixed(1) : s >= 0.01 ? s.toFixed(2) : s.toPrecision(2));

/** "30 minutes → 1,234 steps at 1.5 s/step": how a time budget became steps. */
export function budgetMessage(minutes: number, steps: number, secondsPerStep: number): string {
  return `${plural(minutes, 'minute')} → ${steps.toLocaleString('en-US')} steps at ${secondsText(secondsPerStep)} s/step`;
}

type TrainProgress = IpcEvents['train:progress'];

/**
 * A launched engine as the session's training job (runJob): registered as `session.training` while it
 * runs, cancelled through its token (the engine checkpoints, then stops), its end recorded in the
 * project, then a `train:state` event (and a notice when it failed).
 */
function follow(session: Session, store: ProjectStore, run: StoredRun, engine: TrainJob, startStep: number, config: Omit<TrainConfig, 'filterGrad'>): TrainingState {
  const state: TrainingState = { runId: run.id, store, token: new CancelSource(), step: startStep, totalSteps: stepsProvisional(config) ? 0 : config.steps, settled: Promise.resolve() };
  const summary = () => runSummaryOf(session, currentStore(session, store) ?? store, run);
  state.settled = runJob(trainingHost(session, state, engine), (job) => watch(session, state, run, config, engine, job), runProject(session, store)).then(
    () => session.emit('train:state', summary()),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      session.emit('train:state', summary());
      session.emit('app:notice', { level: 'error', message: `training run ${run.id} failed: ${message.split('\n')[0]}` });
    },
  );
  return state;
}

/** Where the session's one training run registers (`session.training`) and reports (`train:progress`). */
function trainingHost(session: Session, state: TrainingState, engine: TrainJob): JobHost<TrainProgress> {
  return {
    begin: () => {
      session.training = state;
      state.token.onCancel(() => engine.cancel());
      return {
        token: state.token,
        end: () => {
          if (session.training === state) session.training = null;
        },
      };
    },
    progress: (p) => session.emit('train:progress', p),
  };
}

/**
 * The project a run saves when it ends: the open project if it is the run's (a run may outlive its
 * project being open). Saved quietly: a failed save is the store's app:notice, not a failed run.
 */
function runProject(session: Session, store: ProjectStore): JobStore {
  return {
    get isClosed() {
      return currentStore(session, store) === null;
    },
    flush: () => {
      const current = currentStore(session, store);
      if (current) flushQuietly(current);
    },
  };
}

/**
 * The engine's events as throttled `train:progress` reports until it ends; a completed run becomes the
 * active one, a run that failed before writing run.json keeps its error in the project.
 */
async function watch(session: Session, state: TrainingState, run: StoredRun, config: Omit<TrainConfig, 'filterGrad'>, engine: TrainJob, job: Job<TrainProgress>): Promise<TrainResult> {
  const throttle = new Throttle(job.report, PROGRESS_INTERVAL_MS);
  engine.events.on('event', progressReporter(session, state, config, throttle));
  try {
    const result = await engine.result;
    const current = currentStore(session, state.store);
    if (current && result.status === 'completed') current.change('training completed', (d) => (d.activeRunId = run.id));
    return result;
  } catch (err) {
    const current = currentStore(session, state.store);
    if (current && !runDirOf(current, run).exists()) {
      const message = err instanceof Error ? err.message : String(err);
      current.change('training failed', (d) => {
        const r = d.runs.find((x) => x.id === run.id);
        if (r) r.error = message;
      });
    }
    throw err;
  } finally {
    throttle.flush();
  }
}

/**
 * The engine's events → progress reports (and notices), keeping `state`'s step and losses current.
 * A run by time reports 0 as its total, without an ETA, until the engine has timed its first steps
 * (its provisional step count never reaches the renderer); then the fixed steps. The ETA is the
 * engine's: it times the steps themselves, not the reading of the images.
 */
function progressReporter(session: Session, state: TrainingState, config: Omit<TrainConfig, 'filterGrad'>, throttle: Throttle<TrainProgress>): (e: TrainEvent) => void {
  const { runId } = state;
  let timing = stepsProvisional(config);
  const minutes = config.minutes;
  /** Shown with every training step once this session has fixed the steps of a run by time. */
  let budgetNote: string | undefined;
  let lastStage: number | undefined;
  const timingNote = () => `timing the first steps to fit ${plural(minutes ?? 0, 'minute')}`;
  return (e) => {
    if (e.type === 'loading') {
      throttle.report({ runId, phase: 'loading', step: state.step, totalSteps: state.totalSteps, message: e.total ? `reading images ${e.done}/${e.total}` : 'reading images' }, e.done === e.total);
    } else if (e.type === 'ready') {
      state.step = e.startStep;
      const skipped = e.failures.length ? `; ${e.failures.length} could not be read` : '';
      throttle.report({ runId, phase: 'loading', step: e.startStep, totalSteps: state.totalSteps, message: `${e.images} images ready${skipped}${e.startStep ? `; resuming after step ${e.startStep}` : ''}` }, true);
      if (e.failures.length) {
        const list = e.failures.slice(0, 5).map((f) => `${f.file}: ${f.reason}`).join('; ');
        session.emit('app:notice', { level: 'warning', message: `training goes on without ${e.failures.length} image(s) that could not be read: ${list}${e.failures.length > 5 ? ' …' : ''}` });
      }
    } else if (e.type === 'progress') {
      state.step = e.step;
      state.lastLosses = contractLosses({ ...e.losses });
      lastStage = e.stage;
      const base = { runId, phase: 'training' as const, step: e.step, stage: e.stage, losses: state.lastLosses, stepSeconds: e.seconds };
      if (timing) {
        throttle.report({ ...base, totalSteps: 0, message: timingNote() });
      } else {
        state.totalSteps = e.totalSteps;
        throttle.report({ ...base, totalSteps: e.totalSteps, etaSeconds: e.etaSeconds, ...(budgetNote ? { message: budgetNote } : {}) }, e.step === e.totalSteps);
      }
    } else if (e.type === 'budget') {
      timing = false;
      state.totalSteps = e.steps;
      budgetNote = budgetMessage(minutes ?? 0, e.steps, e.secondsPerStep);
      throttle.report({ runId, phase: 'training', step: state.step, totalSteps: e.steps, ...(lastStage ? { stage: lastStage } : {}), message: budgetNote }, true);
    } else if (e.type === 'checkpoint') {
      // the step before the checkpoint first
      throttle.flush();
      throttle.report({ runId, phase: 'checkpoint', step: e.step, totalSteps: state.totalSteps, message: `checkpoint at step ${e.step} (${e.reason})` }, true);
    } else if (e.type === 'note') session.emit('app:notice', { level: 'warning', message: e.message });
  };
}

async function startRun(
  session: Session,
  store: ProjectStore,
  run: StoredRun,
  config: Omit<TrainConfig, 'filterGrad'>,
  resume: boolean,
  startStep: number,
  backend?: BackendName,
): Promise<RunSummary> {
  refuseIfTraining(session);
  session.startingTraining = true;
  let job: TrainJob;
  try {
    job = await launch(session, store, run, config, resume, backend);
  } finally {
    session.startingTraining = false;
  }
  follow(session, store, run, job, startStep, config);
  const summary = runSummaryOf(session, store, run);
  session.emit('train:state', summary);
  return summary;
}

export async function trainOptions(): Promise<TrainOptions> {
  const discovery = await findTorchAsync();
  const found = discovery.found;
  const probes = probedBackends();
  let tfjsDetail: string;
  try {
    const choice = chooseBackend('auto', probes);
    tfjsDetail = `backend ${choice.name} (${probes.find((p) => p.name === choice.name)?.detail ?? choice.reason})`;
  } catch (err) {
    tfjsDetail = (err as Error).message;
  }
  const torchDetail = found
    ? `torch ${found.torch} in ${found.interpreter}${found.cuda ? `, CUDA: ${found.devices.map((d) => d.name).join(', ')}` : ', CPU only'}`
    : describeMissingTorch(discovery);
  return {
    engines: [
      { id: 'torch', available: Boolean(found), detail: torchDetail },
      { id: 'tfjs', available: probes.some((p) => p.available), detail: tfjsDetail, backends: probes.map((p) => ({ ...p })) },
    ],
    paperDefaults: { ...PAPER_SETTINGS },
    suggested: found?.cuda ? { ...PAPER_SETTINGS, centreSensitive: true } : { ...CPU_SETTINGS },
    landmarkPreset: { ...LANDMARK_SETTINGS },
    landmarkPresetNotes: presetNotes('landmarks'),
  };
}

export const trainHandlers: DomainHandlers<'train:options' | 'train:start' | 'train:cancel' | 'train:resume' | 'train:losses' | 'train:clusterMap' | 'train:setActive' | 'train:addRun'> = {
  'train:options': async () => trainOptions(),

  'train:start': async ({ engine, backend, settings }, { session }) => {
    const store = session.requireProject();
    refuseIfTraining(session);
    if (engine === 'torch' && backend !== undefined) throw new IpcError('validation', "'backend' chooses a tfjs backend; the PyTorch engine picks its device itself");
    const config = withShapeGuidance(store, settings, trainConfigOf(settings));
    const id = newRunId(store);
    const run = store.change('training started', (d) => {
      const stored: StoredRun = { id, dir: `runs/${id}`, engine, backend: engine === 'torch' ? 'auto' : (backend ?? 'auto'), settings: { ...settings }, createdAt: new Date().toISOString() };
      d.runs.push(stored);
      return stored;
    });
    try {
      return await startRun(session, store, run, config, false, 0, backend);
    } catch (err) {
      // the engine never started (no Python with torch, no images): leave no run behind
      store.change('training not started', (d) => (d.runs = d.runs.filter((r) => r !== run)));
      throw err;
    }
  },

  'train:cancel': async ({ runId }, { session }) => {
    const store = session.requireProject();
    const run = storedRunOf(store, runId);
    const t = session.training;
    if (t && t.runId === runId && t.store.dir === store.dir) {
      t.token.cancel();
      await t.settled;
    }
    return runSummaryOf(session, store, run);
  },

  'train:resume': async ({ runId, steps }, { session }) => {
    const store = session.requireProject();
    const run = storedRunOf(store, runId);
    refuseIfTraining(session);
    if (run.dir.startsWith('../')) throw new PreconditionError(`run ${runId} was trained outside this project (${run.dir}); continue it where it was trained (ld-studio pretrain --resume)`);
    const dir = runDirOf(store, run);
    if (!dir.exists()) throw new PreconditionError(`run ${runId} never started (no run.json in ${dir.dir}); start a new run instead`);
    // the step a resume continues from: the newest whole checkpoint (RunDir.resumePoint passes over a cut-short one too)
    const whole = dir.newestWholeCheckpoint();
    const last = whole.step;
    if (last === undefined) throw new PreconditionError(`run ${runId} has no whole checkpoint to continue from${skippedText(whole.skipped)}; start a new run instead`);
    const info = dir.readInfo();
    const stored = info.settings as unknown as Omit<TrainConfig, 'filterGrad'>;
    const config = { ...stored, steps: steps ?? stored.steps };
    if (config.steps <= last) throw new PreconditionError(`run ${runId} already has ${last} steps; ask for more steps to continue it`);
    store.change('training resumed', () => {
      // a run by time that never timed its steps times them again (its steps are provisional)
      if (!stepsProvisional(config)) run.settings.steps = config.steps;
      delete run.error;
    });
    return startRun(session, store, run, config, true, last);
  },

  'train:losses': async ({ runId }, { session }) => {
    const store = session.requireProject();
    const dir = runDirOf(store, storedRunOf(store, runId));
    if (!existsSync(dir.lossCsv)) return [];
    return dir.readLoss().map(({ step, stage, ...losses }) => ({ step: step ?? 0, stage: stage ?? 0, losses: contractLosses(losses) }));
  },

  'train:clusterMap': async ({ runId, imageId }, { session }) => {
    const store = session.requireProject();
    const dir = runDirOf(store, storedRunOf(store, runId));
    const image = store.image(imageId);
    const missing = store.missingReason(image);
    if (missing) throw new Error(`${image.name}: ${missing}`);
    const model = resolveModel(dir.dir, undefined);
    return clusterMapOf(model, await readImage(store.imagePath(image)));
  },

  'train:setActive': async ({ runId }, { session }) => {
    const store = session.requireProject();
    storedRunOf(store, runId);
    store.change('active run chosen', (d) => (d.activeRunId = runId));
    return snapshotOf(session, store);
  },

  'train:addRun': async ({ dir }, { session }) => {
    const store = session.requireProject();
    const runDir = new RunDir(resolve(dir));
    if (!runDir.exists()) throw new NotFoundError(`${dir}: no run.json here; choose the run folder that \`ld-studio pretrain\` wrote (it holds run.json and checkpoints/)`);
    const info = runDir.readInfo();
    const whole = runDir.newestWholeCheckpoint();
    if (whole.step === undefined) throw new PreconditionError(`${dir}: this run has no whole checkpoint yet${skippedText(whole.skipped)}; add it once it has written one`);
    const rel = relative(store.dir, runDir.dir);
    if (isAbsolute(rel)) throw new Error(`${dir}: on another drive than the project; copy the run folder next to the project first`);
    const relDir = rel.split(sep).join('/');
    const known = store.data.runs.find((r) => r.dir === relDir);
    if (known) return runSummaryOf(session, store, known);
    const base = basename(runDir.dir).replace(/[^A-Za-z0-9_.-]/g, '-') || 'run';
    let id = base;
    for (let i = 2; store.data.runs.some((r) => r.id === id); i++) id = `${base}-${i}`;
    const run = store.change('run added', (d) => {
      const stored: StoredRun = { id, dir: relDir, engine: info.engine, backend: info.backend, settings: settingsOfRun(info.settings), createdAt: info.createdAt };
      d.runs.push(stored);
      return stored;
    });
    return runSummaryOf(session, store, run);
  },
};

/** A run's recorded trainer configuration → the form's settings (for a run added from elsewhere). */
function settingsOfRun(c: Record<string, unknown>): TrainSettings {
  const num = (k: string, fallback: number) => (typeof c[k] === 'number' ? (c[k] as number) : fallback);
  const stage = c.stage === '1' || c.stage === '2' || c.stage === 'both' ? c.stage : '1';
  const sg = c.shapeGuided as { priorDir?: unknown } | undefined;
  return {
    stage,
    steps: num('steps', 1),
    size: num('size', PAPER_DEFAULTS.size),
    batch: num('batch', PAPER_DEFAULTS.batch),
    lr: num('lr', PAPER_DEFAULTS.lr),
    lrHalveEvery: num('lrHalveEvery', PAPER_DEFAULTS.lrHalveEvery),
    clusters: num('clusters', PAPER_DEFAULTS.clusters),
    seed: num('seed', 0),
    checkpointEvery: num('checkpointEvery', 1),
    centreSensitive: typeof c.centreSigma === 'number',
    ...(typeof sg?.priorDir === 'string' ? { shapePrior: sg.priorDir } : {}),
    ...(c.preset === 'landmarks' ? { preset: c.preset } : {}),
    ...(typeof c.minutes === 'number' ? { minutes: c.minutes } : {}),
  };
}
