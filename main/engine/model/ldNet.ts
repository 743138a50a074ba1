/**
 * Forward pass of the LD network (ld-method.md §2): encoder → U-Net decoder → embedding z
 * (L2-normalised per pixel) and, when the model has one, the clustering map a (sigmoid, then
 * L1-normalised over clusters). NHWC throughout.
 */
import { tf, type Tensor4D } from '../tf';
import { batchNormEval, statsCollector, type BnContext } from './batchNorm';
import { conv3x3, convBnReluTrain, type FilterGradMode } from './conv';
import type { ParamStore } from './params';
import { DECODER_BLOCKS, ENCODER_STAGES, type ModelConfig } from './spec';

export interface ForwardOptions extends BnContext {
  filterGrad: FilterGradMode;
}

export interface LdOutputs {
  /** Embedding, (N, H, W, D), unit norm per pixel. */
  z: Tensor4D;
  /** Soft clustering, (N, H, W, K), sums to 1 per pixel; absent without a clustering branch. */
  a?: Tensor4D;
}

export const L2_EPSILON = 1e-10;
const CLUSTER_EPSILON = 1e-9;

/** v / (‖v‖₂ + 1e-10) along the last axis, as the reference does. */
export function l2normalize<T extends tf.Tensor>(v: T): T {
  return tf.div(v, tf.add(tf.norm(v, 'euclidean', -1, true), L2_EPSILON)) as T;
}

function convBnRelu(x: Tensor4D, store: ParamStore, name: string, opts: ForwardOptions): Tensor4D {
  const kernel = store.get(`${name}.weight`) as tf.Tensor4D;
  const bias = store.get(`${name}.bias`) as tf.Tensor1D;
  if (!opts.training) return tf.relu(batchNormEval(conv3x3(x, kernel, bias, opts.filterGrad), store, `${name}.bn`));
  const gamma = store.get(`${name}.bn.gamma`) as tf.Tensor1D;
  const beta = store.get(`${name}.bn.beta`) as tf.Tensor1D;
  return convBnReluTrain(x, kernel, bias, gamma, beta, opts.filterGrad, statsCollector(store, `${name}.bn`, opts));
}

function convOnly(x: Tensor4D, store: ParamStore, name: string, opts: ForwardOptions): Tensor4D {
  return conv3x3(x, store.get(`${name}.weight`) as tf.Tensor4D, store.get(`${name}.bias`) as tf.Tensor1D, opts.filterGrad);
}

/**
 * Nearest-neighbour ×2 (pixel duplication), like nn.Upsample(scale_factor=2). Its gradient, the sum
 * over each 2×2 block (4 × avgPool), is written out: tfjs-cpu's ResizeNearestNeighborGrad returns
 * wrong values for some inputs (test/engine/model/conv.test.ts shows a case).
 */
const upsample2Op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as Tensor4D;
  return {
    value: tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2], false, false),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.mul(tf.avgPool(dy as Tensor4D, 2, 2, 'valid'), 4),
  };
});

export function upsample2(x: Tensor4D): Tensor4D {
  return upsample2Op(x) as Tensor4D;
}

/** Encoder skips [f1..f5]: the activation just before each max-pool (the 5th pool is never used). */
export function encode(x: Tensor4D, store: ParamStore, opts: ForwardOptions): Tensor4D[] {
  const skips: Tensor4D[] = [];
  let h = x;
  ENCODER_STAGES.forEach((stage, s) => {
    if (s > 0) h = tf.maxPool(h, 2, 2, 'valid');
    stage.forEach((_, i) => {
      h = convBnRelu(h, store, `enc${s + 1}_${i + 1}`, opts);
    });
    skips.push(h);
  });
  return skips;
}

/** Decoder trunk: the 32-channel full-resolution feature map h both branches read. */
export function decode(skips: Tensor4D[], store: ParamStore, opts: ForwardOptions): Tensor4D {
  let h = skips[4];
  DECODER_BLOCKS.forEach(([name], i) => {
    const skip = skips[3 - i];
    h = tf.concat([upsample2(h), skip], 3);
    h = convBnRelu(h, store, `${name}_1`, opts);
    h = convBnRelu(h, store, `${name}_2`, opts);
  });
  return tf.concat([upsample2(h), skips[0]], 3);
}

export function ldForward(x: Tensor4D, store: ParamStore, config: ModelConfig, opts: ForwardOptions): LdOutputs {
  const [, height, width] = x.shape;
  if (height % 16 !== 0 || width % 16 !== 0) throw new Error(`input side lengths must be multiples of 16, got ${height}×${width}`);
  const h = decode(encode(x, store, opts), store, opts);
  const z = l2normalize(convOnly(convBnRelu(h, store, 'emb_1', opts), store, 'emb_2', opts));
  if (config.clusters <= 0) return { z };
  const s = tf.add(tf.sigmoid(convOnly(convBnRelu(h, store, 'clu_1', opts), store, 'clu_2', opts)), CLUSTER_EPSILON);
  const a = tf.div(s, tf.sum(s, -1, true)) as Tensor4D;
  return { z, a };
}
