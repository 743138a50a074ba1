/**
 * BatchNorm with PyTorch semantics (ld-method.md §9.16): training normalises with the biased batch
 * variance (inside the fused conv op, conv.ts); running statistics follow with momentum 0.1 and the
 * *unbiased* variance; evaluation uses the running statistics, epsilon 1e-5.
 */
import { tf, type Tensor4D } from '../tf';
import { BN_EPSILON, type BatchStats } from './conv';
import type { ParamStore } from './params';

export const BN_MOMENTUM = 0.1;

export interface BnContext {
  training: boolean;
  /** Running-statistics updates collected during a training forward, applied after the step. */
  pendingStats?: Array<{ variable: tf.Variable; value: tf.Tensor }>;
}

export function batchNormEval(x: Tensor4D, store: ParamStore, name: string): Tensor4D {
  return tf.batchNorm(
    x,
    store.get(`${name}.running_mean`) as tf.Tensor1D,
    store.get(`${name}.running_var`) as tf.Tensor1D,
    store.get(`${name}.beta`) as tf.Tensor1D,
    store.get(`${name}.gamma`) as tf.Tensor1D,
    BN_EPSILON,
  );
}

/** A callback for convBnReluTrain that queues this layer's running-statistics update. */
export function statsCollector(store: ParamStore, name: string, ctx: BnContext): ((s: BatchStats) => void) | undefined {
  const pending = ctx.pendingStats;
  if (!pending) return undefined;
  return ({ mean, variance, count }) => {
    const runningMean = store.get(`${name}.running_mean`);
    const runningVar = store.get(`${name}.running_var`);
    const unbiased = tf.mul(variance, count / Math.max(count - 1, 1));
    pending.push(
      { variable: runningMean, value: tf.keep(tf.add(tf.mul(runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM))) },
      { variable: runningVar, value: tf.keep(tf.add(tf.mul(runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM))) },
    );
    mean.dispose();
    variance.dispose();
    unbiased.dispose();
  };
}

export function applyPendingStats(ctx: BnContext): void {
  for (const { variable, value } of ctx.pendingStats ?? []) {
    variable.assign(value);
    value.dispose();
  }
  if (ctx.pendingStats) ctx.pendingStats.length = 0;
}
