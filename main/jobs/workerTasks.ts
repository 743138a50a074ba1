/**
 * Everything that runs in the worker thread, as one typed table: each task takes a request, streams
 * events, honours a cancel token and returns a result. The worker entry (trainWorker.ts) and the
 * in-thread fallback of runInWorker.ts both run these functions, so a task means the same wherever it runs.
 * Buffers named by `transfer` move to the receiving thread instead of being copied.
 */
import { runPropagation, type PropagationJobOptions, type PropagationJobResult } from './landmarkPropagation';
import { segmentImages, type SegmentedImage, type SegmentImagesOptions, type SegmentModelInfo } from './segmentImages';
import { loadTrainingImages, type LoadedImages, type TrainingImageOptions } from './trainingImages';
import { runTraining, type TrainEvent, type TrainRequest, type TrainResult } from './trainRun';

export interface CancelToken {
  readonly cancelled: boolean;
}

export type Emit<E> = (event: E, transfer?: ArrayBuffer[]) => void;

export interface WorkerTask<Req, Ev, Res> {
  run(request: Req, emit: Emit<Ev>, cancel: CancelToken): Promise<Res>;
  /** Buffers of the result to hand over rather than copy. */
  transfer?(result: Res): ArrayBuffer[];
}

const task = <Req, Ev, Res>(t: WorkerTask<Req, Ev, Res>) => t;

export interface ImagesLoading {
  done: number;
  total: number;
  file: string;
}

export type PropagationProgress = Parameters<NonNullable<PropagationJobOptions['onProgress']>>[0];
export type PropagationRequest = Omit<PropagationJobOptions, 'onProgress' | 'cancel'>;

export const workerTasks = {
  /** A pretraining run (tfjs engine): steps, checkpoints, losses. */
  train: task<TrainRequest, TrainEvent, TrainResult>({ run: (request, emit, cancel) => runTraining(request, (e) => emit(e), cancel) }),
  /** Training images read and prepared (for the PyTorch engine, whose caller must not decode radiographs on its loop). */
  prepare: task<{ dir: string; options: TrainingImageOptions }, ImagesLoading, LoadedImages>({
    run: ({ dir, options }, emit) => loadTrainingImages(dir, options, (done, total, file) => emit({ done, total, file })),
    transfer: (loaded) => [...new Set(loaded.images.map((im) => im.data.buffer as ArrayBuffer))],
  }),
  /** Landmark propagation: decoding, ONNX inference and the search are seconds of synchronous work per batch. */
  propagate: task<PropagationRequest, PropagationProgress, PropagationJobResult>({
    run: (request, emit, cancel) => runPropagation({ ...request, cancel, onProgress: (e) => emit(e) }),
  }),
  /** Segmentation, one image at a time; each mask (with its probability map) is an event. */
  segment: task<SegmentImagesOptions, SegmentedImage, SegmentModelInfo>({
    run: (request, emit, cancel) => segmentImages(request, (r) => emit(r, r.mask ? [r.mask.inside.buffer as ArrayBuffer, r.mask.probability.buffer as ArrayBuffer] : []), cancel),
  }),
};

export type WorkerTaskKind = keyof typeof workerTasks;
type TaskOf<K extends WorkerTaskKind> = (typeof workerTasks)[K];
export type TaskRequest<K extends WorkerTaskKind> = TaskOf<K> extends WorkerTask<infer R, unknown, unknown> ? R : never;
export type TaskEvent<K extends WorkerTaskKind> = TaskOf<K> extends WorkerTask<unknown, infer E, unknown> ? E : never;
export type TaskResult<K extends WorkerTaskKind> = TaskOf<K> extends WorkerTask<unknown, unknown, infer R> ? R : never;

/** What the worker is started with (workerData). */
export interface WorkerInput<K extends WorkerTaskKind = WorkerTaskKind> {
  task: K;
  request: TaskRequest<K>;
  /** Int32 flag the parent sets to 1 to cancel: awaits resolve as microtasks, so a message could wait until the task ends. */
  cancelFlag: SharedArrayBuffer;
}

/** What the worker posts: events while it runs, then one result or one error. */
export type WorkerMessage = { kind: 'event'; event: unknown } | { kind: 'result'; result: unknown } | { kind: 'error'; message: string; stack?: string };

export function cancelTokenOf(cancelFlag: SharedArrayBuffer): CancelToken {
  const flag = new Int32Array(cancelFlag);
  return {
    get cancelled() {
      return Atomics.load(flag, 0) === 1;
    },
  };
}
