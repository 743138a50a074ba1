/**
 * One optimisation step: forward the 5B-image batch, compute the stage's objective, back-propagate,
 * update BatchNorm running statistics and apply Adam. Returns the loss terms as numbers.
 */
import { tf } from '../tf';
import { applyPendingStats, type BnContext } from '../model/batchNorm';
import type { FilterGradMode } from '../model/conv';
import { ldForward } from '../model/ldNet';
import type { ParamStore } from '../model/params';
import type { ModelConfig } from '../model/spec';
import { ldLosses, type BatchMeta } from '../losses';
import type { Adam } from '../optim/adam';

export interface LossValues {
  pd: number;
  mix: number;
  rd?: number;
  ent?: number;
  loss: number;
}

export interface StepInput {
  /** NHWC, (5B, S, S, C). */
  x: Float32Array;
  shape: [number, number, number, number];
  meta: BatchMeta;
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
}

/** Rows of one micro-batch (pairs [p0, p0+m)) out of the 5B-row batch layout, with its metadata. */
export function microBatchInput(input: StepInput, p0: number, m: number): StepInput {
  const b = input.meta.pairs;
  const [, h, w, c] = input.shape;
  const px = h * w * c;
  const x = new Float32Array(5 * m * px);
  for (let block = 0; block < 5; block++) {
    x.set(input.x.subarray((block * b + p0) * px, (block * b + p0 + m) * px), block * m * px);
  }
  const src = input.meta.alignment.src;
  return {
    x,
    shape: [5 * m, h, w, c],
    meta: { ...input.meta, pairs: m, w: input.meta.w.slice(p0, p0 + m), alignment: { src: [...src.slice(p0, p0 + m), ...src.slice(b + p0, b + p0 + m)] } },
  };
}

/** Forward + backward of one pass; returns gradients by parameter name and the loss terms (kept). */
function forwardBackward(ctx: StepContext, input: StepInput, bn: BnContext) {
  const kept: Record<string, tf.Scalar> = {};
  const x = tf.tensor4d(input.x, input.shape);
  const { grads, value } = tf.variableGrads(() => {
    const out = ldForward(x, ctx.store, ctx.model, { ...bn, filterGrad: ctx.filterGrad });
    const terms = ldLosses(out, input.meta);
    for (const key of ['pd', 'mix', 'rd', 'ent'] as const) {
      const t = terms[key];
      if (t) kept[key] = tf.keep(t);
    }
    return terms.total;
  }, [...ctx.store.trainable.values()]);
  x.dispose();
  applyPendingStats(bn);
  const byName: Record<string, tf.Tensor> = {};
  for (const [name, v] of ctx.store.trainable) byName[name] = grads[v.name];
  kept.total = value;
  return { grads: byName, terms: kept };
}

export async function trainStep(ctx: StepContext, input: StepInput, lr: number): Promise<LossValues> {
  const pairs = input.meta.pairs;
  const m = Math.min(ctx.microBatch ?? pairs, pairs);
  if (pairs % m !== 0) throw new Error(`micro-batch ${m} must divide the batch ${pairs}`);
  const passes = pairs / m;
  const bn: BnContext = { training: true, pendingStats: [] };
  let grads: Record<string, tf.Tensor> = {};
  const sums: Record<string, number> = {};
  for (let p = 0; p < passes; p++) {
    const part = forwardBackward(ctx, passes === 1 ? input : microBatchInput(input, p * m, m), bn);
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
  return values;
}
