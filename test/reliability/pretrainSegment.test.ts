/**
 * Issue 16 (hardening): the malformed-input corpus (./corpus.ts) through `ld-studio pretrain` and
 * `ld-studio segment`, the real CLI in a child process. No crash (a documented exit code, no signal),
 * every refused file named on stderr (pretrain) or in the report (segment) with a reason a person can
 * read, and every good file trained on / segmented.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli';
import { hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { makeCorpus, problemWithReason, type Corpus } from './corpus';

const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

/** `skipped <file>: <reason>` lines of the CLI's stderr, by file. */
function skippedLines(stderr: string, files: string[]): Map<string, string> {
  const skipped = new Map<string, string>();
  for (const line of stderr.split(/\r?\n|\r/)) {
    const m = /^\s*skipped (.*)$/.exec(line);
    if (!m) continue;
    // file names hold spaces and colons may follow: match the known paths
    const file = files.find((f) => m[1].startsWith(`${f}: `));
    expect(file, `a skip line that names no corpus file: ${line}`).toBeDefined();
    skipped.set(file!, m[1].slice(file!.length + 2));
  }
  return skipped;
}

function expectNoCrash(r: CliResult, documented: number[]) {
  expect(documented, `exit code ${r.code}; stderr:\n${r.stderr}`).toContain(r.code);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe.skipIf(!hasSharedData)(`malformed inputs: pretrain and segment${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let root: string;
  let corpus: Corpus;
  let run: string;
  let pretrain: CliResult;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ld-reliability-'));
    corpus = makeCorpus(root);
    run = join(root, 'run');
    // stage 2 with a clustering branch, so that segment can use the run; the smallest settings
    pretrain = await runCli(['pretrain', '--images', corpus.dir, '--out', run, '--engine', 'tfjs', '--backend', 'wasm', '--stage', '2', '--clusters', '8', '--size', '64', '--batch', '1', '--steps', '1']);
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('pretrain trains on the good files and names every file it skipped, with why', () => {
    expectNoCrash(pretrain, [0]);
    const summary = summaryOf(pretrain.stdout);
    expect(summary).toMatchObject({ status: 'completed', completedSteps: 1 });
    const skipped = skippedLines(pretrain.stderr, corpus.files.map((f) => f.path));
    for (const file of corpus.files) {
      const reason = skipped.get(file.path);
      if (reason !== undefined) expect(problemWithReason(reason), `${basename(file.path)}: ${reason}`).toBeUndefined();
      if (file.good) expect(reason, `good file ${basename(file.path)} skipped`).toBeUndefined();
      else if (!file.mayDecode) expect(reason, `${basename(file.path)} (${file.kind}) was trained on`).toBeDefined();
    }
    expect(summary.images + skipped.size).toBe(corpus.files.length);
    const record = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    expect(record.images).toMatchObject({ count: summary.images, failures: skipped.size });
  });

  it('segment writes a mask for every good file and names every file it skipped, with why', async () => {
    expect(pretrain.code, pretrain.stderr).toBe(0);
    const out = join(root, 'seg');
    const r = await runCli(['segment', '--model', run, '--images', corpus.dir, '--out', out]);
    expectNoCrash(r, [0]);
    const report = summaryOf(r.stdout);
    const skipped = new Map<string, string>(report.images.skipped.map((s: { file: string; reason: string }) => [basename(s.file), s.reason]));
    const written = new Set<string>(report.results.map((e: { image: string }) => basename(e.image)));
    for (const file of corpus.files) {
      const name = basename(file.path);
      const reason = skipped.get(name);
      expect(written.has(name) !== (reason !== undefined), `${name}: written ${written.has(name)}, skipped ${reason}`).toBe(true);
      if (reason !== undefined) {
        expect(problemWithReason(reason), `${name}: ${reason}`).toBeUndefined();
        expect(r.stderr).toContain(`skipped ${file.path}: ${reason}`);
      }
      if (file.good) {
        expect(written.has(name), `good file ${name}: ${reason}`).toBe(true);
        const stem = name.replace(/\.[^.]+$/, '');
        expect(existsSync(join(out, `${stem}_mask.png`)), `${stem}_mask.png`).toBe(true);
      } else if (!file.mayDecode) expect(reason, `${name} (${file.kind}) was segmented`).toBeDefined();
    }
    expect(report.images).toMatchObject({ found: corpus.files.length, written: written.size });
  });
});
