/**
 * Handlers for the `landmarks:` domain: the template (image, landmark set, placed points), one-shot
 * propagation to the other images (a job wrapping main/jobs/landmarkPropagation.ts, with the feature
 * cache under `<project>/cache/features`), and review (move a point, accept an image).
 *
 * A propagation replaces the predicted points of the images it covers and keeps the points the user
 * corrected. Every accepted image serves as a template too (its points vote with the template's,
 * extraTemplates.ts) and is not propagated to again. A correction is written to the project file at once.
 */
import { join } from 'node:path';
import type { ImageLandmarks, LandmarkCalibration, LandmarkPoint, TemplateState, XY } from '../../common/api';
import { calibrate, defaultTolerancePx, expectedOffRateBelow, type ReviewedPoint } from '../engine/landmarks/calibration';
import { BUILTIN_SCHEME_IDS } from '../io/landmarks';
import { checkLandmarkNames } from '../io/landmarks/table';
import { runInWorker } from '../jobs/runInWorker';
import { runJob } from '../jobs/runJob';
import type { ProjectFile, StoredImage } from '../project/projectFile';
import type { ProjectStore } from '../project/projectStore';
import { IpcError } from './errors';
import type { Session } from './session';
import { builtInLandmarkSets, landmarksOf, modelRunFor, runDirOf, templateOf } from './snapshot';
import type { DomainHandlers } from './types';
import { NotFoundError, PreconditionError } from '../../common/errors';

type StoredLandmarks = ProjectFile['landmarks'][number];

/** A point must lie on the image (pixel-centre coordinates: −0.5 … size − 0.5). */
function checkOnImage(image: StoredImage, p: XY, what: string): void {
  if (p.x < -0.5 || p.y < -0.5 || p.x > image.width - 0.5 || p.y > image.height - 0.5) {
    throw new IpcError('validation', `${what}: (${p.x}, ${p.y}) lies outside the image ${image.name} (${image.width}×${image.height} pixels)`);
  }
}

function requireTemplate(store: ProjectStore): NonNullable<ProjectFile['template']> {
  const t = store.data.template;
  if (!t) throw new PreconditionError('no template yet: choose the template image and its landmark set first');
  return t;
}

/** The landmark set a template request names, as names (a custom set is created or updated). */
function resolveSet(store: ProjectStore, setId: string | undefined, names: string[] | undefined): { setId: string; names: string[] } {
  const builtIn = setId ? builtInLandmarkSets().find((s) => s.id === setId) : undefined;
  if (names) {
    try {
      checkLandmarkNames(names);
    } catch (err) {
      throw new IpcError('validation', `landmark names: ${(err as Error).message}`);
    }
    if (builtIn) throw new IpcError('validation', `'${setId}' is a built-in landmark set; its names cannot change (leave out setId to define your own set)`);
    const id = setId ?? nextCustomSetId(store);
    store.change('landmark set defined', (d) => {
      const existing = d.landmarkSets.find((s) => s.id === id);
      if (existing) existing.names = [...names];
      else d.landmarkSets.push({ id, title: `${names.length} landmarks`, names: [...names] });
    });
    return { setId: id, names: [...names] };
  }
  if (builtIn) return { setId: builtIn.id, names: builtIn.names };
  const custom = setId ? store.data.landmarkSets.find((s) => s.id === setId) : undefined;
  if (custom) return { setId: custom.id, names: [...custom.names] };
  if (setId) {
    const known = [...BUILTIN_SCHEME_IDS, ...store.data.landmarkSets.map((s) => s.id)].join(', ');
    throw new NotFoundError(`no landmark set '${setId}' (known: ${known}); give 'names' to define your own`);
  }
  const current = store.data.template;
  if (current) return { setId: current.setId, names: [...current.names] };
  throw new IpcError('validation', "choose a landmark set: give 'setId' (a built-in or your own set) or 'names' (a new set)");
}

function nextCustomSetId(store: ProjectStore): string {
  for (let i = 1; ; i++) if (!store.data.landmarkSets.some((s) => s.id === `custom-${i}`)) return `custom-${i}`;
}

function entryFor(d: ProjectFile, imageId: string): StoredLandmarks {
  let entry = d.landmarks.find((l) => l.imageId === imageId);
  if (!entry) {
    entry = { imageId, points: [], accepted: false, updatedAt: new Date().toISOString() };
    d.landmarks.push(entry);
  }
  return entry;
}


export async function propagateLandmarks(session: Session, jobId: string, runId: string | undefined, imageIds: string[] | undefined) {
  const store = session.requireProject();
  const template = requireTemplate(store);
  if (!template.names.some((n) => template.points[n])) throw new PreconditionError('the template has no placed landmarks: place at least one point on the template image');
  const run = modelRunFor(store, runId, 'no trained model yet: train a run (Train) before propagating landmarks');
  const templateImage = store.image(template.imageId);
  const templateMissing = store.missingReason(templateImage);
  if (templateMissing) throw new Error(`template image ${templateImage.name}: ${templateMissing}`);
  // every accepted (reviewed) image is a template too, and is left as the user accepted it
  const accepted = acceptedTemplates(store, template);
  const acceptedIds = new Set(accepted.map((a) => a.imageId));
  const targets = (imageIds ?? store.data.images.filter((im) => im.id !== template.imageId && !acceptedIds.has(im.id)).map((im) => im.id)).map((id) => store.image(id));
  const failed: Array<{ path: string; reason: string }> = [];
  const present = targets.filter((im) => {
    const missing = store.missingReason(im);
    if (missing) failed.push({ path: store.imagePath(im), reason: missing });
    return !missing;
  });
  return runJob(session.jobHost(jobId, 'propagate'), async (job) => {
    job.total = present.length;
    job.progress(0, 'loading the model and the template');
    const byId = new Map(present.map((im) => [im.id, im]));
    const result = await runInWorker(
      'propagate',
      {
        model: runDirOf(store, run).dir,
        templateImage: store.imagePath(templateImage),
        landmarks: [...template.names],
        templatePoints: template.names.map((n) => template.points[n] ?? null),
        images: present.map((im) => ({ path: store.imagePath(im), name: im.id })),
        extraTemplates: accepted.map((a) => ({ image: a.path, points: a.points })),
        cacheDir: join(store.dir, 'cache', 'features'),
      },
      {
        cancel: job.token,
        onEvent: (e) => {
          job.total = e.total; // two passes with pseudo-templates
          job.progress(e.done, byId.get(e.image)?.name ?? e.image);
        },
      },
    );
    for (const f of result.failures) failed.push({ path: f.image, reason: f.error });
    const now = new Date().toISOString();
    const updated: ImageLandmarks[] = [];
    if (!store.isClosed) {
      store.change('landmarks propagated', (d) => {
        for (const image of result.table.images) {
          const entry = entryFor(d, image.image);
          const corrected = new Map(entry.points.filter((p) => p.status === 'corrected').map((p) => [p.name, p]));
          const points: LandmarkPoint[] = [];
          template.names.forEach((name, i) => {
            const kept = corrected.get(name);
            if (kept) points.push(kept);
            else {
              const p = image.points[i];
              if (p) points.push({ name, x: p.x, y: p.y, confidence: Math.max(0, Math.min(1, p.confidence)), status: 'predicted' });
            }
          });
          entry.points = points;
          entry.runId = run.id;
          entry.updatedAt = now;
          updated.push(landmarksOf(entry));
        }
      });
    }
    return { images: updated.length, failed, seconds: job.seconds, landmarks: updated, templates: 1 + accepted.length };
  }, store);
}

/**
 * The accepted images that can serve as templates: present on disk, other than the template image,
 * with points of the template's landmarks (those it lacks are left out of its vote).
 */
function acceptedTemplates(store: ProjectStore, template: NonNullable<ProjectFile['template']>): Array<{ imageId: string; path: string; points: Array<XY | null> }> {
  return store.data.landmarks.flatMap((entry) => {
    if (!entry.accepted || entry.imageId === template.imageId) return [];
    const image = store.data.images.find((im) => im.id === entry.imageId);
    if (!image || store.missingReason(image)) return [];
    const points = template.names.map((n) => {
      const p = entry.points.find((q) => q.name === n);
      return p ? { x: p.x, y: p.y } : null;
    });
    return points.some(Boolean) ? [{ imageId: image.id, path: store.imagePath(image), points }] : [];
  });
}

function predictionOf(p: LandmarkPoint): NonNullable<LandmarkPoint['prediction']> {
  return p.confidence === undefined ? { x: p.x, y: p.y } : { x: p.x, y: p.y, confidence: p.confidence };
}

/**
 * The confidence calibration of this project (engine/landmarks/calibration.ts): every point of an
 * accepted image that was predicted with a score pairs that score with how far the user moved it.
 */
function calibrationOf(store: ProjectStore, tolerancePx: number | undefined): LandmarkCalibration {
  const template = store.data.template?.imageId;
  const tolerance = tolerancePx ?? defaultTolerancePx(store.data.images.map((im) => im.height));
  const reviewed: ReviewedPoint[] = [];
  const open: number[] = [];
  for (const l of store.data.landmarks) {
    if (l.imageId === template) continue;
    for (const p of l.points) {
      if (l.accepted) {
        const predicted = p.status === 'predicted' ? p : p.prediction;
        if (predicted?.confidence !== undefined) reviewed.push({ confidence: predicted.confidence, error: Math.hypot(p.x - predicted.x, p.y - predicted.y) });
      } else if (p.status === 'predicted' && p.confidence !== undefined) open.push(p.confidence);
    }
  }
  const fit = calibrate(reviewed, tolerance);
  const expected = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((threshold) => {
    const e = expectedOffRateBelow(fit, open, threshold);
    return { threshold, count: open.filter((c) => c < threshold).length, offRate: e ? e.rate : null };
  });
  return { ...fit, expected };
}

export const landmarksHandlers: DomainHandlers<'landmarks:setTemplate' | 'landmarks:setTemplatePoint' | 'landmarks:propagate' | 'landmarks:setPoint' | 'landmarks:accept' | 'landmarks:calibration'> = {
  'landmarks:setTemplate': async ({ imageId, setId, names }, { session }) => {
    const store = session.requireProject();
    store.image(imageId);
    const set = resolveSet(store, setId, names);
    store.change('template chosen', (d) => {
      const previous = d.template;
      const points: Record<string, XY> = {};
      // moving to another image starts over; another set on the same image keeps the points it shares
      if (previous && previous.imageId === imageId) for (const n of set.names) if (previous.points[n]) points[n] = { ...previous.points[n] };
      d.template = { imageId, setId: set.setId, names: set.names, points };
    });
    return templateOf(store) as TemplateState;
  },

  'landmarks:setTemplatePoint': async ({ name, point }, { session }) => {
    const store = session.requireProject();
    const template = requireTemplate(store);
    if (!template.names.includes(name)) throw new IpcError('validation', `landmark '${name}' is not in the template's set (${template.setId})`);
    if (point) checkOnImage(store.image(template.imageId), point, `landmark '${name}'`);
    store.change('template point placed', (d) => {
      if (point) d.template!.points[name] = { x: point.x, y: point.y };
      else delete d.template!.points[name];
    });
    return templateOf(store) as TemplateState;
  },

  'landmarks:propagate': async ({ jobId, runId, imageIds }, { session }) => propagateLandmarks(session, jobId, runId, imageIds),

  'landmarks:setPoint': async ({ imageId, name, point, status }, { session }) => {
    const store = session.requireProject();
    const image = store.image(imageId);
    const existing = store.data.landmarks.find((l) => l.imageId === imageId);
    const known = store.data.template?.names.includes(name) || existing?.points.some((p) => p.name === name);
    if (!known) throw new IpcError('validation', `landmark '${name}' is not in the template's set${store.data.template ? ` (${store.data.template.setId})` : ' (choose a template first)'}`);
    checkOnImage(image, point, `landmark '${name}'`);
    const entry = store.change('landmark corrected', (d) => {
      const e = entryFor(d, imageId);
      const at = e.points.findIndex((p) => p.name === name);
      const next: LandmarkPoint = { name, x: point.x, y: point.y, status: status ?? 'corrected' };
      const was = at >= 0 ? e.points[at] : undefined;
      // the first correction keeps the prediction: undo gives its confidence back, calibration learns from it
      const prediction = was?.prediction ?? (was?.status === 'predicted' ? predictionOf(was) : undefined);
      if (next.status === 'corrected' && prediction) next.prediction = prediction;
      if (next.status === 'predicted') {
        const confidence = was?.status === 'predicted' ? was.confidence : prediction?.confidence;
        if (confidence !== undefined) next.confidence = confidence;
      }
      if (at >= 0) e.points[at] = next;
      else {
        // keep the set's order
        const order = d.template?.names ?? [];
        const index = order.indexOf(name);
        const before = e.points.findIndex((p) => order.indexOf(p.name) > index);
        if (index >= 0 && before >= 0) e.points.splice(before, 0, next);
        else e.points.push(next);
      }
      e.updatedAt = new Date().toISOString();
      return e;
    });
    store.flush(); // a correction is on disk before the call returns
    return landmarksOf(entry);
  },

  'landmarks:calibration': async ({ tolerancePx }, { session }) => calibrationOf(session.requireProject(), tolerancePx),

  'landmarks:accept': async ({ imageId, accepted }, { session }) => {
    const store = session.requireProject();
    store.image(imageId);
    const entry = store.change(accepted ? 'image accepted' : 'image acceptance withdrawn', (d) => {
      const e = entryFor(d, imageId);
      e.accepted = accepted;
      e.updatedAt = new Date().toISOString();
      return e;
    });
    store.flush();
    return landmarksOf(entry);
  },
};
