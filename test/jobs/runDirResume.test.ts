/**
 * Choosing the checkpoint to resume from after a power cut (issue 16): the newest whole one, passing
 * over (and naming) checkpoints that were cut short; and the temporary files a killed run left.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunDir } from '../../main/jobs/runDir';
import { safetensorsFileProblem } from '../../main/io/safetensors';

const root = mkdtempSync(join(tmpdir(), 'ld-resume-point-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A run directory with checkpoints at `steps`, each a small but real one (two tensors, metadata). */
function runWith(steps: number[]): RunDir {
  const run = new RunDir(join(root, `run${++n}`));
  run.create();
  for (const step of steps) {
    const tensors = new Map([
      ['a', { shape: [4], data: new Float32Array([1, 2, 3, step]) }],
      ['b', { shape: [2, 2], data: new Float32Array(4).fill(step) }],
    ]);
    run.writeCheckpoint({ step, stage: 1, rng: [1, 2, 3, 4], adamStep: step, tensors }, 'test');
  }
  return run;
}

describe('safetensorsFileProblem', () => {
  it('a whole file has none; cut in the data, cut in the header, empty, or longer, each says so', () => {
    const run = runWith([1]);
    const file = run.checkpointPath(1);
    expect(safetensorsFileProblem(file)).toBeUndefined();
    const whole = readFileSync(file);
    const copy = (bytes: Uint8Array) => {
      const path = join(root, `copy${++n}.safetensors`);
      writeFileSync(path, bytes);
      return path;
    };
    expect(safetensorsFileProblem(copy(whole.subarray(0, whole.length - 3)))).toBe(`the file was cut short: it has ${whole.length - 3} of the ${whole.length} bytes its header describes`);
    expect(safetensorsFileProblem(copy(whole.subarray(0, 20)))).toMatch(/^the file was cut short inside its header \(20 bytes; the header alone needs \d+\)$/);
    expect(safetensorsFileProblem(copy(new Uint8Array(0)))).toBe('the file has 0 bytes, too few for a safetensors header');
    expect(safetensorsFileProblem(copy(Buffer.concat([whole, Buffer.from([0, 0])])))).toBe('the file has 2 bytes after the data its header describes');
    const garbled = Buffer.from(whole);
    garbled.write('}{', 8);
    expect(safetensorsFileProblem(copy(garbled))).toBe('its header is not valid JSON');
  });
});

describe('RunDir.resumePoint', () => {
  it('the newest checkpoint when it is whole', () => {
    const run = runWith([1, 2, 10]);
    expect(run.resumePoint()).toEqual({ step: 10, path: run.checkpointPath(10), skipped: [] });
  });

  it('passes over cut checkpoints, newest first, naming each', () => {
    const run = runWith([1, 2, 3]);
    truncateSync(run.checkpointPath(3), 100);
    truncateSync(run.checkpointPath(2), 0);
    const point = run.resumePoint();
    expect(point.step).toBe(1);
    expect(point.skipped.map((s) => s.file)).toEqual([run.checkpointPath(3), run.checkpointPath(2)]);
    expect(point.skipped[0].reason).toMatch(/^the file was cut short/);
  });

  it('none whole: a clear error naming each file and what to do', () => {
    const run = runWith([1, 2]);
    for (const step of [1, 2]) truncateSync(run.checkpointPath(step), 50);
    expect(() => run.resumePoint()).toThrow(/checkpoints: no whole checkpoint to resume from \(step-00000002\.safetensors: the file was cut short.*; step-00000001\.safetensors: .*\); start the run again without --resume/);
    expect(() => runWith([]).resumePoint()).toThrow(/no checkpoint to resume from; start the run without --resume/);
  });
});

describe('RunDir.removeStaleTempFiles', () => {
  it("removes a killed run's temporary checkpoints and run files (ours and the PyTorch engine's), nothing else", async () => {
    const run = runWith([1]);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = [
      join(run.checkpointDir, `step-00000002.safetensors.tmp-${dead}-${Date.now()}`),
      join(run.checkpointDir, `.step-00000002.safetensors.${dead}.tmp`),
      join(run.dir, `run.json.tmp-${dead}-1`),
    ];
    const kept = [
      join(run.checkpointDir, `step-00000003.safetensors.tmp-${process.pid}-${Date.now()}`), // a live writer's
      join(run.dir, `notes.txt.tmp-${dead}-1`), // not a run file
    ];
    for (const file of [...stale, ...kept]) writeFileSync(file, 'partial');
    await run.removeStaleTempFiles();
    const left = [...readdirSync(run.checkpointDir).map((f) => join(run.checkpointDir, f)), ...readdirSync(run.dir).map((f) => join(run.dir, f))];
    for (const file of stale) expect(left).not.toContain(file);
    for (const file of kept) expect(left).toContain(file);
    expect(left).toContain(run.checkpointPath(1));
  });
});
