/**
 * The Train mode's one-shot landmark recipe and training by time, through the handler table: the
 * options offer the recipe, the contract refuses bad minutes and presets, the form's settings become
 * the same TrainConfig as `ld-studio pretrain --preset landmarks --minutes N`, and a real run by time
 * (tfjs, and PyTorch where installed) records the recipe and its budget in run.json while the renderer
 * never sees the provisional step count. Runs stopped before they timed their steps show no total.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, TrainSettings } from '../../common/api';
import { planPretrain } from '../../main/cli/pretrainArgs';
import { activateBackend } from '../../main/engine/backends';
import { centreSigmaFor } from '../../main/engine/losses';
import { initModel } from '../../main/engine/model/params';
import { Rng } from '../../main/engine/rng';
import { BUDGET_PROVISIONAL_STEPS, BUDGET_TIMED_STEPS, PAPER_STAGE1_FRACTION, PRESETS } from '../../main/engine/trainer/config';
import { IpcValidationError } from '../../main/ipc/registry';
import { budgetMessage, presetNotes, trainConfigOf } from '../../main/ipc/train';
import { RunDir, type RunInfo } from '../../main/jobs/runDir';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { hasTorch, torchSkipReason } from '../helpers/torch';
import { harness, waitFor, type Harness } from './harness';

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as IpcValidationError);

/** The form after "Landmarks (one-shot)", shrunk to run in seconds. */
const TINY: TrainSettings = {
  stage: '1', steps: 300, size: 32, batch: 1, lr: 1e-3, lrHalveEvery: 10_000, clusters: 8, seed: 0, checkpointEvery: 1000, centreSensitive: true, preset: 'landmarks', minutes: 0.05,
};

describe('the landmark recipe and training by time: options, contract, configuration', () => {
  let h: Harness;
  beforeAll(() => {
    h = harness();
  });
  afterAll(() => h.dispose());

  it('train:options offers the recipe (PRESETS.landmarks, by its minutes) and names what it changes', async () => {
    const options = await h.invoke('train:options');
    const p = PRESETS.landmarks;
    expect(options.landmarkPreset).toMatchObject({
      preset: 'landmarks', stage: p.stage, size: p.size, batch: p.batch, lr: p.lr, lrHalveEvery: p.lrHalveEvery, centreSensitive: true, minutes: p.minutes,
    });
    expect(options.landmarkPresetNotes).toEqual(presetNotes('landmarks'));
    expect(options.landmarkPresetNotes.join('; ')).toMatch(/augmentation: no flips \(paper 0\.5 each way\), rotation ±10° \(paper ±180°\), no quarter turns of view 2 \(paper on\), view 2 warped \(scale ×1\.25, ±10°, shifts 10 %; paper none\)/);
    expect(options.landmarkPresetNotes.join('; ')).toMatch(/negatives from the same image only \(paper: every patch of the batch\)/);
    // the other choices are unchanged: neither has a recipe nor a time budget
    expect(options.paperDefaults.preset ?? options.paperDefaults.minutes).toBeUndefined();
    expect(options.suggested.preset ?? options.suggested.minutes).toBeUndefined();
  });

  it.each([
    [{ minutes: 0 }, 'settings.minutes'],
    [{ minutes: -5 }, 'settings.minutes'],
    [{ minutes: 7 * 24 * 60 + 1 }, 'settings.minutes'],
    [{ minutes: '30' }, 'settings.minutes'],
    [{ preset: 'paper' }, 'settings.preset'],
    [{ preset: 'cc2d' }, 'settings.preset'],
  ])('train:start refuses %j with a validation error naming the field', async (patch, path) => {
    const err = await errorOf(h.invoke('train:start' as Channel, { engine: 'tfjs', settings: { ...TINY, ...patch } }));
    expect(err).toBeInstanceOf(IpcValidationError);
    expect(err!.issues?.map((i) => i.path.join('.'))).toContain(path);
  });

  it('the form\'s settings become the configuration `pretrain --preset landmarks --minutes N` makes', () => {
    const images = join(h.root, 'images');
    mkdirSync(images, { recursive: true });
    const cases: Array<[TrainSettings, Record<string, string | boolean>]> = [
      [{ ...TINY, minutes: 30 }, { preset: 'landmarks', minutes: '30', size: '32', batch: '1', clusters: '8' }],
      [{ ...TINY, stage: 'both', minutes: 12 }, { preset: 'landmarks', stage: 'both', minutes: '12', size: '32', batch: '1', clusters: '8' }],
      [{ ...TINY, minutes: undefined, steps: 40 }, { preset: 'landmarks', steps: '40', size: '32', batch: '1', clusters: '8' }],
    ];
    for (const [settings, args] of cases) {
      const cli = planPretrain({ images, out: join(h.root, 'never-written'), 'checkpoint-every': String(settings.checkpointEvery), ...args }).config;
      expect(trainConfigOf(settings), JSON.stringify(args)).toEqual(cli);
    }
    const both = trainConfigOf({ ...TINY, stage: 'both', minutes: 12 });
    expect(both).toMatchObject({ steps: BUDGET_PROVISIONAL_STEPS, stage1Steps: BUDGET_PROVISIONAL_STEPS, stage1Share: PAPER_STAGE1_FRACTION, minutes: 12 });
    expect(both.budget).toBeUndefined();
    // without the recipe: the paper's augmentation and negatives (absent), by steps unless minutes are given
    const plain = trainConfigOf({ ...TINY, preset: undefined, minutes: undefined });
    expect(plain).toMatchObject({ steps: 300, stage1Steps: 300, centreSigma: centreSigmaFor(32) });
    for (const key of ['preset', 'augment', 'negatives', 'minutes', 'stage1Share'] as const) expect(plain[key]).toBeUndefined();
  });

  it('budget messages read as minutes → steps at seconds per step', () => {
    expect(budgetMessage(30, 1234, 1.456)).toBe('30 minutes → 1,234 steps at 1.5 s/step');
    expect(budgetMessage(1, 40, 0.4567)).toBe('1 minute → 40 steps at 0.46 s/step');
    expect(budgetMessage(0.05, 700, 0.0043)).toBe('0.05 minutes → 700 steps at 0.0043 s/step');
  });
});

describe.skipIf(!hasSharedData)(`runs by time in the project${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  let projectDir: string;
  beforeAll(async () => {
    h = harness();
    projectDir = (await h.invoke('project:create', { dir: join(h.root, 'project') })).dir;
    await h.invoke('images:import', { jobId: 'import', paths: ['3167.png', '3177.png'].map((f) => dataPath('landmarks/hand', f)) });
  });
  afterAll(() => h?.dispose());

  /** A run folder as `ld-studio pretrain --preset landmarks --minutes 30` leaves it, with one checkpoint. */
  async function cliRun(name: string, settings: Record<string, unknown>, status: RunInfo['status'], completedSteps: number): Promise<string> {
    await activateBackend('cpu');
    const run = new RunDir(join(h.root, 'elsewhere', name));
    run.create();
    const store = initModel({ inChannels: 1, embedDim: 32, clusters: 16 }, new Rng(5));
    run.writeCheckpoint({ step: completedSteps, stage: 1, rng: [1, 2, 3, 4], adamStep: completedSteps, tensors: await store.toArrays() }, 'cancel');
    store.dispose();
    run.writeInfo({
      schema: 'ld-studio/run@1', status, createdAt: new Date().toISOString(), updatedAt: '', engine: 'tfjs', backend: 'cpu', backendReason: 'test',
      versions: {}, images: { dir: projectDir, count: 2, failures: 0 }, settings, completedSteps,
    });
    return run.dir;
  }
  const cliSettings = (patch: Record<string, unknown>) => ({
    ...trainConfigOf({ ...TINY, size: 128, batch: 2, clusters: 16, minutes: 30 }), ...patch,
  });

  it('a run added from elsewhere carries its recipe and minutes; stopped before it timed its steps, it shows no total', async () => {
    const untimed = await cliRun('untimed', cliSettings({}), 'cancelled', 3);
    const summary = await h.invoke('train:addRun', { dir: untimed });
    expect(summary).toMatchObject({ status: 'cancelled', step: 3, totalSteps: 0, settings: { preset: 'landmarks', minutes: 30, size: 128, centreSensitive: true } });

    const timed = await cliRun('timed', cliSettings({ steps: 1200, stage1Steps: 1200, budget: { secondsPerStep: 1.5, timedSteps: BUDGET_TIMED_STEPS } }), 'cancelled', 40);
    expect(await h.invoke('train:addRun', { dir: timed })).toMatchObject({ step: 40, totalSteps: 1200, settings: { preset: 'landmarks', minutes: 30, steps: 1200 } });
    // the project file keeps both, and reading it back keeps them too
    const reopened = await h.invoke('project:open', { dir: projectDir });
    expect(reopened.runs.map((r) => [r.totalSteps, r.settings.preset, r.settings.minutes])).toEqual([[0, 'landmarks', 30], [1200, 'landmarks', 30]]);
  });

  const engines = [
    { engine: 'tfjs' as const, backend: 'wasm' as const, skip: '' },
    { engine: 'torch' as const, backend: undefined, skip: hasTorch ? '' : torchSkipReason },
  ];
  for (const { engine, backend, skip } of engines) {
    it.skipIf(Boolean(skip))(`${engine}: a 3-second run of the landmark recipe records it and its budget; the renderer never sees the provisional total${skip ? ` (skipped: ${skip})` : ''}`, async () => {
      const started = await h.invoke('train:start', { engine, ...(backend ? { backend } : {}), settings: TINY });
      expect(started).toMatchObject({ status: 'running', totalSteps: 0, settings: { preset: 'landmarks', minutes: 0.05 } });
      const ended = () => h.eventsOf('train:state').find((s) => s.id === started.id && s.status !== 'running');
      await waitFor(() => Boolean(ended()), 240_000, `the ${engine} run by time to end`);
      expect(ended(), JSON.stringify(h.eventsOf('app:notice'))).toMatchObject({ status: 'completed', hasCheckpoint: true });

      const info = new RunDir(join(projectDir, 'runs', started.id)).readInfo();
      const s = info.settings as Record<string, unknown> & { steps: number; budget: { secondsPerStep: number; timedSteps: number } };
      expect(s).toMatchObject({ preset: 'landmarks', augment: PRESETS.landmarks.augment, negatives: 'image', centreSigma: centreSigmaFor(32), minutes: 0.05, stage: '1', size: 32 });
      expect(s.budget.timedSteps).toBe(BUDGET_TIMED_STEPS);
      expect(s.budget.secondsPerStep).toBeGreaterThan(0);
      expect(s.steps).toBeGreaterThan(BUDGET_TIMED_STEPS);
      expect(s.steps).toBeLessThan(BUDGET_PROVISIONAL_STEPS);
      expect(info.completedSteps).toBe(s.steps);
      expect(ended()).toMatchObject({ step: s.steps, totalSteps: s.steps });

      // what reached the renderer: never the provisional total, no ETA while timing, then the fixed steps
      const progress = h.eventsOf('train:progress').filter((p) => p.runId === started.id);
      const states = h.eventsOf('train:state').filter((r) => r.id === started.id);
      expect([...progress, ...states].every((p) => p.totalSteps < BUDGET_PROVISIONAL_STEPS)).toBe(true);
      const budgetAt = progress.findIndex((p) => /^0\.05 minutes → [\d,]+ steps at [\d.]+ s\/step$/.test(p.message ?? ''));
      expect(budgetAt, JSON.stringify(progress.map((p) => [p.phase, p.step, p.totalSteps, p.message]))).toBeGreaterThan(0);
      expect(progress[budgetAt]).toMatchObject({ phase: 'training', totalSteps: s.steps, message: budgetMessage(0.05, s.steps, s.budget.secondsPerStep) });
      for (const p of progress.slice(0, budgetAt)) {
        expect(p.totalSteps).toBe(0);
        expect(p.etaSeconds).toBeUndefined();
        if (p.phase === 'training') expect(p.message).toBe('timing the first steps to fit 0.05 minutes');
      }
      expect(progress.slice(0, budgetAt).some((p) => p.phase === 'training')).toBe(true);
      for (const p of progress.slice(budgetAt + 1)) expect(p.totalSteps).toBe(s.steps);
      expect(progress.filter((p) => p.phase === 'training').at(-1)).toMatchObject({ step: s.steps, totalSteps: s.steps });

      const snapshot = (await h.invoke('project:get'))!;
      expect(snapshot.runs.find((r) => r.id === started.id)).toMatchObject({ status: 'completed', step: s.steps, totalSteps: s.steps, settings: { preset: 'landmarks', minutes: 0.05 } });
      expect((await h.invoke('train:losses', { runId: started.id })).length).toBe(s.steps);
      // a budgeted run is an ordinary run of its recorded steps: resuming it asks for more, it never re-times
      await expect(h.invoke('train:resume', { runId: started.id })).rejects.toThrow(new RegExp(`already has ${s.steps} steps`));
      expect(JSON.parse(readFileSync(join(projectDir, 'ld-project.json'), 'utf8')).runs.find((r: { id: string }) => r.id === started.id).settings).toMatchObject({ preset: 'landmarks', minutes: 0.05 });
    });
  }
});
