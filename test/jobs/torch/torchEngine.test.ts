/** The PyTorch engine behind the same CLI, run directory, resume and cancel as the tfjs engine. */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { encodeSafetensors, readSafetensors } from '../../../main/io/safetensors';
import { engineEnv } from '../../../main/jobs/torch/findPython';
import { torchPackageDir } from '../../../main/jobs/torch/resources';
import { repoRoot, runCli } from '../../helpers/cli';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';
import { hasTorch, torchPython, torchSkipReason } from '../../helpers/torch';

const tmp = () => mkdtempSync(join(tmpdir(), 'ld-torch-'));
const lossRows = (runDir: string) => readFileSync(join(runDir, 'loss.csv'), 'utf8').trim().split('\n').slice(1).map((r) => r.split(','));
const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

describe('without a usable Python', () => {
  test('info says torch is unavailable and why', async () => {
    const r = await runCli(['info', '--python', '/nonexistent/python3']);
    expect(r.code).toBe(0);
    const torch = JSON.parse(r.stdout).engines.torch;
    expect(torch.available).toBe(false);
    expect(torch.detail).toMatch(/\/nonexistent\/python3: not found/);
  });

  test.skipIf(!hasSharedData)('--engine auto falls back to tfjs and says why; --engine torch fails clearly', async () => {
    const images = dataPath('landmarks/hand');
    const auto = await runCli(['pretrain', '--images', images, '--out', join(tmp(), 'run'), '--size', '32', '--batch', '1', '--steps', '1', '--python', '/nonexistent/python3']);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/engine: tfjs \(no Python with torch found/);
    expect(summaryOf(auto.stdout)).toMatchObject({ engine: 'tfjs', status: 'completed' });
    const forced = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--out', join(tmp(), 'run'), '--steps', '1', '--python', '/nonexistent/python3']);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/--engine torch: no Python with torch found/);
  });
});

const skip = !hasTorch || !hasSharedData;
describe.skipIf(skip)(`PyTorch engine${skip ? ` (skipped: ${torchSkipReason || sharedDataSkipReason})` : ''}`, () => {
  const images = dataPath('landmarks/hand');

  test("the engine's own Python tests pass", () => {
    const res = spawnSync(torchPython, ['-m', 'unittest', 'discover', '-s', join(repoRoot, 'test', 'torch'), '-p', 'test_*.py'], {
      encoding: 'utf8', env: engineEnv({ PYTHONPATH: torchPackageDir() }), timeout: 600_000, cwd: repoRoot,
    });
    expect(res.status, res.stderr.slice(-3000)).toBe(0);
    expect(res.stderr).toMatch(/Ran [1-9]\d* tests?[\s\S]*\nOK/);
  }, 600_000); // the whole Python suite: about two minutes on 2 idle cores, more beside other test files

  test('info shows the torch version and devices', async () => {
    const r = await runCli(['info']);
    const torch = JSON.parse(r.stdout).engines.torch;
    expect(torch).toMatchObject({ available: true });
    expect(torch.torch).toMatch(/^\d+\.\d+/);
    expect(Array.isArray(torch.devices)).toBe(true);
  });

  test('pretrain --engine torch: 5 steps at 128², batch 2, same run directory layout', async () => {
    const runDir = join(tmp(), 'run');
    const r = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--out', runDir, '--size', '128', '--batch', '2', '--steps', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r.stdout)).toMatchObject({ status: 'completed', completedSteps: 5, engine: 'torch', images: 9 });
    const rows = lossRows(runDir);
    expect(rows.map((row) => row[0])).toEqual(['1', '2', '3', '4', '5']);
    expect(rows.every((row) => Number.isFinite(Number(row[6])))).toBe(true);
    const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ engine: 'torch', status: 'completed', completedSteps: 5 });
    expect(run.versions.torch).toMatch(/^\d/);
  });

  test('resume is exact, and a torch checkpoint continues in the tfjs engine (and back)', async () => {
    const common = ['--images', images, '--size', '32', '--batch', '1'];
    const a = join(tmp(), 'run');
    const b = join(tmp(), 'run');
    expect((await runCli(['pretrain', '--engine', 'torch', ...common, '--out', a, '--steps', '3'])).code).toBe(0);
    expect((await runCli(['pretrain', '--images', images, '--out', a, '--steps', '5', '--resume'])).code).toBe(0);
    expect((await runCli(['pretrain', '--engine', 'torch', ...common, '--out', b, '--steps', '5'])).code).toBe(0);
    const ra = lossRows(a);
    const rb = lossRows(b);
    for (const row of [3, 4]) for (let col = 2; col < 7; col++) {
      if (rb[row][col] === '') continue;
      expect(Math.abs(Number(ra[row][col]) - Number(rb[row][col])) / Math.abs(Number(rb[row][col]))).toBeLessThanOrEqual(1e-5);
    }
    // the same run continued by the other engine: weights and Adam state carry over
    const tfjs = await runCli(['pretrain', '--engine', 'tfjs', '--images', images, '--out', a, '--steps', '6', '--resume', '--backend', 'wasm']);
    expect(tfjs.code, tfjs.stderr).toBe(0);
    expect(lossRows(a).map((r) => r[0])).toEqual(['1', '2', '3', '4', '5', '6']);
    const back = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--out', a, '--steps', '7', '--resume']);
    expect(back.code, back.stderr).toBe(0);
    expect(lossRows(a)).toHaveLength(7);
  });

  test('a checkpoint cut short: --resume goes on from the one before, with a note; an engine error is one line, its traceback in a file', async () => {
    const runDir = join(tmp(), 'run');
    const checkpoint = (step: number) => join(runDir, 'checkpoints', `step-${String(step).padStart(8, '0')}.safetensors`);
    const first = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--size', '32', '--batch', '1', '--out', runDir, '--steps', '2', '--checkpoint-every', '1']);
    expect(first.code, first.stderr).toBe(0);
    truncateSync(checkpoint(2), statSync(checkpoint(2)).size - 100);
    const resumed = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--out', runDir, '--steps', '3', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`note: skipped checkpoint ${checkpoint(2)} (the file was cut short`);
    expect(resumed.stderr).toMatch(/resuming after step 1\n/);
    expect(lossRows(runDir).map((row) => row[0])).toEqual(['1', '2', '3']);

    // a whole file the engine still refuses (no step in its metadata): its one-line reason, no traceback
    writeFileSync(checkpoint(3), Buffer.concat(encodeSafetensors(readSafetensors(checkpoint(1)).tensors, { format: 'ld-studio/checkpoint@1' })));
    const refused = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--out', runDir, '--steps', '4', '--resume']);
    expect(refused.code).toBe(1);
    const log = join(runDir, 'engine-stderr.log');
    expect(refused.stderr).toContain(`the PyTorch engine stopped: ValueError: ${checkpoint(3)}: checkpoint metadata has no 'step'; checkpoints written so far are kept in ${join(runDir, 'checkpoints')} (the engine's own output is in ${log})`);
    expect(refused.stderr).not.toMatch(/Traceback|File ".*\.py"/);
    expect(readFileSync(log, 'utf8')).toMatch(/Traceback[\s\S]*checkpoint metadata has no 'step'/);
  });

  test('2-process DistributedDataParallel on CPU (gloo) through torchrun', async () => {
    const runDir = join(tmp(), 'run');
    const port = 29_000 + Math.floor(Math.random() * 1000);
    const r = await runCli(['pretrain', '--engine', 'torch', '--device', 'cpu', '--gpus', '2', '--master-port', String(port), '--images', images, '--out', runDir, '--size', '32', '--batch', '1', '--steps', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryOf(r.stdout)).toMatchObject({ status: 'completed', completedSteps: 2, engine: 'torch' });
    expect(lossRows(runDir)).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).backendReason).toMatch(/2 process/);
  });

  test('Ctrl+C stops the engine with a checkpoint', async () => {
    const runDir = join(tmp(), 'run');
    const r = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--out', runDir, '--size', '32', '--batch', '1', '--steps', '100000'], {
      signalAfter: (stderr) => /\] 1\/100000 /.test(stderr),
    });
    expect(r.code).toBe(130);
    const s = summaryOf(r.stdout);
    expect(s.status).toBe('cancelled');
    expect(s.checkpoint).toMatch(/step-\d{8}\.safetensors$/);
    expect(lossRows(runDir)).toHaveLength(s.completedSteps);
  });

  test('a crash of the engine process surfaces with its stderr, and the checkpoints stay', async () => {
    // a "python" that runs the real engine and kills it once a checkpoint exists, like an OOM kill
    const dir = tmp();
    const runDir = join(dir, 'run');
    const fake = join(dir, 'python3');
    writeFileSync(fake, [
      '#!/bin/sh',
      'case "$*" in',
      // fd 3 keeps the engine's stdin (the cancel channel): sh gives background jobs /dev/null
      `  *" train "*) exec 3<&0; "${torchPython}" "$@" <&3 & pid=$!`,
      `    for i in $(seq 600); do ls "${runDir}/checkpoints/"*.safetensors >/dev/null 2>&1 && break; sleep 0.2; done`,
      '    echo "simulated crash" >&2; kill -9 $pid; exit 137;;',
      `  *) exec "${torchPython}" "$@";;`,
      'esac',
      '',
    ].join('\n'));
    chmodSync(fake, 0o755);
    const r = await runCli(['pretrain', '--engine', 'torch', '--python', fake, '--images', images, '--out', runDir, '--size', '32', '--batch', '1', '--steps', '100000', '--checkpoint-every', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the PyTorch engine stopped: exit code 137/);
    expect(r.stderr).toMatch(/engine stderr \(last lines\)[\s\S]*simulated crash/);
    const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    expect(run.status).toBe('failed');
    expect(readdirSync(join(runDir, 'checkpoints')).length).toBeGreaterThan(0);
  });
});
