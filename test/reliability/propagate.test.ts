/**
 * Issue 16 (hardening): the malformed-input corpus (./corpus.ts) through `ld-studio propagate`, in
 * process as test/cli/propagate.test.ts runs it, with a tiny random-weight model and a good image of
 * the corpus as the template. No crash (exit 0, nothing thrown), every refused file in the report's
 * failures with a reason a person can read, and landmarks for every good file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propagateCommand } from '../../main/cli/propagate';
import { activateBackend } from '../../main/engine/backends';
import { initModel } from '../../main/engine/model/params';
import { Rng } from '../../main/engine/rng';
import { readImage } from '../../main/io';
import { readLandmarkFile, writeLandmarkFile } from '../../main/io/landmarks';
import { RunDir } from '../../main/jobs/runDir';
import { captureOutput, lastJsonLine } from '../helpers/captureOutput';
import { hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { makeCorpus, problemWithReason, type Corpus } from './corpus';

interface PropagateReport {
  images: number;
  failures: Array<{ image: string; error: string }>;
}

describe.skipIf(!hasSharedData)(`malformed inputs: propagate${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let root: string;
  let corpus: Corpus;
  let template: string;
  const runDir = () => join(root, 'run');
  const templateCsv = () => join(root, 'template.csv');

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ld-reliability-'));
    corpus = makeCorpus(root);
    await activateBackend('cpu');
    const run = new RunDir(runDir());
    run.create();
    const store = initModel({ inChannels: 1, embedDim: 32, clusters: 0 }, new Rng(7));
    run.writeCheckpoint({ step: 1, stage: 1, rng: [1, 2, 3, 4], adamStep: 1, tensors: await store.toArrays() }, 'interval');
    store.dispose();
    template = corpus.good.find((f) => f.path.endsWith('.png'))!.path;
    const { width, height } = await readImage(template);
    const points = [
      { x: 0.3 * width, y: 0.4 * height },
      { x: 0.6 * width, y: 0.7 * height },
    ];
    await writeLandmarkFile(templateCsv(), { landmarks: ['a', 'b'], images: [{ image: basename(template), width, height, points }] });
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('landmarks for every good image; every refused file named in failures with why', async () => {
    const out = join(root, 'out');
    const args = ['--model', runDir(), '--template', templateCsv(), '--template-image', template, '--images', corpus.dir, '--out', out, '--size', '64', '--threads', '1'];
    const r = await captureOutput(() => propagateCommand(args));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const report = lastJsonLine<PropagateReport>(r.stdout)!;
    const failed = new Map(report.failures.map((f) => [f.image, f.error]));
    const table = await readLandmarkFile(join(out, 'landmarks.csv'));
    const placed = new Set(table.images.map((i) => i.image));
    for (const file of corpus.files) {
      if (file.path === template) continue; // the template is not a target
      const name = basename(file.path);
      const error = failed.get(file.path);
      expect(placed.has(name) !== (error !== undefined), `${name}: placed ${placed.has(name)}, failed ${error}`).toBe(true);
      if (error !== undefined) {
        expect(problemWithReason(error), `${name}: ${error}`).toBeUndefined();
        expect(r.stderr).toContain(`skipped ${file.path}: `);
      }
      if (file.good) {
        expect(placed.has(name), `good file ${name}: ${error}`).toBe(true);
        const entry = table.images.find((i) => i.image === name)!;
        expect(entry.points.every((p) => p && Number.isFinite(p.x) && Number.isFinite(p.y)), name).toBe(true);
      } else if (!file.mayDecode) expect(error, `${name} (${file.kind}) got landmarks`).toBeDefined();
    }
    expect(report.images + report.failures.length).toBe(corpus.files.length - 1);
  });
});
