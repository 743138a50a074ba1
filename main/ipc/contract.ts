/**
 * Request schemas, one per channel of `IpcChannels` (common/api.ts). The `satisfies` clause makes the
 * compiler refuse a channel without a schema, or a schema whose output differs from the contract type.
 * Schemas are strict: unknown keys are validation errors, not silently dropped.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { Channel, RequestOf } from '../../common/api';

/** A channel without a payload accepts nothing, `null` or `{}` (what HTTP clients tend to send). */
const noPayload = z
  .union([z.undefined(), z.null(), z.strictObject({})])
  .transform((): void => undefined);

/**
 * A file-system path from the renderer: non-empty, bounded, no NUL bytes, absolute (a leading `~`
 * means the home folder, as people type it in browser mode's path fields). A relative path would
 * depend on the main process's working folder, which the user cannot see.
 */
const fsPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((s) => !s.includes('\0'), 'a path cannot contain NUL characters')
  .transform((s) => (s === '~' ? homedir() : /^~[\\/]/.test(s) ? join(homedir(), s.slice(2)) : s))
  .refine((s) => isAbsolute(s), 'give an absolute path (e.g. /home/me/images or C:\\Images)');
/** A project-side id (image, run, landmark set). */
const id = z.string().min(1).max(256);
/** Chosen by the client to match `job:progress` events and `job:cancel` to a request. */
const jobId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'a job id is 1–128 characters of [A-Za-z0-9_.:-]');
const landmarkName = z.string().min(1).max(200);
// z.number() refuses NaN and ±Infinity (zod 4)
const xy = z.strictObject({ x: z.number(), y: z.number() });
const backendName = z.enum(['tensorflow', 'webgpu', 'wasm', 'cpu']);

const trainSettings = z.strictObject({
  stage: z.enum(['1', '2', 'both']),
  steps: z.number().int().min(1).max(10_000_000),
  size: z
    .number()
    .int()
    .min(32)
    .max(2048)
    .refine((n) => n % 16 === 0, 'size must be a multiple of 16'),
  batch: z.number().int().min(1).max(256),
  lr: z.number().gt(0).max(1),
  lrHalveEvery: z.number().int().min(1),
  clusters: z.number().int().min(2).max(256),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  checkpointEvery: z.number().int().min(1),
  centreSensitive: z.boolean(),
  shapePrior: fsPath.optional(),
  initFromRunId: id.optional(),
  preset: z.enum(['landmarks']).optional(),
  // train by time: more than nothing, at most a week
  minutes: z.number().gt(0, 'minutes must be more than 0').max(7 * 24 * 60, 'at most a week (10080 minutes)').optional(),
});

/** A mask as run lengths; the sizes and the sum of the runs are checked against the image by the handler. */
const maskRle = z.strictObject({
  width: z.number().int('width is a whole number of pixels').min(1, 'width must be at least 1').max(65_536),
  height: z.number().int('height is a whole number of pixels').min(1, 'height must be at least 1').max(65_536),
  runs: z
    .array(z.number().int('a run length is a whole number of pixels').min(0, 'a run length cannot be negative'))
    .min(1, 'a mask needs at least one run')
    .max(100_000_000),
});
/** A code triplet (CodeValue up to 64 characters: Long Code Value). */
const codedConcept = z.strictObject({
  scheme: z.string().trim().min(1, 'give the coding scheme, e.g. SCT').max(16),
  value: z.string().trim().min(1, 'give the code value').max(64),
  meaning: z.string().trim().min(1, 'give the code meaning').max(64),
});

export const requestSchemas = {
  'app:ping': z.strictObject({ nonce: z.string().min(1).max(1024) }),
  'engine:info': noPayload,

  'project:create': z.strictObject({ dir: fsPath, name: z.string().max(200).optional() }),
  'project:open': z.strictObject({ dir: fsPath }),
  'project:openSample': noPayload,
  'project:get': noPayload,
  'project:recent': noPayload,
  'project:close': noPayload,
  'fs:list': z.strictObject({ dir: fsPath.optional() }),
  'dialog:open': z.strictObject({
    kind: z.enum(['folder', 'files', 'save']),
    title: z.string().max(200).optional(),
    defaultPath: fsPath.optional(),
  }),

  'images:import': z.strictObject({ jobId, paths: z.array(fsPath).min(1).max(100_000) }),
  'images:thumbnail': z.strictObject({ imageId: id, size: z.number().int().min(16).max(1024).optional() }),
  'images:remove': z.strictObject({ imageIds: z.array(id).min(1).max(100_000) }),

  'train:options': noPayload,
  'train:start': z.strictObject({ engine: z.enum(['torch', 'tfjs']), backend: backendName.optional(), settings: trainSettings }),
  'train:cancel': z.strictObject({ runId: id }),
  'train:resume': z.strictObject({ runId: id, steps: z.number().int().min(1).max(10_000_000).optional() }),
  'train:losses': z.strictObject({ runId: id }),
  'train:clusterMap': z.strictObject({ runId: id, imageId: id }),
  'train:setActive': z.strictObject({ runId: id }),
  'train:addRun': z.strictObject({ dir: fsPath }),

  'landmarks:setTemplate': z.strictObject({ imageId: id, setId: id.optional(), names: z.array(landmarkName).min(1).max(1000).optional() }),
  'landmarks:setTemplatePoint': z.strictObject({ name: landmarkName, point: xy.nullable() }),
  'landmarks:propagate': z.strictObject({ jobId, runId: id.optional(), imageIds: z.array(id).min(1).max(100_000).optional() }),
  'landmarks:setPoint': z.strictObject({ imageId: id, name: landmarkName, point: xy, status: z.enum(['template', 'predicted', 'corrected']).optional() }),
  'landmarks:accept': z.strictObject({ imageId: id, accepted: z.boolean() }),
  'landmarks:calibration': z.strictObject({ tolerancePx: z.number().positive().max(1e6).optional() }),

  'export:landmarks': z.strictObject({ format: z.enum(['mrk.json', 'csv', 'wide-csv', 'isbi-txt', 'coco']), dir: fsPath, overwrite: z.boolean().optional() }),

  'segment:run': z.strictObject({
    jobId,
    runId: id.optional(),
    imageIds: z.array(id).min(1).max(100_000).optional(),
    threshold: z.number().min(0).max(1).optional(),
    method: z.enum(['attention', 'cos']).optional(),
  }),
  'segment:learn': z.strictObject({
    jobId,
    runId: id.optional(),
    imageIds: z.array(id).min(1).max(100_000).optional(),
    steps: z.number().int().min(1).max(100_000).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  }),
  'segment:list': noPayload,
  'segment:saveMask': z.strictObject({ imageId: id, mask: maskRle }),
  'segment:accept': z.strictObject({ imageId: id, accepted: z.boolean() }),
  'segment:codes': z.strictObject({ query: z.string().max(200), limit: z.number().int().min(1).max(500).optional() }),
  'segment:importSeg': z.strictObject({ path: fsPath, segmentNumber: z.number().int().min(1).max(65_535).optional() }),
  'export:seg': z.strictObject({
    file: fsPath,
    label: z.string().trim().min(1, 'give the segment a label').max(64, 'a segment label is at most 64 characters (Segment Label is LO)'),
    category: codedConcept,
    type: codedConcept,
    fractional: z.boolean().optional(),
    imageIds: z.array(id).min(1).max(100_000).optional(),
    overwrite: z.boolean().optional(),
  }),
  'export:sr': z.strictObject({ dir: fsPath, overwrite: z.boolean().optional() }),
  'export:masks': z.strictObject({
    dir: fsPath,
    format: z.enum(['png', 'coco']),
    imageIds: z.array(id).min(1).max(100_000).optional(),
    label: z.string().min(1).max(200).optional(),
    overwrite: z.boolean().optional(),
  }),

  'job:cancel': z.strictObject({ jobId }),
} satisfies { [C in Channel]: z.ZodType<RequestOf<C>, unknown> };

export const channels = Object.keys(requestSchemas) as Channel[];
