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
}

export async function trainStep(ctx: StepContext, input: StepInput, lr: number): Promise<LossValues> {
  const bn: BnContext = { training: true, pendingStats: [] };
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
  ctx.adam.apply(ctx.store.trainable, byName, lr);
  tf.dispose(grads);

  const values: LossValues = { pd: NaN, mix: NaN, loss: (await value.data())[0] };
  value.dispose();
  for (const [key, t] of Object.entries(kept)) {
    (values as unknown as Record<string, number>)[key] = (await t.data())[0];
    t.dispose();
  }
  return values;
}
