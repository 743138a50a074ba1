/**
 * Everything that picks a run's checkpoint, not only resume, passes over a newest one that was cut
 * short (issue 16): running the trained model from a run folder (resolveModel: segment, embed, the
 * app), `pretrain --resume`'s "already has N steps" check, and --init-from.
 */
import { mkdirSync, mkdtempSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planPretrain } from '../../main/cli/pretrainArgs';
import { resolveModel } from '../../main/jobs/modelSource';
import { RunDir } from '../../main/jobs/runDir';

const root = mkdtempSync(join(tmpdir(), 'ld-checkpoint-choice-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function runWith(steps: number[]): RunDir {
  const run = new RunDir(join(root, `run${++n}`));
  run.create();
  for (const step of steps) {
    const tensors = new Map([['a', { shape: [2], data: new Float32Array([1, step]) }]]);
    run.writeCheckpoint({ step, stage: 1, rng: [1, 2, 3, 4], adamStep: step, tensors }, 'test');
  }
  return run;
}

describe('RunDir.newestWholeCheckpoint', () => {
  it('the newest whole one and the cut ones passed over; nothing when there is none', () => {
    const run = runWith([1, 2, 3]);
    truncateSync(run.checkpointPath(3), 10);
    const choice = run.newestWholeCheckpoint();
    expect(choice).toMatchObject({ step: 2, path: run.checkpointPath(2) });
    expect(choice.skipped).toEqual([{ file: run.checkpointPath(3), reason: expect.stringMatching(/cut short/) }]);
    expect(runWith([]).newestWholeCheckpoint()).toEqual({ skipped: [] });
  });
});

describe('resolveModel from a run folder', () => {
  it('uses the newest whole checkpoint (here its cached ONNX export) and notes the one passed over', () => {
    const run = runWith([1, 2]);
    writeFileSync(join(run.dir, 'run.json'), '{}');
    truncateSync(run.checkpointPath(2), 40);
    const cached = join(run.dir, 'model-step-00000001.onnx');
    writeFileSync(cached, 'onnx bytes');
    const later = new Date(Date.now() + 60_000);
    utimesSync(cached, later, later); // newer than its checkpoint: reused, not exported again
    const model = resolveModel(run.dir, undefined);
    expect(model).toMatchObject({ step: 1, checkpoint: run.checkpointPath(1), cached: true, source: cached });
    expect(model.notes).toEqual([expect.stringMatching(/^skipped checkpoint .*step-00000002\.safetensors \(the file was cut short.*\); using step 1$/)]);
  });

  it('none whole: the error names what was passed over', () => {
    const run = runWith([1]);
    truncateSync(run.checkpointPath(1), 5);
    expect(() => resolveModel(run.dir, undefined)).toThrow(/the run has no whole checkpoint \(passed over as not whole: step-00000001\.safetensors: the file has 5 bytes/);
  });
});

describe('pretrain --resume / --init-from', () => {
  const images = join(root, 'images');
  mkdirSync(images, { recursive: true });

  it('"already has N steps" counts the newest whole checkpoint only', () => {
    const run = runWith([2, 4]);
    const config = planPretrain({ images, out: join(root, 'plan'), steps: '10' }).config;
    writeFileSync(run.runJson, JSON.stringify({ schema: 'ld-studio/run@1', status: 'cancelled', engine: 'tfjs', backend: 'cpu', settings: config, completedSteps: 4 }));
    truncateSync(run.checkpointPath(4), 30);
    // 3 steps asked, the whole checkpoint is at 2: the run continues (from step 2), not "already has 4 steps"
    expect(planPretrain({ images, out: run.dir, resume: true, steps: '3', engine: 'tfjs' }).config.steps).toBe(3);
    expect(() => planPretrain({ images, out: run.dir, resume: true, steps: '2', engine: 'tfjs' })).toThrow(/the run already has 2 steps/);
  });

  it('--init-from a run folder takes its newest whole checkpoint', () => {
    const from = runWith([1, 5]);
    truncateSync(from.checkpointPath(5), 30);
    const plan = planPretrain({ images, out: join(root, 'stage2'), 'init-from': from.dir, steps: '10', engine: 'tfjs' });
    expect(plan.config.initFrom).toBe(from.checkpointPath(1));
  });
});
