/**
 * ONNX from either engine: a checkpoint trained by the PyTorch engine, exported by PyTorch's own
 * exporter and by ours, gives the same outputs in onnxruntime-node on a real radiograph.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { LdOnnxModel } from '../../../main/engine/infer/onnxModel';
import { preprocessForNetwork } from '../../../main/engine/infer/preprocess';
import { readImage } from '../../../main/io';
import { RunDir } from '../../../main/jobs/runDir';
import { engineEnv } from '../../../main/jobs/torch/findPython';
import { runCli } from '../../helpers/cli';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';
import { hasTorch, torchPython, torchSkipReason } from '../../helpers/torch';

const skip = !hasTorch || !hasSharedData;
describe.skipIf(skip)(`ONNX from a PyTorch-trained checkpoint${skip ? ` (skipped: ${torchSkipReason || sharedDataSkipReason})` : ''}`, () => {
  test("PyTorch's exporter and ours agree in onnxruntime-node (≤ 1e-4)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ld-onnx-torch-'));
    const runDir = join(dir, 'run');
    const train = await runCli(['pretrain', '--engine', 'torch', '--images', dataPath('landmarks/hand'), '--out', runDir, '--size', '64', '--batch', '1', '--steps', '3']);
    expect(train.code, train.stderr).toBe(0);
    const checkpoint = new RunDir(runDir).checkpointPath(3);

    const ours = join(dir, 'ours.onnx');
    const exported = await runCli(['export-onnx', '--model', runDir, '--out', ours]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ out: ours, checkpoint, clusters: 16, channels: 1 });

    const theirs = join(dir, 'torch.onnx');
    const request = join(dir, 'export.json');
    writeFileSync(request, JSON.stringify({ checkpoint, out: theirs, clusters: 16, channels: 1, opset: 17 }));
    const res = spawnSync(torchPython, ['-m', 'ld_torch', 'export-onnx', '--request', request], { encoding: 'utf8', env: engineEnv(), timeout: 300_000 });
    expect(res.status, res.stderr).toBe(0);

    const input = preprocessForNetwork(await readImage(dataPath('landmarks/hand/3167.png')), { channels: 1, size: 256 });
    const a = await LdOnnxModel.load(ours, { executionProviders: ['cpu'] });
    const b = await LdOnnxModel.load(theirs, { executionProviders: ['cpu'] });
    const ra = await a.run(input.data, 1, input.height, input.width);
    const rb = await b.run(input.data, 1, input.height, input.width);
    const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    expect(ra.embedding.length).toBe(32 * input.height * input.width);
    expect(maxDiff(ra.embedding, rb.embedding)).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(ra.clusters!, rb.clusters!)).toBeLessThanOrEqual(1e-4);
    await a.dispose();
    await b.dispose();
  });
});
