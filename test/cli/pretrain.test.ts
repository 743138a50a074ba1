import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';

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

  test('--resume refuses to change the settings, and an existing run is not overwritten', async () => {
    const runDir = join(tmp(), 'run');
    expect((await runCli(['pretrain', ...common, '--size', '32', '--out', runDir, '--steps', '1'])).code).toBe(0);
    const again = await runCli(['pretrain', ...common, '--size', '32', '--out', runDir, '--steps', '1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run; add --resume/);
    const change = await runCli(['pretrain', '--images', hand, '--out', runDir, '--steps', '2', '--resume', '--size', '64']);
    expect(change.code).toBe(2);
    expect(change.stderr).toMatch(/--size cannot change when resuming/);
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
