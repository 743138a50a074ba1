/**
 * train:clusterMap with a model that has a clustering branch (a stage-2 checkpoint; random weights
 * are enough to check the path: argmax of the `clusters` output, drawn at the image's size).
 */
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../../main/engine/backends';
import { initModel } from '../../main/engine/model/params';
import { Rng } from '../../main/engine/rng';
import { RunDir } from '../../main/jobs/runDir';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { harness, type Harness } from './harness';

describe.skipIf(!hasSharedData)(`cluster map from a clustering branch${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  let imageId: string;
  beforeAll(async () => {
    await activateBackend('cpu');
    h = harness();
    const project = await h.invoke('project:create', { dir: join(h.root, 'project') });
    const res = await h.invoke('images:import', { jobId: 'i', paths: [dataPath('landmarks/hand/7088.png')] });
    imageId = res.imported[0].id;
    // a stage-2 run folder with one checkpoint, registered in the project as the app would
    const run = new RunDir(join(project.dir, 'runs', 'run-stage2'));
    run.create();
    const store = initModel({ inChannels: 1, embedDim: 32, clusters: 6 }, new Rng(5));
    run.writeCheckpoint({ step: 1, stage: 2, rng: [1, 2, 3, 4], adamStep: 1, tensors: await store.toArrays() }, 'final');
    store.dispose();
    const settings = { stage: '2' as const, steps: 1, size: 64, batch: 1, lr: 1e-3, lrHalveEvery: 10, clusters: 6, seed: 0, checkpointEvery: 1, centreSensitive: false };
    run.writeInfo({
      schema: 'ld-studio/run@1', status: 'completed', createdAt: new Date().toISOString(), updatedAt: '', engine: 'tfjs', backend: 'cpu', backendReason: 'test',
      versions: {}, images: { dir: project.dir, count: 1, failures: 0 }, settings: { ...settings, stage1Steps: 0, channels: 1, embedDim: 32 }, completedSteps: 1,
    });
    h.table.session.requireProject().change('test run', (d) => d.runs.push({ id: 'run-stage2', dir: 'runs/run-stage2', engine: 'tfjs', backend: 'cpu', settings, createdAt: new Date().toISOString() }));
  });
  afterAll(() => h?.dispose());

  it('uses the argmax of the clustering branch, as a semi-transparent overlay at the image size', async () => {
    const snapshot = (await h.invoke('project:get'))!;
    expect(snapshot.runs[0]).toMatchObject({ id: 'run-stage2', status: 'completed', hasCheckpoint: true, step: 1 });
    const map = await h.invoke('train:clusterMap', { runId: 'run-stage2', imageId });
    expect(map).toMatchObject({ source: 'clustering-branch', clusters: 6 });
    const png = PNG.sync.read(Buffer.from(map.dataUrl.split(',')[1], 'base64'));
    const image = snapshot.images[0];
    expect([png.width, png.height]).toEqual([image.width, image.height]);
    expect(png.data[3]).toBeLessThan(255);
    await expect(h.invoke('train:clusterMap', { runId: 'run-none', imageId })).rejects.toThrow(/no run 'run-none'/);
  });
});
