/**
 * The project file `<project>/ld-project.json`: what a project holds, in a versioned, validated JSON
 * document. Paths of images are relative to the project folder (forward slashes, `../` allowed) so a
 * project can be moved or shared together with its images; absolute only where no relative path
 * exists (another drive on Windows).
 *
 *   { "$schema": "ld-studio/project-v1", "version": 1, "name": …, "images": […], "landmarkSets": […],
 *     "template": …, "runs": […], "activeRunId": …, "landmarks": […], "masks": […] }
 *
 * Reading refuses, with a message naming the file: text that is not JSON (e.g. cut short by a full
 * disk), a document that is not a project, a newer format version, and inconsistent references.
 */
import { z } from 'zod';
import { jsonSyntaxError } from '../io/jsonSyntax';

export const PROJECT_FILE_NAME = 'ld-project.json';
export const PROJECT_SCHEMA_ID = 'ld-studio/project-v1';
export const PROJECT_FORMAT_VERSION = 1;

const isoTime = z.string().min(1).max(64);
const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const xy = z.object({ x: finite, y: finite });

const vec3 = z.tuple([finite, finite, finite]);
const positive = z.number().positive().refine(Number.isFinite, 'expected a finite number');

/**
 * Pixel → patient (LPS, mm) mapping of a DICOM image, read from its header at import (main/project/
 * imageGeometry.ts), so exports need not read the file again. 'pixels' for a DICOM that gives no
 * spacing (its landmarks are written in pixels). Absent for PNG/JPEG/TIFF, which are always in
 * pixels, and for a DICOM imported before it was stored (added within version 1): export then reads
 * that file's header, never its pixels.
 */
const storedGeometry = z.union([
  z.literal('pixels'),
  z.object({
    /** ImagePositionPatient, or 0 without a Frame of Reference. */
    origin: vec3,
    /** [row spacing, column spacing] in mm, as PixelSpacing orders them. */
    spacing: z.tuple([positive, positive]),
    rowDirection: vec3,
    columnDirection: vec3,
  }),
]);

const storedImage = z.object({
  id: z.string().min(1),
  name: z.string(),
  path: z.string().min(1),
  format: z.enum(['dicom', 'png', 'jpeg', 'tiff']),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  dicom: z.object({ sopInstanceUid: z.string(), modality: z.string().optional(), photometric: z.string().optional() }).optional(),
  /** mm per pixel (row, column), when the file states it. */
  spacing: z.tuple([finite, finite]).optional(),
  geometry: storedGeometry.optional(),
  addedAt: isoTime,
  /** SHA-256 of the file and of its decoded pixels at import (main/io/contentHash.ts); absent before they were recorded. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  pixelSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** What import found doubtful about the image (a duplicate, an implausible decode); shown, never blocking. */
  warnings: z.array(z.string()).optional(),
});

const landmarkSet = z.object({
  id: z.string().min(1),
  title: z.string(),
  names: z.array(z.string().min(1)).min(1),
});

const trainSettings = z.object({
  stage: z.enum(['1', '2', 'both']),
  steps: z.number().int().positive(),
  size: z.number().int().positive(),
  batch: z.number().int().positive(),
  lr: z.number().positive(),
  lrHalveEvery: z.number().int().positive(),
  clusters: z.number().int().positive(),
  seed: z.number().int(),
  checkpointEvery: z.number().int().positive(),
  centreSensitive: z.boolean(),
  shapePrior: z.string().min(1).optional(),
  initFromRunId: z.string().min(1).optional(),
  /** Optional in version 1 files: the one-shot landmark recipe, and training by time (TrainSettings). */
  preset: z.enum(['landmarks']).optional(),
  minutes: z.number().positive().optional(),
});

const storedRun = z.object({
  id: z.string().min(1),
  /** Relative to the project folder: `runs/<id>`. The run's own record is `<dir>/run.json`. */
  dir: z.string().min(1),
  engine: z.enum(['torch', 'tfjs']),
  backend: z.string(),
  settings: trainSettings,
  createdAt: isoTime,
  /** Why the run failed before its run directory was written (e.g. no image could be read). */
  error: z.string().optional(),
});

const template = z.object({
  imageId: z.string().min(1),
  setId: z.string().min(1),
  names: z.array(z.string().min(1)).min(1),
  points: z.record(z.string(), xy),
});

const landmarkPoint = z.object({
  name: z.string().min(1),
  x: finite,
  y: finite,
  confidence: z.number().min(0).max(1).optional(),
  status: z.enum(['template', 'predicted', 'corrected']),
  /** A corrected point's prediction before the user moved it (optional in version 1 files). */
  prediction: z.object({ x: finite, y: finite, confidence: z.number().min(0).max(1).optional() }).optional(),
});

const imageLandmarks = z.object({
  imageId: z.string().min(1),
  points: z.array(landmarkPoint),
  accepted: z.boolean(),
  runId: z.string().optional(),
  updatedAt: isoTime,
});

/**
 * A segmentation mask of one image (optional in version 1 files: absent = no masks). The mask itself
 * is `<project>/<file>`, an 8-bit grey PNG (0 outside, 255 inside) at the image's original size; a
 * predicted (or imported fractional) mask also has its probability map `<project>/<probFile>`
 * (8-bit grey, probability × 255).
 */
const storedMask = z.object({
  imageId: z.string().min(1),
  source: z.enum(['predicted', 'corrected', 'imported']),
  /** The run that predicted it (kept when the user corrects a predicted mask). */
  runId: z.string().optional(),
  /** Probability threshold of a predicted mask. */
  threshold: z.number().min(0).max(1).optional(),
  /** How the probability was computed (predicted masks). */
  method: z.enum(['attention', 'cos']).optional(),
  accepted: z.boolean(),
  /** Fraction of the image inside the mask. */
  foreground: z.number().min(0).max(1),
  updatedAt: isoTime,
  /** Relative to the project folder, forward slashes: `masks/<imageId>.png`. */
  file: z.string().min(1),
  probFile: z.string().min(1).optional(),
});

export const projectFileSchema = z
  .object({
    $schema: z.literal(PROJECT_SCHEMA_ID),
    version: z.literal(PROJECT_FORMAT_VERSION),
    name: z.string(),
    createdAt: isoTime,
    savedAt: isoTime.nullable(),
    /** Image ids are `img-<n>`; n only grows, so an id is never reused after a removal. */
    nextImageNumber: z.number().int().positive(),
    images: z.array(storedImage),
    /** The user's own landmark sets (the built-in schemes are not stored). */
    landmarkSets: z.array(landmarkSet),
    template: template.nullable(),
    runs: z.array(storedRun),
    activeRunId: z.string().nullable(),
    landmarks: z.array(imageLandmarks),
    /** Added within version 1: files written before masks existed have none. */
    masks: z.array(storedMask).default([]),
  })
  .superRefine((p, ctx) => {
    const ids = new Set<string>();
    p.images.forEach((im, i) => {
      if (ids.has(im.id)) ctx.addIssue({ code: 'custom', path: ['images', i, 'id'], message: `image id '${im.id}' appears twice` });
      ids.add(im.id);
    });
    const runIds = new Set(p.runs.map((r) => r.id));
    if (p.runs.length !== runIds.size) ctx.addIssue({ code: 'custom', path: ['runs'], message: 'a run id appears twice' });
    if (p.activeRunId !== null && !runIds.has(p.activeRunId)) {
      ctx.addIssue({ code: 'custom', path: ['activeRunId'], message: `run '${p.activeRunId}' is not among the project's runs` });
    }
    if (p.template && !ids.has(p.template.imageId)) {
      ctx.addIssue({ code: 'custom', path: ['template', 'imageId'], message: `image '${p.template.imageId}' is not among the project's images` });
    }
    p.landmarks.forEach((l, i) => {
      if (!ids.has(l.imageId)) ctx.addIssue({ code: 'custom', path: ['landmarks', i, 'imageId'], message: `image '${l.imageId}' is not among the project's images` });
    });
    const masked = new Set<string>();
    p.masks.forEach((m, i) => {
      if (!ids.has(m.imageId)) ctx.addIssue({ code: 'custom', path: ['masks', i, 'imageId'], message: `image '${m.imageId}' is not among the project's images` });
      if (masked.has(m.imageId)) ctx.addIssue({ code: 'custom', path: ['masks', i, 'imageId'], message: `image '${m.imageId}' has two masks` });
      masked.add(m.imageId);
    });
  });

export type ProjectFile = z.infer<typeof projectFileSchema>;
export type StoredImage = ProjectFile['images'][number];
export type StoredRun = ProjectFile['runs'][number];
export type StoredMask = ProjectFile['masks'][number];
export type StoredGeometry = NonNullable<StoredImage['geometry']>;

export class ProjectFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ProjectFileError';
  }
}

export function emptyProjectFile(name: string, now = new Date().toISOString()): ProjectFile {
  return {
    $schema: PROJECT_SCHEMA_ID,
    version: PROJECT_FORMAT_VERSION,
    name,
    createdAt: now,
    savedAt: null,
    nextImageNumber: 1,
    images: [],
    landmarkSets: [],
    template: null,
    runs: [],
    activeRunId: null,
    landmarks: [],
    masks: [],
  };
}

/** Parse and validate the text of a project file; `file` names it in every error. */
export function parseProjectFile(text: string, file: string): ProjectFile {
  let json: unknown;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    json = JSON.parse(body);
  } catch {
    // never V8's message: it quotes the text, and the "project file" may be a link to /etc/passwd
    const cut = body.trim() === '' ? 'the file is empty' : jsonSyntaxError(body);
    throw new ProjectFileError(file, `${cut}: the project file is damaged (was the disk full, or the copy cut short?); restore it from a backup or create a new project and import the images again`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProjectFileError(file, 'not an LD Studio project file (expected a JSON object)');
  }
  const doc = json as Record<string, unknown>;
  const schema = doc.$schema;
  if (typeof schema === 'string' && schema !== PROJECT_SCHEMA_ID && !schema.startsWith('ld-studio/project-')) {
    throw new ProjectFileError(file, `not an LD Studio project file ($schema is '${schema.slice(0, 100)}', expected '${PROJECT_SCHEMA_ID}')`);
  }
  const version = doc.version;
  if (typeof version === 'number' && version > PROJECT_FORMAT_VERSION) {
    throw new ProjectFileError(
      file,
      `written by a newer LD Studio (project format version ${version}; this version reads up to ${PROJECT_FORMAT_VERSION}): update LD Studio to open it`,
    );
  }
  const parsed = projectFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((issue) => {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more problems)` : '';
    throw new ProjectFileError(file, `not a valid LD Studio project file: ${issues.join('; ')}${more}`);
  }
  return parsed.data;
}

export function serializeProjectFile(p: ProjectFile): string {
  return JSON.stringify(p, null, 2) + '\n';
}
