/**
 * One optimisation step: forward the 5B-image batch, compute the stage's objective, back-propagate,
 * update BatchNorm running statistics and apply Adam. Returns the loss terms as numbers.
 *
 * Shape-guided (ld-method.md §5.4, when the context has `shape`): G's objective adds gWeight·L_G with
 * L_G = BCE(D(a[:4B, cluster]), 1), differentiated with respect to G's parameters only (D is frozen);
 * G steps; then D steps on BCE(D([real; stop-gradient(fake)]), [1; 0]) with the fakes of this step's
 * forward, i.e. from before G's update, at lr × discLrFactor.
 */
import { tf } from '../tf';
import { applyPendingStats, type BnContext } from '../model/batchNorm';
import type { FilterGradMode } from '../model/conv';
import { ldForward } from '../model/ldNet';
import type { ParamStore } from '../model/params';
import type { ModelConfig } from '../model/spec';
import { ldLosses, type BatchMeta } from '../losses';
import type { Adam } from '../optim/adam';
import { discriminatorForward, discriminatorLoss, fakeMaps, generatorLoss } from '../shapeGuided/discriminator';

export interface LossValues {
  pd: number;
  mix: number;
  rd?: number;
  ent?: number;
  /** Shape-guided: the generator loss L_G (included in `loss` with its weight). */
  g?: number;
  /** Shape-guided: the discriminator's loss (not part of `loss`). */
  d?: number;
  loss: number;
}

export interface StepInput {
  /** NHWC, (5B, S, S, C). */
  x: Float32Array;
  shape: [number, number, number, number];
  meta: BatchMeta;
  /** Shape-guided: the 4B real prior masks, NHWC (4B, S, S, 1), values 0/1. */
  real?: Float32Array;
}

export interface ShapeStepContext {
  disc: ParamStore;
  discAdam: Adam;
  /** Discriminator LeakyReLU slope (the reference's bug: 1). */
  slope: number;
  gWeight: number;
  discLrFactor: number;
  /** The clustering channel the prior constrains. */
  cluster: number;
}

export interface StepContext {
  store: ParamStore;
  model: ModelConfig;
  adam: Adam;
  filterGrad: FilterGradMode;
  /**
   * Pairs per forward/backward pass (default: all B at once, the paper's objective). Smaller values
   * trade fidelity for memory: the losses' negatives and BatchNorm statistics then come from each
   * micro-batch, and the gradients are averaged.
   */
  microBatch?: number;
  /** Shape-guided training: the discriminator and its optimiser. */
  shape?: ShapeStepContext;
}

/** Rows of one micro-batch (pairs [p0, p0+m)) out of the 5B-row batch layout, with its metadata (mixup weights, view-2 alignment and warps). */
export function microBatchInput(input: StepInput, p0: number, m: number): StepInput {
  const b = input.meta.pairs;
  const [, h, w, c] = input.shape;
  const px = h * w * c;
  const x = new Float32Array(5 * m * px);
  for (let block = 0; block < 5; block++) {
    x.set(input.x.subarray((block * b + p0) * px, (block * b + p0 + m) * px), block * m * px);
  }
  const src = input.meta.alignment.src;
  const meta = { ...input.meta, pairs: m, w: input.meta.w.slice(p0, p0 + m), alignment: { src: [...src.slice(p0, p0 + m), ...src.slice(b + p0, b + p0 + m)] } };
  const warps = input.meta.warps;
  if (warps) {
    // the view-2 rows' warps in the order of the micro-batch's rows 2m..4m−1 (as alignment.src)
    meta.warps = new Float64Array(2 * m * 6);
    meta.warps.set(warps.subarray(p0 * 6, (p0 + m) * 6), 0);
    meta.warps.set(warps.subarray((b + p0) * 6, (b + p0 + m) * 6), m * 6);
  }
  return { x, shape: [5 * m, h, w, c], meta };
}

/** Forward + backward of one pass; returns gradients by parameter name and the loss terms (kept). */
function forwardBackward(ctx: StepContext, input: StepInput, bn: BnContext) {
  const kept: Record<string, tf.Scalar> = {};
  let fake: tf.Tensor4D | undefined;
  const x = tf.tensor4d(input.x, input.shape);
  const shape = ctx.shape;
  const { grads, value } = tf.variableGrads(() => {
    const out = ldForward(x, ctx.store, ctx.model, { ...bn, filterGrad: ctx.filterGrad });
    const terms = ldLosses(out, input.meta);
    for (const key of ['pd', 'mix', 'rd', 'ent'] as const) {
      const t = terms[key];
      if (t) kept[key] = tf.keep(t);
    }
    if (!shape) return terms.total;
    if (!out.a) throw new Error('shape-guided training needs the clustering branch (stage 2)');
    const f = fakeMaps(out.a, 4 * input.meta.pairs, shape.cluster);
    fake = tf.keep(f);
    // D's variables are not in the list below: L_G moves G only (D is frozen during G's step)
    const g = generatorLoss(discriminatorForward(f, shape.disc, { slope: shape.slope, filterGrad: ctx.filterGrad }));
    kept.g = tf.keep(g);
    return tf.add(terms.total, tf.mul(g, shape.gWeight)) as tf.Scalar;
  }, [...ctx.store.trainable.values()]);
  x.dispose();
  applyPendingStats(bn);
  const byName: Record<string, tf.Tensor> = {};
  for (const [name, v] of ctx.store.trainable) byName[name] = grads[v.name];
  kept.total = value;
  return { grads: byName, terms: kept, fake };
}

/** D's step on [real; fake] (fake: G's maps from before its update, constants here). Returns L_D. */
async function discriminatorStep(shape: ShapeStepContext, real: Float32Array, fakes: tf.Tensor4D[], lr: number, filterGrad: FilterGradMode): Promise<number> {
  const [, h, w] = fakes[0].shape;
  const rows = real.length / (h * w);
  const realT = tf.tensor4d(real, [rows, h, w, 1]);
  const both = tf.concat([realT, ...fakes], 0) as tf.Tensor4D;
  const { grads, value } = tf.variableGrads(() => {
    const p = discriminatorForward(both, shape.disc, { slope: shape.slope, filterGrad });
    return discriminatorLoss(tf.slice(p, [0], [rows]), tf.slice(p, [rows], [p.shape[0] - rows]));
  }, [...shape.disc.trainable.values()]);
  const byName: Record<string, tf.Tensor> = {};
  for (const [name, v] of shape.disc.trainable) byName[name] = grads[v.name];
  shape.discAdam.apply(shape.disc.trainable, byName, lr * shape.discLrFactor);
  const d = (await value.data())[0];
  tf.dispose([realT, both, value, ...Object.values(grads)]);
  return d;
}

export async function trainStep(ctx: StepContext, input: StepInput, lr: number): Promise<LossValues> {
  const pairs = input.meta.pairs;
  const m = Math.min(ctx.microBatch ?? pairs, pairs);
  if (pairs % m !== 0) throw new Error(`micro-batch ${m} must divide the batch ${pairs}`);
  const passes = pairs / m;
  const bn: BnContext = { training: true, pendingStats: [] };
  let grads: Record<string, tf.Tensor> = {};
  const sums: Record<string, number> = {};
  const fakes: tf.Tensor4D[] = [];
  if (ctx.shape && !input.real) throw new Error('shape-guided step without real prior masks');
  for (let p = 0; p < passes; p++) {
    const part = forwardBackward(ctx, passes === 1 ? input : microBatchInput(input, p * m, m), bn);
    if (part.fake) fakes.push(part.fake);
    for (const [name, g] of Object.entries(part.grads)) {
      if (passes === 1) grads[name] = g;
      else {
        const scaled = tf.mul(g, 1 / passes);
        g.dispose();
        const prev = grads[name];
        grads[name] = prev ? tf.add(prev, scaled) : scaled;
        if (prev) tf.dispose([prev, scaled]);
      }
    }
    for (const [key, t] of Object.entries(part.terms)) {
      sums[key] = (sums[key] ?? 0) + (await t.data())[0] / passes;
      t.dispose();
    }
  }
  ctx.adam.apply(ctx.store.trainable, grads, lr);
  tf.dispose(Object.values(grads));
  grads = {};
  const values: LossValues = { pd: sums.pd, mix: sums.mix, loss: sums.total };
  if (sums.rd !== undefined) values.rd = sums.rd;
  if (sums.ent !== undefined) values.ent = sums.ent;
  if (ctx.shape) {
    values.g = sums.g;
    values.d = await discriminatorStep(ctx.shape, input.real!, fakes, lr, ctx.filterGrad);
    tf.dispose(fakes);
  }
  return values;
}
