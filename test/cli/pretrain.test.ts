import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli';
import { PRESETS } from '../../main/engine/trainer/config';
import { readSafetensors, safetensorsFileProblem } from '../../main/io/safetensors';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { hasTorch, torchSkipReason } from '../helpers/torch';

const tmp = () => mkdtempSync(join(tmpdir(), 'ld-cli-'));

function readLoss(runDir: string): string[][] {
  const [header, ...rows] = readFileSync(join(runDir, 'loss.csv'), 'utf8').trim().split('\n');
  expect(header).toBe('step,stage,l_pd,l_mix,l_rd,l_ent,loss');
  return rows.map((r) => r.split(','));
}

describe('ld-studio command line: arguments and errors', () => {
  test('--help prints usage with every pretrain option', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--images', '--out', '--stage', '--size', '--batch', '--steps', '--backend', '--seed', '--resume']) expect(r.stdout).toContain(opt);
  });

  test('info reports the backends as JSON, with wasm available and why auto chose what it chose', async () => {
    const r = await runCli(['info']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    const wasm = info.engines.tfjs.backends.find((b: { name: string }) => b.name === 'wasm');
    expect(wasm.available).toBe(true);
    expect(info.engines.tfjs.auto.reason).toMatch(/auto picked/);
    expect(info.versions['tfjs-core']).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test.each([
    [['pretrain'], /--images <dir> is required/],
    [['pretrain', '--images', '/definitely/not/here', '--out', '/tmp/x'], /folder not found/],
    [['pretrain', '--images', '.', '--out', '/tmp/x', '--size', '50'], /multiple of 16/],
    [['pretrain', '--images', '.', '--out', '/tmp/x', '--batch', 'two'], /--batch expects an integer/],
    [['pretrain', '--images', '.', '--out', '/tmp/x', '--backend', 'cuda'], /--backend must be one of/],
    [['pretrain', '--images', '.', '--out', '/tmp/x', '--stage', '3'], /--stage must be one of/],
    [['pretrain', '--wat'], /Unknown option '--wat'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('bad arguments %j give a clear message and exit 2, no stack trace', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('a folder without images is refused with the folder named', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    const r = await runCli(['pretrain', '--images', dir, '--out', join(tmp(), 'run'), '--size', '32', '--steps', '1', '--backend', 'wasm']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(dir);
    expect(r.stderr).toMatch(/no DICOM, PNG, JPEG or TIFF images/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('a folder whose images are all unreadable names the first reason', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]));
    const r = await runCli(['pretrain', '--images', dir, '--out', join(tmp(), 'run'), '--size', '32', '--steps', '1', '--backend', 'wasm']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/none of the 1 image file\(s\) could be read/);
  });
});

describe.skipIf(!hasSharedData)(`ld-studio pretrain on the hand radiographs${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  const hand = dataPath('landmarks/hand');
  const common = ['--images', hand, '--size', '64', '--batch', '2', '--backend', 'wasm'];

  test('3 steps, then --resume to 5, equals an uninterrupted 5-step run', async () => {
    const interrupted = join(tmp(), 'run');
    const straight = join(tmp(), 'run');

    const first = await runCli(['pretrain', ...common, '--out', interrupted, '--steps', '3']);
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ status: 'completed', completedSteps: 3, backend: 'wasm', images: 9 });
    const three = readLoss(interrupted);
    expect(three.map((r) => r[0])).toEqual(['1', '2', '3']);
    expect(three.every((r) => Number.isFinite(Number(r[6])))).toBe(true);
    expect(first.stderr).toMatch(/\[#+-*\] 3\/3 stage 2/); // the progress bar

    const resumed = await runCli(['pretrain', '--images', hand, '--out', interrupted, '--steps', '5', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const full = await runCli(['pretrain', ...common, '--out', straight, '--steps', '5']);
    expect(full.code, full.stderr).toBe(0);

    const a = readLoss(interrupted);
    const b = readLoss(straight);
    expect(a.map((r) => r[0])).toEqual(['1', '2', '3', '4', '5']);
    for (const row of [3, 4]) {
      for (let col = 2; col < 7; col++) {
        const x = Number(a[row][col]);
        const y = Number(b[row][col]);
        expect(Math.abs(x - y) / Math.abs(y)).toBeLessThanOrEqual(1e-5);
      }
    }
    const run = JSON.parse(readFileSync(join(interrupted, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ status: 'completed', completedSteps: 5, backend: 'wasm', engine: 'tfjs' });
    expect(run.settings).toMatchObject({ size: 64, batch: 2, steps: 5, seed: 0, stage: 'both' });
    expect(run.versions['tfjs-core']).toBeDefined();
  });

  test('--resume refuses to change the settings, accepts the same ones again, and an existing run is not overwritten', async () => {
    const runDir = join(tmp(), 'run');
    expect((await runCli(['pretrain', ...common, '--size', '32', '--out', runDir, '--steps', '1'])).code).toBe(0);
    const again = await runCli(['pretrain', ...common, '--size', '32', '--out', runDir, '--steps', '1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run; add --resume/);
    const change = await runCli(['pretrain', '--images', hand, '--out', runDir, '--steps', '2', '--resume', '--size', '64', '--seed', '0']);
    expect(change.code).toBe(2);
    expect(change.stderr).toMatch(/--size cannot change when resuming \(the run has 32, the command asks for 64\)/);
    const flip = await runCli(['pretrain', '--images', hand, '--out', runDir, '--steps', '2', '--resume', '--flip', '0']);
    expect(flip.code).toBe(2);
    expect(flip.stderr).toMatch(/--flip cannot change when resuming \(the run has \{.*"hflipP":0\.5/);
    // the first command line again, with --resume and more steps: what users of training CLIs do
    const same = await runCli(['pretrain', ...common, '--size', '32', '--out', runDir, '--steps', '2', '--resume']);
    expect(same.code, same.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).completedSteps).toBe(2);
  });

  test('Ctrl+C writes a checkpoint at the current step and exits 130; --resume continues from it', async () => {
    const runDir = join(tmp(), 'run');
    const r = await runCli(['pretrain', ...common, '--size', '32', '--out', runDir, '--steps', '200', '--checkpoint-every', '1000'], {
      signalAfter: (stderr) => /\] 1\/200 /.test(stderr),
    });
    expect(r.code).toBe(130);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary.status).toBe('cancelled');
    expect(summary.completedSteps).toBeGreaterThanOrEqual(1);
    expect(summary.completedSteps).toBeLessThan(200);
    expect(summary.checkpoint).toContain(`step-${String(summary.completedSteps).padStart(8, '0')}`);
    expect(readLoss(runDir).length).toBe(summary.completedSteps);
    const more = await runCli(['pretrain', '--images', hand, '--out', runDir, '--steps', String(summary.completedSteps + 1), '--resume']);
    expect(more.code, more.stderr).toBe(0);
    expect(readLoss(runDir).map((row) => Number(row[0]))).toEqual(Array.from({ length: summary.completedSteps + 1 }, (_, i) => i + 1));
  });
});

describe.skipIf(!hasSharedData)(`--resume after a power cut${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  const hand = dataPath('landmarks/hand');

  test('a newest checkpoint cut short: --resume goes on from the one before, with a note naming it; none whole: a clear error', async () => {
    const runDir = join(tmp(), 'run');
    const first = await runCli(['pretrain', '--images', hand, '--size', '32', '--batch', '1', '--backend', 'wasm', '--out', runDir, '--steps', '2', '--checkpoint-every', '1']);
    expect(first.code, first.stderr).toBe(0);
    const checkpoint = (step: number) => join(runDir, 'checkpoints', `step-${String(step).padStart(8, '0')}.safetensors`);
    truncateSync(checkpoint(2), statSync(checkpoint(2)).size >> 1);
    const leftover = join(runDir, 'checkpoints', `step-00000003.safetensors.tmp-${spawnSync(process.execPath, ['-e', '']).pid}-1`);
    writeFileSync(leftover, 'a write killed half way');

    const resumed = await runCli(['pretrain', '--images', hand, '--out', runDir, '--steps', '3', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`note: skipped checkpoint ${checkpoint(2)} \\(the file was cut short: it has \\d+ of the \\d+ bytes its header describes\\); resuming from step 1\n`));
    expect(resumed.stderr).toMatch(/resuming after step 1\n/);
    expect(readLoss(runDir).map((row) => row[0])).toEqual(['1', '2', '3']);
    expect(safetensorsFileProblem(checkpoint(2))).toBeUndefined(); // step 2 trained and written again
    expect(existsSync(leftover)).toBe(false);

    for (const step of [1, 2, 3]) truncateSync(checkpoint(step), 40);
    const none = await runCli(['pretrain', '--images', hand, '--out', runDir, '--steps', '4', '--resume']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/checkpoints: no whole checkpoint to resume from \(step-00000003\.safetensors: the file was cut short/);
    expect(none.stderr).not.toMatch(/\n\s+at /);
  });
});

const checkpointTensors = (runDir: string, step: number) => readSafetensors(join(runDir, 'checkpoints', `step-${String(step).padStart(8, '0')}.safetensors`)).tensors;

describe.skipIf(!hasSharedData || !hasTorch)(`ld-studio pretrain --minutes and --preset${hasSharedData && hasTorch ? '' : ` (skipped: ${sharedDataSkipReason || torchSkipReason})`}`, () => {
  const hand = dataPath('landmarks/hand');
  const small = ['--images', hand, '--size', '32', '--batch', '1', '--engine', 'torch'];

  test('--minutes times the first steps, fixes the step count in run.json, and resumes exactly: --minutes then --resume --steps equals a plain --steps run', async () => {
    const timed = join(tmp(), 'run');
    const r = await runCli(['pretrain', ...small, '--stage', '1', '--out', timed, '--minutes', '0.05']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/time budget: \d+ steps at [\d.]+ s\/step \(timed over 10 steps\), recorded in run\.json/);
    const run = JSON.parse(readFileSync(join(timed, 'run.json'), 'utf8'));
    const n = run.settings.steps as number;
    expect(n).toBeLessThan(1000);
    expect(run.completedSteps).toBe(n);
    expect(run.settings.minutes).toBe(0.05);
    expect(run.settings.budget.timedSteps).toBe(10);
    // the budget: 3 s of steps at the measured speed, and at least one step after the 11 it took to time them
    expect(n).toBe(Math.max(12, Math.floor((0.05 * 60) / run.settings.budget.secondsPerStep)));
    expect(readLoss(timed)).toHaveLength(n);

    const more = await runCli(['pretrain', '--images', hand, '--out', timed, '--resume', '--steps', String(n + 2)]);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).not.toMatch(/time budget/); // a run with a budget is not timed again
    const plain = join(tmp(), 'run');
    const p = await runCli(['pretrain', ...small, '--stage', '1', '--out', plain, '--steps', String(n + 2)]);
    expect(p.code, p.stderr).toBe(0);
    // the learning-rate schedule does not depend on the length: the same weights, bit for bit
    const ta = checkpointTensors(timed, n + 2);
    const tb = checkpointTensors(plain, n + 2);
    expect([...ta.keys()].sort()).toEqual([...tb.keys()].sort());
    for (const [key, t] of ta) expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(tb.get(key)!.data.buffer, tb.get(key)!.data.byteOffset, tb.get(key)!.data.byteLength)), key).toBe(true);
    const a = readLoss(timed);
    const b = readLoss(plain);
    expect(a.map((row) => row[6])).toEqual(b.map((row) => row[6]));
  });

  test('--preset landmarks records the recipe in run.json; an explicit option overrides the preset', async () => {
    const runDir = join(tmp(), 'run');
    const r = await runCli(['pretrain', '--images', hand, '--out', runDir, '--preset', 'landmarks', '--size', '32', '--batch', '1', '--steps', '2', '--rotation', '5', '--engine', 'torch']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).settings;
    expect(s).toMatchObject({ preset: 'landmarks', stage: '1', size: 32, batch: 1, steps: 2, negatives: PRESETS.landmarks.negatives });
    expect(s.centreSigma).toBeCloseTo((32 * 14) / 448, 10);
    expect(s.augment).toEqual({ ...PRESETS.landmarks.augment, rotationDeg: 5 });
    expect(s.minutes).toBeUndefined(); // --steps replaces the preset's 30 minutes
  });

  test.each([
    [['--minutes', '5', '--steps', '10'], /--minutes and --steps both set the length of the run/],
    [['--minutes', '0'], /--minutes expects a positive number/],
    [['--crop-scale', '0.5'], /--crop-scale expects MIN,MAX/],
    [['--crop-scale', '0.9,0.5'], /--crop-scale expects MIN,MAX/],
    [['--rotation', '200'], /--rotation expects a number in \[0, 180\]/],
    [['--flip', '2'], /--flip expects a number in \[0, 1\]/],
    [['--view-warp', '0.5,10,0.1'], /--view-warp expects SCALE,DEGREES,SHIFT/],
    [['--view-warp', '1.2,10,0.1'], /needs view2Turns off/],
    [['--negatives', 'others'], /--negatives must be one of batch, image/],
    [['--preset', 'cc2d'], /--preset must be one of paper, landmarks/],
  ])('bad training options %j: exit 2 with the reason', async (extra, message) => {
    const r = await runCli(['pretrain', '--images', hand, '--out', join(tmp(), 'run'), ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
