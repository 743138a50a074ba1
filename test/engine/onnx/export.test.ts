/**
 * ONNX export of the LD network (main/engine/onnx/exportOnnx.ts) against the engine's own evaluation
 * forward on tfjs-wasm: same outputs on a real radiograph (BN folded and as nodes), a graph that the
 * ONNX checker accepts, dynamic N/H/W, and a stage-1 model without the clustering branch.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../../main/engine/backends';
import { LdOnnxModel } from '../../../main/engine/infer/onnxModel';
import { chwToHwc, hwcToChw, preprocessForNetwork } from '../../../main/engine/infer/preprocess';
import { applyPendingStats } from '../../../main/engine/model/batchNorm';
import { ldForward, type ForwardOptions } from '../../../main/engine/model/ldNet';
import { initModel, type NamedArray, type ParamStore } from '../../../main/engine/model/params';
import type { ModelConfig } from '../../../main/engine/model/spec';
import { buildLdOnnx, inferLdConfig, ONNX_IR_VERSION, ONNX_OPSET } from '../../../main/engine/onnx/exportOnnx';
import { Rng } from '../../../main/engine/rng';
import { tf } from '../../../main/engine/tf';
import { readImage } from '../../../main/io';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';

const CONFIG: ModelConfig = { inChannels: 1, embedDim: 32, clusters: 16 };
const EVAL: ForwardOptions = { training: false, filterGrad: 'im2col' };
const TOL = 1e-4;

let store: ParamStore;
let tensors: Map<string, NamedArray>;
let folded: LdOnnxModel;
let unfolded: LdOnnxModel;
let foldedBytes: Uint8Array;
const tmp = mkdtempSync(join(tmpdir(), 'ld-onnx-'));

/** A smooth synthetic batch (NHWC), values roughly in [−1, 1]. */
function synthetic(n: number, h: number, w: number, c: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    const fx = rng.uniform(0.05, 0.3);
    const fy = rng.uniform(0.05, 0.3);
    const ph = rng.uniform(0, 6);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
      out[((b * h + y) * w + x) * c + k] = 0.7 * Math.sin(fx * x + ph + k) * Math.cos(fy * y) + 0.2 * (rng.next() - 0.5);
    }
  }
  return out;
}

/** The engine's eval forward, as NCHW arrays. */
async function tfjsForward(nhwc: Float32Array, n: number, h: number, w: number, c: number) {
  const x = tf.tensor4d(nhwc, [n, h, w, c]);
  const { z, a } = ldForward(x, store, CONFIG, EVAL);
  const zData = (await z.data()) as Float32Array;
  const aData = a ? ((await a.data()) as Float32Array) : undefined;
  tf.dispose([x, z, a].filter((t): t is tf.Tensor4D => !!t));
  const toNchw = (d: Float32Array, ch: number) => {
    const out = new Float32Array(d.length);
    const per = h * w * ch;
    for (let b = 0; b < n; b++) out.set(hwcToChw(d.subarray(b * per, (b + 1) * per), h, w, ch), b * per);
    return out;
  };
  return { embedding: toNchw(zData, CONFIG.embedDim), clusters: aData && toNchw(aData, CONFIG.clusters) };
}

function nhwcToNchw(d: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(d.length);
  const per = h * w * c;
  for (let b = 0; b < n; b++) out.set(hwcToChw(d.subarray(b * per, (b + 1) * per), h, w, c), b * per);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

beforeAll(async () => {
  await activateBackend('wasm');
  store = initModel(CONFIG, new Rng(11));
  // Non-trivial BN running statistics: three training-mode forwards (momentum 0.1) on synthetic
  // images fill running_mean/var with real activation statistics; then γ, β and the variances are
  // perturbed so that nothing is the identity.
  const ctx: ForwardOptions = { training: true, filterGrad: 'im2col', pendingStats: [] };
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      ldForward(tf.tensor4d(synthetic(2, 64, 64, 1, 100 + i), [2, 64, 64, 1]), store, CONFIG, ctx);
    });
    applyPendingStats(ctx);
  }
  const rng = new Rng(5);
  for (const [name, v] of [...store.trainable, ...store.buffers]) {
    const n = v.shape.reduce((a, b) => a * b, 1);
    const draw = (f: () => number) => v.assign(tf.tensor(Float32Array.from({ length: n }, f), v.shape));
    const old = (await v.data()) as Float32Array;
    if (name.endsWith('.bn.gamma')) draw(() => rng.uniform(0.6, 1.4));
    else if (name.endsWith('.bn.beta')) draw(() => rng.uniform(-0.2, 0.2));
    else if (name.endsWith('.bn.running_var')) v.assign(tf.tensor(old.map((x) => x * rng.uniform(0.7, 1.5)), v.shape));
    else if (name.endsWith('.bn.running_mean')) v.assign(tf.tensor(old.map((x) => x + rng.uniform(-0.05, 0.05)), v.shape));
    else if (name.endsWith('.bias') && name.startsWith('enc')) draw(() => rng.uniform(-0.05, 0.05));
  }
  tensors = await store.toArrays();
  // Checkpoints carry Adam moments too: the exporter must ignore them.
  tensors.set('adam.m.enc1_1.weight', { shape: [3, 3, 1, 16], data: new Float32Array(144).fill(7) });
  foldedBytes = buildLdOnnx(tensors, { ...inferLdConfig(tensors), foldBatchNorm: true });
  folded = await LdOnnxModel.load(foldedBytes, { threads: 2 });
  unfolded = await LdOnnxModel.load(buildLdOnnx(tensors, { ...inferLdConfig(tensors), foldBatchNorm: false }), { threads: 2 });
});

afterAll(async () => {
  await folded?.dispose();
  await unfolded?.dispose();
  store?.dispose();
});

test('the checkpoint describes the model: channels, clusters, embedding size', () => {
  expect(inferLdConfig(tensors)).toEqual({ channels: 1, clusters: 16, embedDim: 32 });
  expect(folded.channels).toBe(1);
  expect(folded.embedDim).toBe(32);
  expect(folded.clusters).toBe(16);
  expect(folded.executionProvider).toBe('cpu');
});

describe.skipIf(!hasSharedData)(`parity with the tfjs eval forward on a real radiograph${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  test('hand/3167.png at 256 px long side: embedding and clusters within 1e-4, BN folded or as nodes', async () => {
    const record = await readImage(dataPath('landmarks/hand/3167.png'));
    const input = preprocessForNetwork(record, { channels: 1, size: 256 });
    expect([input.height, input.width]).toEqual([256, 176]); // 2350×1600 portrait
    const { height: h, width: w } = input;
    const ref = await tfjsForward(chwToHwc(input.data, 1, h, w), 1, h, w, 1);
    for (const [label, model] of [['folded', folded], ['nodes', unfolded]] as const) {
      const got = await model.run(input.data, 1, h, w);
      expect(got.shape).toEqual({ n: 1, h, w, embedDim: 32, clusters: 16 });
      const dz = maxAbsDiff(got.embedding, ref.embedding);
      const da = maxAbsDiff(got.clusters!, ref.clusters!);
      console.log(`[onnx parity ${label}] 256×176 real image: max |Δ| embedding ${dz.toExponential(2)}, clusters ${da.toExponential(2)}`);
      expect(dz).toBeLessThanOrEqual(TOL);
      expect(da).toBeLessThanOrEqual(TOL);
    }
    // The outputs are what they claim: unit-norm embeddings, clusters summing to 1, not degenerate.
    const { embedding } = await folded.run(input.data, 1, h, w);
    const n = h * w;
    let spread = 0;
    for (const i of [0, 1234, n - 1]) {
      let s = 0;
      for (let c = 0; c < 32; c++) s += embedding[c * n + i] ** 2;
      expect(Math.sqrt(s)).toBeCloseTo(1, 5);
      spread = Math.max(spread, Math.abs(embedding[i] - embedding[1234]));
    }
    expect(spread).toBeGreaterThan(1e-3);
  });
});

test('dynamic shapes: one session runs N=2 at 64×64 and at 96×128, matching tfjs', async () => {
  for (const [h, w] of [[64, 64], [96, 128], [64, 64]] as const) {
    const nhwc = synthetic(2, h, w, 1, h * 1000 + w);
    const ref = await tfjsForward(nhwc, 2, h, w, 1);
    const got = await folded.run(nhwcToNchw(nhwc, 2, h, w, 1), 2, h, w);
    expect(got.shape).toEqual({ n: 2, h, w, embedDim: 32, clusters: 16 });
    expect(got.embedding.length).toBe(2 * 32 * h * w);
    expect(got.clusters!.length).toBe(2 * 16 * h * w);
    expect(maxAbsDiff(got.embedding, ref.embedding)).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(got.clusters!, ref.clusters!)).toBeLessThanOrEqual(TOL);
    // per-pixel sums of the clustering map are 1
    const n = h * w;
    for (const i of [0, n + 17, 2 * n - 1]) {
      const b = Math.floor(i / n);
      const p = i % n;
      let s = 0;
      for (let k = 0; k < 16; k++) s += got.clusters![(b * 16 + k) * n + p];
      expect(s).toBeCloseTo(1, 5);
    }
  }
});

test('bad inputs are refused with a clear message', async () => {
  await expect(folded.run(new Float32Array(10), 1, 64, 64)).rejects.toThrow(/expected 1×1×64×64/);
  await expect(folded.run(new Float32Array(60 * 64), 1, 60, 64)).rejects.toThrow(/multiples of 16/);
  expect(() => buildLdOnnx(new Map(), { channels: 1, clusters: 16, embedDim: 32 })).toThrow(/no tensor 'enc1_1.weight'/);
  const wrong = new Map(tensors);
  wrong.set('u4_1.bias', { shape: [3], data: new Float32Array(3) });
  expect(() => buildLdOnnx(wrong, { channels: 1, clusters: 16, embedDim: 32 })).toThrow(/'u4_1.bias' has shape 3/);
});

test('a stage-1 model (no clustering branch) has only the embedding output', async () => {
  const bytes = buildLdOnnx(tensors, { channels: 1, clusters: 0, embedDim: 32 });
  const m = await LdOnnxModel.load(bytes, { threads: 2 });
  try {
    expect(m.clusters).toBe(0);
    const nhwc = synthetic(1, 32, 48, 1, 3);
    const got = await m.run(nhwcToNchw(nhwc, 1, 32, 48, 1), 1, 32, 48);
    expect(got.clusters).toBeUndefined();
    const ref = await tfjsForward(nhwc, 1, 32, 48, 1);
    expect(maxAbsDiff(got.embedding, ref.embedding)).toBeLessThanOrEqual(TOL);
  } finally {
    await m.dispose();
  }
});

test('CUDA is tried when asked and falls back to CPU with a note', async () => {
  const m = await LdOnnxModel.load(foldedBytes, { executionProviders: ['cuda'], threads: 1 });
  try {
    if (m.executionProvider === 'cuda') {
      console.log('[onnx] CUDA execution provider loaded on this machine');
    } else {
      expect(m.executionProvider).toBe('cpu');
      expect(m.notes.join(' ')).toMatch(/cuda execution provider unavailable/);
    }
    const out = await m.run(new Float32Array(16 * 16), 1, 16, 16);
    expect(out.embedding.length).toBe(32 * 16 * 16);
  } finally {
    await m.dispose();
  }
});

const python = '/usr/bin/python3';
const hasOnnxPython = spawnSync(python, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
if (!hasOnnxPython) console.warn(`[skip] ${python} cannot import onnx (Debian: apt-get install python3-onnx): the ONNX checker test is skipped`);

test.skipIf(!hasOnnxPython)('the ONNX checker accepts the exported graphs (full check, with shape inference)', () => {
  const files = [join(tmp, 'folded.onnx'), join(tmp, 'nodes.onnx'), join(tmp, 'stage1.onnx')];
  writeFileSync(files[0], foldedBytes);
  writeFileSync(files[1], buildLdOnnx(tensors, { channels: 1, clusters: 16, embedDim: 32, foldBatchNorm: false }));
  writeFileSync(files[2], buildLdOnnx(tensors, { channels: 1, clusters: 0, embedDim: 32 }));
  const script = `
import json, sys, onnx
out = []
for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    g = m.graph
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    out.append({"ir": m.ir_version, "opset": [(o.domain, o.version) for o in m.opset_import],
                "inputs": {v.name: dims(v) for v in g.input}, "outputs": {v.name: dims(v) for v in g.output},
                "ops": sorted(set(n.op_type for n in g.node))})
print(json.dumps(out))`;
  const res = spawnSync(python, ['-c', script, ...files], { encoding: 'utf8' });
  expect(res.status, res.stderr).toBe(0);
  const [f, b, s1] = JSON.parse(res.stdout) as Array<{ ir: number; opset: Array<[string, number]>; inputs: Record<string, unknown>; outputs: Record<string, unknown>; ops: string[] }>;
  expect(f.ir).toBe(ONNX_IR_VERSION);
  expect(f.opset).toEqual([['', ONNX_OPSET]]);
  expect(f.inputs).toEqual({ image: ['N', 1, 'H', 'W'] });
  expect(f.outputs).toEqual({ embedding: ['N', 32, 'H', 'W'], clusters: ['N', 16, 'H', 'W'] });
  expect(f.ops).toEqual(['Add', 'Concat', 'Conv', 'Div', 'MaxPool', 'Mul', 'ReduceSum', 'Relu', 'Resize', 'Sigmoid', 'Sqrt']);
  expect(b.ops).toContain('BatchNormalization');
  expect(s1.outputs).toEqual({ embedding: ['N', 32, 'H', 'W'] });
});
