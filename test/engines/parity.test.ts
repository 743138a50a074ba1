/**
 * The two training engines compute the same thing: same weights + same fixed batch → every loss
 * term within 1e-4 (relative) and every parameter's gradient with cosine similarity ≥ 0.999.
 * Shape-guided (ld-method.md §5.4): the discriminator's forward, L_G and L_D, G's gradients through the
 * frozen D and D's gradients agree too.
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
import { initModel, ParamStore, type NamedArray } from '../../main/engine/model/params';
import { discriminatorForward, discriminatorLoss, fakeMaps, generatorLoss, initDiscriminator } from '../../main/engine/shapeGuided/discriminator';
import { drawPriorBatch, type PriorMask } from '../../main/engine/shapeGuided/priors';
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
    { stage: 1 as const, clusters: 0, channels: 1 as const, centreSigma: 2, negatives: 'image' as const },
    { stage: 2 as const, clusters: 16, channels: 1 as const, centreSigma: 0, negatives: 'image' as const },
  ])('stage $stage, K=$clusters, $channels channel(s), centre σ $centreSigma, negatives $negatives: losses and gradients agree', async ({ stage, clusters, channels, centreSigma = 0, negatives = 'batch' as 'batch' | 'image' }) => {
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
      const t = ldLosses(ldForward(x, store, model, { training: true, filterGrad: 'im2col' }), { pairs, w: batch.w, alignment, centreSigma, negatives });
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
      weights, stage, clusters, out, centreSigma, negatives,
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

/** Synthetic prior masks: ellipses of a few sizes, 8-bit like the loader's. */
function ellipses(): PriorMask[] {
  return [[180, 240], [220, 200], [260, 300]].map(([w, h], k) => {
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const u = (x - w / 2) / (w / (3 + k));
      const v = (y - h / 2) / (h / 3);
      data[y * w + x] = u * u + v * v < 1 ? 255 : 0;
    }
    return { id: `e${k}`, width: w, height: h, data };
  });
}

describe.skipIf(skip)(`tfjs ↔ PyTorch parity, shape-guided${skip ? ` (skipped: ${torchSkipReason || sharedDataSkipReason})` : ''}`, () => {
  beforeAll(async () => {
    await activateBackend('wasm');
  });

  test.each([{ slope: 0.01 }, { slope: 1 }])('discriminator slope $slope: D forward, L_G, L_D and both gradients agree', async ({ slope }) => {
    const size = 160; // the discriminator's minimum
    const pairs = 1;
    const clusters = 8;
    const dir = mkdtempSync(join(tmpdir(), 'ld-parity-sg-'));
    const { images } = await loadTrainingImages(dataPath('landmarks/hand'), { cropSize: size, channels: 1 });
    const rng = new Rng(7);
    const model = { inChannels: 1 as const, embedDim: 32, clusters };
    const store = initModel(model, rng);
    const disc = initDiscriminator(new ParamStore(), rng);
    const batch = makeBatch(images, rng, { pairs, cropSize: size, channels: 1 });
    const real = drawPriorBatch(ellipses(), rng, pairs, size);
    const shape: [number, number, number, number] = [batch.n, size, size, 1];
    const alignment = { src: Array.from({ length: 2 * pairs }, (_, i) => alignGridIndex(batch.f[i], batch.k[i], GRID)) };
    const opts = { slope, filterGrad: 'im2col' as const };

    const terms: Record<string, number> = {};
    let fake: tf.Tensor4D | undefined;
    const x = tf.tensor4d(batch.x, shape);
    const g = tf.variableGrads(() => {
      const out = ldForward(x, store, model, { training: true, filterGrad: 'im2col' });
      const t = ldLosses(out, { pairs, w: batch.w, alignment });
      for (const key of ['pd', 'mix', 'rd', 'ent'] as const) terms[key] = t[key]!.dataSync()[0];
      const f = fakeMaps(out.a!, 4 * pairs, 0);
      fake = tf.keep(f);
      const lg = generatorLoss(discriminatorForward(f, disc, opts));
      terms.g = lg.dataSync()[0];
      return tf.add(t.total, lg) as tf.Scalar;
    }, [...store.trainable.values()]);
    terms.total = (await g.value.data())[0];
    const realT = tf.tensor4d(real, [4 * pairs, size, size, 1]);
    let dOut: Float32Array = new Float32Array();
    const d = tf.variableGrads(() => {
      const p = discriminatorForward(tf.concat([realT, fake!], 0) as tf.Tensor4D, disc, opts);
      dOut = p.dataSync() as Float32Array;
      return discriminatorLoss(tf.slice(p, [0], [4 * pairs]), tf.slice(p, [4 * pairs], [4 * pairs]));
    }, [...disc.trainable.values()]);
    terms.d = (await d.value.data())[0];

    const weights = join(dir, 'weights.safetensors');
    writeSafetensors(weights, new Map([...(await store.toArrays()), ...(await disc.toArrays())]), { format: 'ld-studio/checkpoint@1', engine: 'tfjs' });
    const xFile = join(dir, 'x.f32');
    writeFileSync(xFile, new Uint8Array(batch.x.buffer, batch.x.byteOffset, batch.x.byteLength));
    const realFile = join(dir, 'real.f32');
    writeFileSync(realFile, new Uint8Array(real.buffer, real.byteOffset, real.byteLength));
    const out = join(dir, 'out.safetensors');
    const request = join(dir, 'request.json');
    writeFileSync(request, JSON.stringify({
      weights, stage: 2, clusters, out,
      batch: { file: xFile, shape, pairs, w: Array.from(batch.w), f: Array.from(batch.f), k: Array.from(batch.k) },
      shapeGuided: { slope, cluster: 0, gWeight: 1, real: { file: realFile, shape: [4 * pairs, size, size, 1] } },
    }));
    const res = spawnSync(torchPython, ['-m', 'ld_torch', 'parity', '--request', request], { encoding: 'utf8', env: engineEnv(), timeout: 300_000 });
    expect(res.status, res.stderr).toBe(0);
    const torchOut = readSafetensors(out).tensors;

    let worstLoss = 0;
    for (const key of ['pd', 'mix', 'rd', 'ent', 'g', 'd', 'total']) {
      const theirs = torchOut.get(`loss.${key}`)!.data[0];
      const rel = Math.abs(terms[key] - theirs) / Math.abs(theirs);
      worstLoss = Math.max(worstLoss, rel);
      expect(rel, `loss ${key}: tfjs ${terms[key]} torch ${theirs}`).toBeLessThanOrEqual(1e-4);
    }
    const theirD = torchOut.get('d.out')!.data;
    expect(theirD.length).toBe(8 * pairs);
    const worstD = Math.max(...Array.from(dOut, (v, i) => Math.abs(v - theirD[i])));
    expect(worstD).toBeLessThan(1e-5);

    let worstCosine = 1;
    let checked = 0;
    const compare = async (storeOf: ParamStore, grads: Record<string, tf.Tensor>) => {
      worstCosine = 1;
      for (const [name, v] of storeOf.trainable) {
        const ours = (await grads[v.name].data()) as Float32Array;
        const theirs: NamedArray | undefined = torchOut.get(`grad.${name}`);
        expect(theirs, `torch gave no gradient for ${name}`).toBeDefined();
        expect(theirs!.shape).toEqual(v.shape);
        if (name.endsWith('.bias') && !/emb_2|clu_2|disc_/.test(name)) continue; // before BatchNorm: zero
        const c = cosine(ours, theirs!.data);
        worstCosine = Math.min(worstCosine, c);
        expect(c, `gradient of ${name}`).toBeGreaterThanOrEqual(0.999);
        checked++;
      }
      return worstCosine;
    };
    const worstG = await compare(store, g.grads);
    const worstDisc = await compare(disc, d.grads);
    console.log(`parity shape-guided, slope ${slope}: worst loss rel. diff ${worstLoss.toExponential(2)} (L_G ${terms.g.toFixed(5)}, L_D ${terms.d.toFixed(5)}), D output max |Δ| ${worstD.toExponential(2)}, worst gradient cosine G ${worstG.toFixed(6)} (through the frozen D), D ${worstDisc.toFixed(6)}, over ${checked} tensors`);
    expect(checked).toBeGreaterThan(60);
    tf.dispose([x, realT, fake!, g.value, d.value, ...Object.values(g.grads), ...Object.values(d.grads)]);
    store.dispose();
    disc.dispose();
  });
});
