/**
 * The two training engines compute the same thing: same weights + same fixed batch → every loss
 * term within 1e-4 (relative) and every parameter's gradient with cosine similarity ≥ 0.999.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../main/engine/backends';
import { alignGridIndex, makeBatch } from '../../main/engine/data';
import { GRID, ldLosses } from '../../main/engine/losses';
import { ldForward } from '../../main/engine/model/ldNet';
import { initModel, type NamedArray } from '../../main/engine/model/params';
import { Rng } from '../../main/engine/rng';
import { tf } from '../../main/engine/tf';
import { loadTrainingImages } from '../../main/jobs/trainingImages';
import { readSafetensors, writeSafetensors } from '../../main/project/safetensors';
import { engineEnv } from '../../main/torch/findPython';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { hasTorch, torchPython, torchSkipReason } from '../helpers/torch';

const cosine = (a: Float32Array, b: Float32Array) => {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
};

const skip = !hasTorch || !hasSharedData;
describe.skipIf(skip)(`tfjs ↔ PyTorch parity${skip ? ` (skipped: ${torchSkipReason || sharedDataSkipReason})` : ''}`, () => {
  beforeAll(async () => {
    await activateBackend('wasm');
  });

  test.each([
    { stage: 2 as const, clusters: 16, channels: 1 as const, centreSigma: 0 },
    { stage: 1 as const, clusters: 0, channels: 1 as const, centreSigma: 0 },
    { stage: 2 as const, clusters: 8, channels: 3 as const, centreSigma: 0 },
    { stage: 1 as const, clusters: 0, channels: 1 as const, centreSigma: 2 },
  ])('stage $stage, K=$clusters, $channels channel(s), centre σ $centreSigma: losses and gradients agree', async ({ stage, clusters, channels, centreSigma = 0 }) => {
    const size = 64;
    const pairs = 2;
    const dir = mkdtempSync(join(tmpdir(), 'ld-parity-'));
    const { images } = await loadTrainingImages(dataPath('landmarks/hand'), { cropSize: size, channels });
    const rng = new Rng(42);
    const model = { inChannels: channels, embedDim: 32, clusters };
    const store = initModel(model, rng);
    const batch = makeBatch(images, rng, { pairs, cropSize: size, channels });
    const shape: [number, number, number, number] = [batch.n, size, size, channels];
    const alignment = { src: Array.from({ length: 2 * pairs }, (_, i) => alignGridIndex(batch.f[i], batch.k[i], GRID)) };

    // tfjs: forward in train mode, every loss term, gradients of the total
    const terms: Record<string, number> = {};
    const x = tf.tensor4d(batch.x, shape);
    const { grads, value } = tf.variableGrads(() => {
      const t = ldLosses(ldForward(x, store, model, { training: true, filterGrad: 'im2col' }), { pairs, w: batch.w, alignment, centreSigma });
      for (const key of ['pd', 'mix', 'rd', 'ent'] as const) if (t[key]) terms[key] = t[key]!.dataSync()[0];
      return t.total;
    }, [...store.trainable.values()]);
    terms.total = (await value.data())[0];

    // PyTorch: the same weights and batch
    const weights = join(dir, 'weights.safetensors');
    writeSafetensors(weights, await store.toArrays(), { format: 'ld-studio/checkpoint@1', engine: 'tfjs' });
    const xFile = join(dir, 'x.f32');
    writeFileSync(xFile, new Uint8Array(batch.x.buffer, batch.x.byteOffset, batch.x.byteLength));
    const out = join(dir, 'out.safetensors');
    const request = join(dir, 'request.json');
    writeFileSync(request, JSON.stringify({
      weights, stage, clusters, out, centreSigma,
      batch: { file: xFile, shape, pairs, w: Array.from(batch.w), f: Array.from(batch.f), k: Array.from(batch.k) },
    }));
    const res = spawnSync(torchPython, ['-m', 'ld_torch', 'parity', '--request', request], { encoding: 'utf8', env: engineEnv(), timeout: 300_000 });
    expect(res.status, res.stderr).toBe(0);
    const torchOut = readSafetensors(out).tensors;

    let worstLoss = 0;
    let worstCosine = 1;
    for (const key of Object.keys(terms)) {
      const theirs = torchOut.get(`loss.${key}`)!.data[0];
      worstLoss = Math.max(worstLoss, Math.abs(terms[key] - theirs) / Math.abs(theirs));
      expect(Math.abs(terms[key] - theirs) / Math.abs(theirs), `loss ${key}: tfjs ${terms[key]} torch ${theirs}`).toBeLessThanOrEqual(1e-4);
    }
    if (stage === 1) expect(terms.rd).toBeUndefined();

    let checked = 0;
    for (const [name, v] of store.trainable) {
      const ours = (await grads[v.name].data()) as Float32Array;
      const theirs: NamedArray | undefined = torchOut.get(`grad.${name}`);
      expect(theirs, `torch gave no gradient for ${name}`).toBeDefined();
      expect(theirs!.shape).toEqual(v.shape);
      // A conv bias before BatchNorm has (mathematically) zero gradient: compare magnitudes instead.
      if (name.endsWith('.bias') && !/emb_2|clu_2/.test(name)) {
        expect(Math.sqrt(ours.reduce((s, g) => s + g * g, 0))).toBeLessThan(1e-3);
        continue;
      }
      const c = cosine(ours, theirs!.data);
      worstCosine = Math.min(worstCosine, c);
      expect(c, `gradient of ${name}`).toBeGreaterThanOrEqual(0.999);
      checked++;
    }
    console.log(`parity stage ${stage} K=${clusters} C=${channels}: worst loss rel. diff ${worstLoss.toExponential(2)}, worst gradient cosine ${worstCosine.toFixed(6)} over ${checked} tensors`);
    expect(checked).toBeGreaterThan(60);
    tf.dispose([x, value, ...Object.values(grads)]);
    store.dispose();
  });
});
