/**
 * The training run as the session's job (main/ipc/train.ts on main/jobs/runJob.ts), with a stand-in
 * engine: no model is trained. The engine's events become throttled `train:progress` events, the run
 * is registered while it runs (a second start is refused), `train:cancel` and the session's end
 * cancel it through its token, and its end reaches the project and `train:state`.
 */
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrainSettings } from '../../common/api';
import { startTraining } from '../../main/jobs/startTraining';
import type { TrainJob } from '../../main/jobs/trainJob';
import type { TrainEvent, TrainResult } from '../../main/jobs/trainRun';
import { harness, waitFor, type Harness } from './harness';

vi.mock('../../main/jobs/startTraining', () => ({ startTraining: vi.fn() }));

const SETTINGS: TrainSettings = { stage: '1', steps: 10, size: 64, batch: 1, lr: 0.001, lrHalveEvery: 10, clusters: 8, seed: 0, checkpointEvery: 5, centreSensitive: false };
const LOSSES = { pd: 1, mix: 0.5, loss: 1.5 };

/** An engine that emits what the test says and ends when the test (or a cancel) says. */
function fakeEngine() {
  const events = new EventEmitter<{ event: [TrainEvent] }>();
  let settle!: { resolve(r: TrainResult): void; reject(e: Error): void };
  const result = new Promise<TrainResult>((resolve, reject) => (settle = { resolve, reject }));
  const ended = (status: TrainResult['status'], completedSteps: number): TrainResult => ({ status, runDir: '', completedSteps, engine: 'tfjs', backend: 'cpu', images: 1, seconds: 1 });
  let cancels = 0;
  const job: TrainJob = {
    events,
    cancel: () => {
      cancels++;
      settle.resolve(ended('cancelled', 3));
    },
    result,
  };
  vi.mocked(startTraining).mockResolvedValueOnce({ job, engine: 'tfjs', on: 'cpu', notes: [] });
  return {
    emit: (e: TrainEvent) => events.emit('event', e),
    step: (step: number, etaSeconds = 9) => events.emit('event', { type: 'progress', step, stage: 1, lr: 0.001, losses: LOSSES, seconds: 0.01, totalSteps: 10, imagesPerSecond: 500, etaSeconds }),
    complete: () => settle.resolve(ended('completed', 10)),
    fail: (message: string) => settle.reject(new Error(message)),
    get cancels() {
      return cancels;
    },
  };
}

describe('the training run as a job of the session', () => {
  let h: Harness;
  beforeEach(async () => {
    h = harness();
    await h.invoke('project:create', { dir: join(h.root, 'project') });
    const png = new PNG({ width: 8, height: 8, colorType: 0 });
    png.data.fill(128);
    const file = join(h.root, 'one.png');
    writeFileSync(file, PNG.sync.write(png, { colorType: 0 }));
    await h.invoke('images:import', { jobId: 'import', paths: [file] });
  });
  afterEach(async () => {
    await h.dispose();
    vi.mocked(startTraining).mockReset();
  });

  const progressOf = (runId: string) => h.eventsOf('train:progress').filter((p) => p.runId === runId);
  const settled = () => h.table.session.training?.settled ?? Promise.resolve();

  it('throttles the steps, keeps the last one before a checkpoint, and makes a completed run the active one', async () => {
    const engine = fakeEngine();
    const run = await h.invoke('train:start', { engine: 'tfjs', settings: SETTINGS });
    expect(run.status).toBe('running');
    expect(h.table.session.training).toMatchObject({ runId: run.id, step: 0, totalSteps: 10 });
    await expect(h.invoke('train:start', { engine: 'tfjs', settings: SETTINGS })).rejects.toThrow(/already in progress \(run-[\d-]+, step 0 of 10\)/);

    engine.emit({ type: 'loading', done: 1, total: 1, file: 'one.png' });
    engine.emit({ type: 'ready', images: 1, failures: [], startStep: 0 });
    for (let step = 1; step <= 4; step++) engine.step(step, 10 - step);
    expect(h.table.session.training).toMatchObject({ step: 4, lastLosses: { loss: 1.5 } });
    engine.emit({ type: 'checkpoint', step: 4, path: 'ckpt', reason: 'interval' });
    const seen = progressOf(run.id).map((p) => [p.phase, p.step, p.etaSeconds, p.message]);
    expect(seen).toEqual([
      ['loading', 0, undefined, 'reading images 1/1'],
      ['loading', 0, undefined, '1 images ready'],
      // steps 1–3 came within the interval: only the newest waited, and went out before the checkpoint
      ['training', 4, 6, undefined],
      ['checkpoint', 4, undefined, 'checkpoint at step 4 (interval)'],
    ]);

    engine.step(10, 0); // the last step is never held back
    expect(progressOf(run.id).at(-1)).toMatchObject({ phase: 'training', step: 10, totalSteps: 10, etaSeconds: 0 });
    engine.complete();
    await settled();
    expect(h.table.session.training).toBeNull();
    expect(h.eventsOf('train:state').at(-1)).toMatchObject({ id: run.id });
    expect((await h.invoke('project:get'))!.activeRunId).toBe(run.id);
  });

  it('train:cancel cancels through the token and answers once the run has ended', async () => {
    const engine = fakeEngine();
    const run = await h.invoke('train:start', { engine: 'tfjs', settings: SETTINGS });
    engine.step(1);
    await h.invoke('train:cancel', { runId: run.id });
    expect(engine.cancels).toBe(1);
    expect(h.table.session.training).toBeNull();
    expect((await h.invoke('project:get'))!.activeRunId).toBeNull();
    // a cancelled run is no longer registered: another may start
    fakeEngine();
    const next = await h.invoke('train:start', { engine: 'tfjs', settings: SETTINGS });
    expect(h.table.session.training?.runId).toBe(next.id);
  });

  it('a failed run: its error in the project (it never wrote run.json), train:state, one notice', async () => {
    const engine = fakeEngine();
    const run = await h.invoke('train:start', { engine: 'tfjs', settings: SETTINGS });
    engine.fail('training worker stopped unexpectedly (exit code 1)\nat somewhere');
    await settled();
    expect(h.table.session.training).toBeNull();
    const state = h.eventsOf('train:state').at(-1)!;
    expect(state).toMatchObject({ id: run.id, status: 'failed', error: 'training worker stopped unexpectedly (exit code 1)\nat somewhere' });
    expect(h.eventsOf('app:notice').filter((n) => n.level === 'error').map((n) => n.message)).toEqual([`training run ${run.id} failed: training worker stopped unexpectedly (exit code 1)`]);
  });

  it('the session’s end cancels a running run (it checkpoints) and waits for it', async () => {
    const engine = fakeEngine();
    await h.invoke('train:start', { engine: 'tfjs', settings: SETTINGS });
    await h.table.session.dispose();
    expect(engine.cancels).toBe(1);
    expect(h.table.session.training).toBeNull();
  });

  it('closing the project leaves the run going; its end is recorded when the project is open again', async () => {
    const engine = fakeEngine();
    const run = await h.invoke('train:start', { engine: 'tfjs', settings: SETTINGS });
    const dir = (await h.invoke('project:get'))!.dir;
    await h.invoke('project:close');
    expect(engine.cancels).toBe(0);
    await h.invoke('project:open', { dir });
    engine.complete();
    await waitFor(() => h.table.session.training === null, 2000, 'the run to end');
    await settled();
    expect((await h.invoke('project:get'))!.activeRunId).toBe(run.id);
  });
});
