import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, test } from 'vitest';
import type { TrainConfig } from '../../main/engine/trainer/config';
import { startTrainingJob } from '../../main/jobs/trainJob';
import type { TrainEvent } from '../../main/jobs/trainRun';
import { RunDir } from '../../main/jobs/runDir';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';

const config: TrainConfig = {
  stage: '2', steps: 500, stage1Steps: 0, size: 32, batch: 1, channels: 1, clusters: 8, embedDim: 32,
  lr: 1e-3, lrHalveEvery: 10_000, seed: 3, checkpointEvery: 1_000, filterGrad: 'im2col',
};

describe.skipIf(!hasSharedData)(`training job in a worker thread${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  test('streams progress, keeps the caller responsive, and cancels with a checkpoint', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'ld-job-'));
    const job = startTrainingJob({ imagesDir: dataPath('landmarks/hand'), runDir, config, backend: 'wasm', backendReason: 'test', resume: false });
    const events: TrainEvent[] = [];
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    job.events.on('event', (e) => {
      events.push(e);
      if (e.type === 'progress' && e.step === 5) job.cancel();
    });
    const result = await job.result;
    delay.disable();

    expect(result.status).toBe('cancelled');
    expect(result.completedSteps).toBeGreaterThanOrEqual(5);
    expect(result.completedSteps).toBeLessThan(500);
    // the training ran in another thread: this one never stalled for long
    expect(delay.max / 1e6).toBeLessThan(250);
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress[0]).toMatchObject({ step: 1, totalSteps: 500, stage: 2 });
    for (const p of progress) {
      expect(Number.isFinite(p.losses.loss) && Number.isFinite(p.losses.rd!) && p.imagesPerSecond > 0 && p.etaSeconds >= 0).toBe(true);
    }
    expect(events.some((e) => e.type === 'loading')).toBe(true);
    const cp = events.find((e) => e.type === 'checkpoint');
    expect(cp).toMatchObject({ step: result.completedSteps, reason: 'cancel' });
    const run = new RunDir(runDir);
    expect(run.latestCheckpointStep()).toBe(result.completedSteps);
    expect(run.readInfo()).toMatchObject({ status: 'cancelled', completedSteps: result.completedSteps });
    expect(run.readLoss()).toHaveLength(result.completedSteps);
  });

  test('a failure inside the worker surfaces as an error naming the cause', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'ld-job-'));
    const job = startTrainingJob({ imagesDir: dataPath('landmarks/hand'), runDir, config: { ...config, steps: 1 }, backend: 'wasm', backendReason: 'test', resume: true });
    await expect(job.result).rejects.toThrow(/no checkpoint to resume from/);
  });
});
