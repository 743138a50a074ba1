import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../main/engine/backends';
import type { PreparedImage } from '../../main/engine/data';
import type { TrainConfig } from '../../main/engine/trainer/config';
import { tensorMemory, Trainer, type StepReport } from '../../main/engine/trainer/trainer';
import { loadTrainingImages } from '../../main/jobs/trainingImages';
import { RunDir } from '../../main/jobs/runDir';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';

const tiny: TrainConfig = {
  stage: '2', steps: 40, stage1Steps: 0, size: 32, batch: 1, channels: 1, clusters: 8, embedDim: 32,
  lr: 1e-3, lrHalveEvery: 10_000, seed: 7, checkpointEvery: 1_000, filterGrad: 'im2col',
};

async function train(trainer: Trainer, until?: number): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  const cancel = { cancelled: false };
  await trainer.run({
    onStep: (r) => {
      reports.push(r);
      if (until !== undefined && r.step >= until) cancel.cancelled = true;
    },
    onCheckpoint: () => {},
  }, cancel);
  return reports;
}

describe.skipIf(!hasSharedData)(`training on the real hand radiographs${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let images: PreparedImage[];
  beforeAll(async () => {
    await activateBackend('wasm');
    ({ images } = await loadTrainingImages(dataPath('landmarks/hand'), { cropSize: 32, channels: 1 }));
  });

  test('the stage-2 loss falls over a short run', async () => {
    const trainer = new Trainer(tiny, images);
    const reports = await train(trainer);
    trainer.dispose();
    const total = reports.map((r) => r.losses.loss);
    expect(total.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(total.slice(0, 8));
    const last = mean(total.slice(-8));
    expect(last).toBeLessThan(0.8 * first);
    // region discrimination is what stage 2 adds: it must fall too
    expect(mean(reports.slice(-8).map((r) => r.losses.rd!))).toBeLessThan(mean(reports.slice(0, 8).map((r) => r.losses.rd!)));
  });

  test('no tensor is leaked: memory is identical after every step', async () => {
    const trainer = new Trainer({ ...tiny, steps: 60 }, images);
    const samples: Array<{ tensors: number; bytes: number }> = [];
    await trainer.run({ onStep: () => void samples.push(tensorMemory()), onCheckpoint: () => {} });
    trainer.dispose();
    // step 1 creates Adam's moments; from then on every step must end with exactly the same tensors
    for (const s of samples.slice(1)) expect(s).toEqual(samples[1]);
  });

  test('a checkpoint written to disk resumes bit for bit, across the stage-1 → stage-2 switch', async () => {
    const config: TrainConfig = { ...tiny, stage: 'both', steps: 6, stage1Steps: 3 };
    const straight = new Trainer(config, images);
    const expected = await train(straight);
    straight.dispose();

    const dir = new RunDir(mkdtempSync(join(tmpdir(), 'ld-resume-')));
    dir.create();
    const first = new Trainer(config, images);
    await train(first, 3); // stops after step 3, the last stage-1 step
    dir.writeCheckpoint(await first.checkpoint(), 'test');
    first.dispose();
    const resumed = new Trainer(config, images, dir.readCheckpoint(3));
    const rest = await train(resumed);
    resumed.dispose();

    expect(rest.map((r) => r.step)).toEqual([4, 5, 6]);
    expect(rest.map((r) => r.losses)).toEqual(expected.slice(3).map((r) => r.losses));
    expect(expected.slice(0, 3).every((r) => r.stage === 1 && r.losses.rd === undefined)).toBe(true);
    expect(rest.every((r) => r.stage === 2 && Number.isFinite(r.losses.rd))).toBe(true);
  });
});
