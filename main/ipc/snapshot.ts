/** The project as the renderer sees it (ProjectSnapshot), built from the store and the run folders. */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageEntry, ImageLandmarks, LandmarkSetInfo, ProjectSnapshot, RunStatus, RunSummary, TemplateState } from '../../common/api';
import { BUILTIN_SCHEME_IDS, landmarkNames, loadBuiltinScheme } from '../io/landmarks';
import type { StoredImage, StoredRun } from '../project/projectFile';
import { PROJECT_FORMAT_VERSION } from '../project/projectFile';
import type { ProjectStore } from '../project/projectStore';
import { stepsProvisional, type TrainConfig } from '../engine/trainer/config';
import { RunDir, type RunInfo } from '../jobs/runDir';
import type { TrainingState } from './sessionState';
import { NotFoundError, PreconditionError } from '../../common/errors';

/** What the snapshot needs of the session: the training run, if any. */
type Session = { readonly training: TrainingState | null };

let builtIns: LandmarkSetInfo[] | undefined;

/** The built-in landmark schemes (resources/landmarks), read once. */
export function builtInLandmarkSets(): LandmarkSetInfo[] {
  builtIns ??= BUILTIN_SCHEME_IDS.map((id) => {
    const scheme = loadBuiltinScheme(id);
    const descriptions = Object.fromEntries(scheme.landmarks.filter((l) => l.description).map((l) => [l.name, l.description!]));
    return { id, title: scheme.title, names: landmarkNames(scheme), builtIn: true, ...(Object.keys(descriptions).length ? { descriptions } : {}) };
  });
  return builtIns.map((s) => ({ ...s, names: [...s.names], ...(s.descriptions ? { descriptions: { ...s.descriptions } } : {}) }));
}

export function landmarkSetsOf(store: ProjectStore): LandmarkSetInfo[] {
  return [...builtInLandmarkSets(), ...store.data.landmarkSets.map((s) => ({ id: s.id, title: s.title, names: [...s.names], builtIn: false }))];
}

export function imageEntryOf(store: ProjectStore, image: StoredImage): ImageEntry {
  const entry: ImageEntry = { id: image.id, name: image.name, path: image.path, format: image.format, width: image.width, height: image.height };
  if (image.dicom) entry.dicom = { ...image.dicom };
  if (image.warnings?.length) entry.warnings = [...image.warnings];
  const missing = store.missingReason(image);
  if (missing) {
    entry.missing = true;
    entry.missingReason = missing;
  }
  return entry;
}

export function templateOf(store: ProjectStore): TemplateState | null {
  const t = store.data.template;
  return t ? { imageId: t.imageId, setId: t.setId, names: [...t.names], points: Object.fromEntries(Object.entries(t.points).map(([k, p]) => [k, { ...p }])) } : null;
}

export function landmarksOf(entry: ProjectStore['data']['landmarks'][number]): ImageLandmarks {
  return { ...entry, points: entry.points.map((p) => ({ ...p })) };
}

/** Loss columns of loss.csv → the names the contract uses. */
const LOSS_NAMES: Record<string, string> = { l_pd: 'l_pd', l_mix: 'l_mix', l_rd: 'l_rd', l_ent: 'l_ent', loss: 'loss' };

/** Engine loss names (pd, mix, rd, ent, loss) → contract names (l_pd, …, loss), finite values only. */
export function contractLosses(losses: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(losses)) {
    if (value === undefined || !Number.isFinite(value)) continue;
    out[key === 'loss' || key.startsWith('l_') ? key : `l_${key}`] = value;
  }
  return out;
}

/** The last data row of loss.csv, read from the end of the file (runs can have 100k rows). */
export function lastLossRow(file: string): Record<string, number> | undefined {
  if (!existsSync(file)) return undefined;
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const head = Buffer.alloc(Math.min(size, 256));
    readSync(fd, head, 0, head.length, 0);
    const columns = head.toString('utf8').split('\n')[0].split(',');
    const tailLength = Math.min(size, 4096);
    const tail = Buffer.alloc(tailLength);
    readSync(fd, tail, 0, tailLength, size - tailLength);
    const lines = tail.toString('utf8').split('\n').filter(Boolean);
    const last = lines[lines.length - 1];
    if (!last || last.startsWith(columns[0] + ',') || lines.length < 1) return undefined;
    const cells = last.split(',');
    if (cells.length !== columns.length || !/^\d+$/.test(cells[0])) return undefined;
    const out: Record<string, number> = {};
    columns.forEach((c, i) => {
      if (LOSS_NAMES[c] && cells[i] !== '' && Number.isFinite(Number(cells[i]))) out[LOSS_NAMES[c]] = Number(cells[i]);
    });
    return out;
  } finally {
    closeSync(fd);
  }
}

export function runDirOf(store: ProjectStore, run: StoredRun): RunDir {
  return new RunDir(join(store.dir, ...run.dir.split('/')));
}

/**
 * The run a propagation or segmentation uses: the one asked for, else the active run, else the newest
 * with a checkpoint. `noModelYet` is the message when there is none.
 */
export function modelRunFor(store: ProjectStore, runId: string | undefined, noModelYet: string): StoredRun {
  const runs = store.data.runs;
  const withCheckpoint = (r: StoredRun) => runDirOf(store, r).latestCheckpointStep() !== undefined;
  if (runId) {
    const run = runs.find((r) => r.id === runId);
    if (!run) throw new NotFoundError(`no run '${runId}' in this project`);
    if (!withCheckpoint(run)) throw new PreconditionError(`run ${runId} has no checkpoint yet: train it (or let it reach its first checkpoint) first`);
    return run;
  }
  const active = runs.find((r) => r.id === store.data.activeRunId);
  if (active && withCheckpoint(active)) return active;
  const latest = [...runs].reverse().find(withCheckpoint);
  if (!latest) throw new PreconditionError(noModelYet);
  return latest;
}

function readInfo(run: RunDir): RunInfo | undefined {
  try {
    return run.exists() ? run.readInfo() : undefined;
  } catch {
    return undefined;
  }
}

export function runSummaryOf(session: Session, store: ProjectStore, run: StoredRun): RunSummary {
  const dir = runDirOf(store, run);
  const info = readInfo(dir);
  const live = session.training && session.training.store.dir === store.dir && session.training.runId === run.id ? session.training : undefined;
  let status: RunStatus;
  let error: string | undefined;
  if (live) status = 'running';
  else if (info) {
    status = info.status;
    error = info.error;
    if (status === 'running') {
      status = 'failed';
      error = 'interrupted: LD Studio stopped while this run was training; resume continues from its last checkpoint';
    }
  } else {
    status = 'failed';
    error = run.error ?? 'the run never started (its run.json is missing)';
  }
  const lastLosses = live?.lastLosses ?? lastLossRow(dir.lossCsv);
  // a run by time that stopped before it had timed its steps has no total yet (never the provisional one)
  const stored = info?.settings as Partial<Pick<TrainConfig, 'steps' | 'minutes' | 'budget'>> | undefined;
  const recordedTotal = stored ? (stepsProvisional(stored) ? 0 : (stored.steps ?? run.settings.steps)) : run.settings.minutes !== undefined ? 0 : run.settings.steps;
  const summary: RunSummary = {
    id: run.id,
    dir: run.dir,
    engine: run.engine,
    backend: info?.backend ?? run.backend,
    status,
    step: live ? live.step : (info?.completedSteps ?? 0),
    totalSteps: live ? live.totalSteps : recordedTotal,
    settings: { ...run.settings },
    startedAt: run.createdAt,
    hasCheckpoint: dir.latestCheckpointStep() !== undefined,
  };
  if (error) summary.error = error;
  if (lastLosses && Object.keys(lastLosses).length) summary.lastLosses = lastLosses;
  return summary;
}

export function snapshotOf(session: Session, store: ProjectStore): ProjectSnapshot {
  const d = store.data;
  return {
    dir: store.dir,
    name: d.name,
    version: PROJECT_FORMAT_VERSION,
    images: d.images.map((im) => imageEntryOf(store, im)),
    landmarkSets: landmarkSetsOf(store),
    template: templateOf(store),
    runs: d.runs.map((r) => runSummaryOf(session, store, r)),
    activeRunId: d.activeRunId,
    landmarks: d.landmarks.map(landmarksOf),
    savedAt: d.savedAt,
  };
}
