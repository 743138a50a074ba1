/**
 * The two training engines compute the same thing: same weights + same fixed batch → every loss
 * term within 1e-4 (relative) and every parameter's gradient with cosine similarity ≥ 0.999.
 * Shape-guided (ld-method.md §5.4): the discriminator's forward, L_G and L_D, G's gradients through the
 * frozen D and D's gradients agree too. With a view-2 warp (augment.viewWarp) the tfjs batch's warps go
 * to Python with it, and both engines take their warped patch losses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../../main/engine/backends';
import { alignGridIndex, makeBatch } from '../../../main/engine/data';
import { drawWarp, PAPER_GEOMETRY, warpMatrix } from '../../../main/engine/data/augment';
import { cellCentres, GRID, ldLosses, warpedPatchLosses, warpPoints } from '../../../main/engine/losses';
import { l2normalize, ldForward } from '../../../main/engine/model/ldNet';
import { initModel, ParamStore, type NamedArray } from '../../../main/engine/model/params';
import { discriminatorForward, discriminatorLoss, fakeMaps, generatorLoss, initDiscriminator } from '../../../main/engine/shapeGuided/discriminator';
import { drawPriorBatch, type PriorMask } from '../../../main/engine/shapeGuided/priors';
import { Rng } from '../../../main/engine/rng';
import { tf } from '../../../main/engine/tf';
import { loadTrainingImages } from '../../../main/jobs/trainingImages';
import { readSafetensors, writeSafetensors } from '../../../main/io/safetensors';
import { engineEnv } from '../../../main/jobs/torch/findPython';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';
import { hasTorch, torchPython, torchSkipReason } from '../../helpers/torch';

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
    { stage: 1 as const, clusters: 0, channels: 1 as const, centreSigma: 2, viewWarp: [1.25, 10, 0.1] as const },
    { stage: 2 as const, clusters: 16, channels: 1 as const, centreSigma: 2, viewWarp: [1.25, 10, 0.1] as const },
    { stage: 1 as const, clusters: 0, channels: 1 as const, centreSigma: 2, negatives: 'image' as const, viewWarp: [1.3, 20, 0.15] as const },
  ])('stage $stage, K=$clusters, $channels channel(s), centre σ $centreSigma, negatives $negatives, view warp $viewWarp: losses and gradients agree', async ({ stage, clusters, channels, centreSigma = 0, negatives = 'batch' as 'batch' | 'image', viewWarp }: { stage: 1 | 2; clusters: number; channels: 1 | 3; centreSigma: number; negatives?: 'batch' | 'image'; viewWarp?: readonly [number, number, number] }) => {
    const size = 64;
    const pairs = 2;
    const dir = mkdtempSync(join(tmpdir(), 'ld-parity-'));
    const { images } = await loadTrainingImages(dataPath('landmarks/hand'), { cropSize: size, channels });
    const rng = new Rng(42);
    const model = { inChannels: channels, embedDim: 32, clusters };
    const store = initModel(model, rng);
    const geometry = viewWarp ? { ...PAPER_GEOMETRY, view2Turns: false, viewWarp } : undefined;
    const batch = makeBatch(images, rng, { pairs, cropSize: size, channels, geometry });
    expect(batch.warps !== undefined).toBe(viewWarp !== undefined);
    // cells whose warped centre leaves view 2 (dropped from L_PD)
    let dropped = 0;
    if (batch.warps) {
      const moved = warpPoints(batch.warps, cellCentres(size, size));
      for (let i = 0; i < moved.length; i += 2) if (!(moved[i] > 0 && moved[i] < size && moved[i + 1] > 0 && moved[i + 1] < size)) dropped++;
    }
    const shape: [number, number, number, number] = [batch.n, size, size, channels];
    const alignment = { src: Array.from({ length: 2 * pairs }, (_, i) => alignGridIndex(batch.f[i], batch.k[i], GRID)) };

    // tfjs: forward in train mode, every loss term, gradients of the total
    const terms: Record<string, number> = {};
    const x = tf.tensor4d(batch.x, shape);
    const { grads, value } = tf.variableGrads(() => {
      const t = ldLosses(ldForward(x, store, model, { training: true, filterGrad: 'im2col' }), { pairs, w: batch.w, alignment, centreSigma, negatives, warps: batch.warps });
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
      batch: { file: xFile, shape, pairs, w: Array.from(batch.w), f: Array.from(batch.f), k: Array.from(batch.k), ...(batch.warps ? { warps: Array.from(batch.warps) } : {}) },
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
    console.log(`parity stage ${stage} K=${clusters} C=${channels} σ=${centreSigma} negatives ${negatives}${viewWarp ? ` view warp ${viewWarp.join(',')} (${dropped} of ${2 * pairs * GRID * GRID} cells dropped)` : ''}: worst loss rel. diff ${worstLoss.toExponential(2)}, worst gradient cosine ${worstCosine.toFixed(6)} over ${checked} tensors`);
    expect(checked).toBeGreaterThan(60);
    tf.dispose([x, value, ...Object.values(grads)]);
    store.dispose();
  });
});

const TORCH_WARPED_LOSSES = `
import json, sys
import numpy as np, torch
from ld_torch.losses import warped_patch_losses
req = json.load(open(sys.argv[1]))
n, h, w, d = req["shape"]
z = torch.from_numpy(np.fromfile(req["z"], dtype="<f4").reshape(n, h, w, d)).permute(0, 3, 1, 2).double().requires_grad_(True)
pd, mix = warped_patch_losses(z, req["pairs"], torch.tensor(req["w"]), torch.tensor(req["warps"], dtype=torch.float64).reshape(-1, 2, 3),
                              req["sigma"], req["negatives"])
(pd + mix).backward()
z.grad.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(req["grad"])
print(json.dumps({"pd": float(pd), "mix": float(mix)}))
`;

describe.skipIf(!hasTorch)(`warped patch losses alone, tfjs ↔ PyTorch (float64)${hasTorch ? '' : ` (skipped: ${torchSkipReason})`}`, () => {
  beforeAll(async () => {
    await activateBackend('wasm');
  });

  test.each(['batch', 'image'] as const)('negatives %s: L_PD, L_mix and dL/dz of a fixed z agree', async (negatives) => {
    const pairs = 2;
    const size = 48;
    const d = 32;
    const n = 5 * pairs;
    const sigma = 2.5;
    const dir = mkdtempSync(join(tmpdir(), 'ld-warped-'));
    const rng = new Rng(3);
    const z = tf.tidy(() => l2normalize(tf.avgPool(tf.tensor4d(Float32Array.from({ length: n * size * size * d }, () => rng.uniform(-1, 1)), [n, size, size, d]), 5, 1, 'same'))) as tf.Tensor4D;
    const warps = new Float64Array(2 * pairs * 6);
    for (let v = 0; v < 2 * pairs; v++) warps.set(warpMatrix(drawWarp(rng, [1.3, 20, 0.15]), size), 6 * v);
    const w = new Float32Array([0.3, 0.7]);
    const meta = { pairs, w, alignment: { src: [] }, centreSigma: sigma, negatives, warps };
    const terms = warpedPatchLosses(z, meta);
    const ours = { pd: terms.pd.dataSync()[0], mix: terms.mix.dataSync()[0] };
    const grad = tf.grad((zz: tf.Tensor) => {
      const t = warpedPatchLosses(zz as tf.Tensor4D, meta);
      return tf.add(t.pd, t.mix) as tf.Scalar;
    })(z);
    const g = (await grad.data()) as Float32Array;

    const zFile = join(dir, 'z.f32');
    const zData = (await z.data()) as Float32Array;
    writeFileSync(zFile, new Uint8Array(zData.buffer, zData.byteOffset, zData.byteLength));
    const gradFile = join(dir, 'grad.f32');
    const request = join(dir, 'request.json');
    writeFileSync(request, JSON.stringify({ z: zFile, grad: gradFile, shape: [n, size, size, d], pairs, w: Array.from(w), warps: Array.from(warps), sigma, negatives }));
    const res = spawnSync(torchPython, ['-c', TORCH_WARPED_LOSSES, request], { encoding: 'utf8', env: engineEnv(), timeout: 120_000 });
    expect(res.status, res.stderr).toBe(0);
    const theirs = JSON.parse(res.stdout) as { pd: number; mix: number };
    for (const key of ['pd', 'mix'] as const) expect(Math.abs(ours[key] - theirs[key]) / Math.abs(theirs[key]), key).toBeLessThanOrEqual(1e-5);
    const tg = new Float32Array(readFileSync(gradFile).buffer.slice(0));
    expect(tg.length).toBe(g.length);
    let maxDiff = 0;
    let maxG = 0;
    for (let i = 0; i < g.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(g[i] - tg[i]));
      maxG = Math.max(maxG, Math.abs(tg[i]));
    }
    const c = cosine(g, tg);
    console.log(`warped losses (negatives ${negatives}): L_PD rel. diff ${(Math.abs(ours.pd - theirs.pd) / theirs.pd).toExponential(2)}, L_mix ${(Math.abs(ours.mix - theirs.mix) / theirs.mix).toExponential(2)}, dL/dz cosine 1 − ${(1 - c).toExponential(2)}, max |Δ|/max |g| ${(maxDiff / maxG).toExponential(2)}`);
    expect(c).toBeGreaterThanOrEqual(0.99999);
    expect(maxDiff / maxG).toBeLessThanOrEqual(1e-4);
    tf.dispose([z, grad, terms.pd, terms.mix]);
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
