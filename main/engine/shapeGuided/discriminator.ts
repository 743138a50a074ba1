/**
 * The shape discriminator D of ld-method.md §5.3 (the reference's `Discriminator`), NHWC:
 *
 *   x (N, S, S, 1) → 5 × [conv3×3 same → LeakyReLU → maxpool 2] (16, 32, 32, 32, 32 channels)
 *   → 2 × [conv3×3 valid → LeakyReLU] (32) → global average pool → 1×1 conv 32→32 → LeakyReLU
 *   → 1×1 conv 32→1 → sigmoid → (N,) probability that the map is a real prior mask.
 *
 * No BatchNorm; PyTorch's default initialisation (weights and biases U(±1/√fan_in)); 52,129 parameters.
 * Checkpoint keys: `disc_1` … `disc_7` (3×3, HWIO), `disc_8`, `disc_9` (1×1, HWIO [1, 1, Cin, Cout]).
 * The LeakyReLU slope is a setting: the reference's `nn.LeakyReLU(True)` is slope 1 (ld-method.md §9.1).
 */
import type { Rng } from '../rng';
import { tf, type Tensor4D } from '../tf';
import { conv3x3, type FilterGradMode } from '../model/conv';
import type { ParamStore } from '../model/params';

export interface DiscLayer {
  name: string;
  kernel: 1 | 3;
  cin: number;
  cout: number;
}

export const DISC_LAYERS: readonly DiscLayer[] = [
  { name: 'disc_1', kernel: 3, cin: 1, cout: 16 },
  { name: 'disc_2', kernel: 3, cin: 16, cout: 32 },
  { name: 'disc_3', kernel: 3, cin: 32, cout: 32 },
  { name: 'disc_4', kernel: 3, cin: 32, cout: 32 },
  { name: 'disc_5', kernel: 3, cin: 32, cout: 32 },
  { name: 'disc_6', kernel: 3, cin: 32, cout: 32 },
  { name: 'disc_7', kernel: 3, cin: 32, cout: 32 },
  { name: 'disc_8', kernel: 1, cin: 32, cout: 32 },
  { name: 'disc_9', kernel: 1, cin: 32, cout: 1 },
];

export function discParameterCount(): number {
  return DISC_LAYERS.reduce((s, l) => s + l.kernel * l.kernel * l.cin * l.cout + l.cout, 0);
}

/** Output side after the 5 pools and the 2 unpadded convs, for an input side S (≤ 0: too small). */
export function discFeatureSide(size: number): number {
  let s = size;
  for (let i = 0; i < 5; i++) s = Math.floor(s / 2);
  return s - 4;
}

export function initDiscriminator(store: ParamStore, rng: Rng): ParamStore {
  for (const l of DISC_LAYERS) {
    if (store.has(`${l.name}.weight`)) continue;
    const bound = 1 / Math.sqrt(l.kernel * l.kernel * l.cin);
    const n = l.kernel * l.kernel * l.cin * l.cout;
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = rng.uniform(-bound, bound);
    const b = new Float32Array(l.cout);
    for (let i = 0; i < l.cout; i++) b[i] = rng.uniform(-bound, bound);
    store.addTrainable(`${l.name}.weight`, tf.tensor(w, [l.kernel, l.kernel, l.cin, l.cout]));
    store.addTrainable(`${l.name}.bias`, tf.tensor(b, [l.cout]));
  }
  return store;
}

/**
 * 2×2 max-pool, stride 2 (odd sides floored), whose gradient goes to the FIRST maximum of each window
 * in row-major order, as PyTorch's max_pool2d does. tfjs's own MaxPoolGrad breaks ties differently
 * (and not the same way on every backend); with binary prior masks ties are everywhere, and with the
 * reference's slope-1 "LeakyReLU" nothing downstream zeroes their gradient, so the choice matters.
 */
const maxPool2Op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [Tensor4D, tf.GradSaveFunc];
  const y = tf.maxPool(x, 2, 2, 'valid') as Tensor4D;
  save([x, y]);
  return {
    value: y,
    gradFunc: (dy, saved) => {
      const [xs, ys] = saved as [Tensor4D, Tensor4D];
      const [n, h, w, c] = xs.shape;
      const h2 = h / 2;
      const w2 = w / 2;
      // x[n, 2i + a, 2j + b, c] = xr[n·h2 + i, a, j, b·c + c'] : four 4-D phase slices, no rank-6 ops
      const xr = tf.reshape(xs, [n * h2, 2, w2, 2 * c]);
      const yr = tf.reshape(ys, [n * h2, 1, w2, c]);
      const g = tf.reshape(dy as tf.Tensor, [n * h2, 1, w2, c]);
      let taken: tf.Tensor = tf.zerosLike(yr);
      const parts: tf.Tensor[][] = [[], []];
      for (const a of [0, 1]) {
        for (const b of [0, 1]) {
          const hit = tf.mul(tf.cast(tf.equal(tf.slice(xr, [0, a, 0, b * c], [n * h2, 1, w2, c]), yr), 'float32'), tf.sub(1, taken));
          parts[a].push(tf.mul(g, hit));
          taken = tf.add(taken, hit);
        }
      }
      const dx = tf.concat([tf.concat(parts[0], 3), tf.concat(parts[1], 3)], 1);
      return tf.reshape(dx, [n, h, w, c]);
    },
  };
});

function maxPool2(x: Tensor4D): Tensor4D {
  const [n, h, w, c] = x.shape;
  const he = h - (h % 2);
  const we = w - (w % 2);
  const even = he === h && we === w ? x : tf.slice(x, [0, 0, 0, 0], [n, he, we, c]);
  return maxPool2Op(even) as Tensor4D;
}

function leaky<T extends tf.Tensor>(x: T, slope: number): T {
  if (slope === 1) return x; // the reference's nn.LeakyReLU(True): the identity
  if (slope === 0) return tf.relu(x) as T;
  return tf.leakyRelu(x, slope) as T;
}

/** D's logits (N, 1) for maps x (N, S, S, 1). */
export function discriminatorLogits(x: Tensor4D, store: ParamStore, opts: { slope: number; filterGrad: FilterGradMode }): tf.Tensor2D {
  const [n, size] = x.shape;
  if (discFeatureSide(size) < 1) throw new Error(`the discriminator needs maps of at least 160 px (got ${size})`);
  let h: Tensor4D = x;
  for (let i = 1; i <= 7; i++) {
    const w = store.get(`disc_${i}.weight`) as tf.Tensor4D;
    const b = store.get(`disc_${i}.bias`) as tf.Tensor1D;
    h = conv3x3(h, w, b, opts.filterGrad);
    if (i >= 6) {
      // an unpadded ("valid") 3×3 conv is the interior of the padded one
      const [, hh, ww, c] = h.shape;
      h = tf.slice(h, [0, 1, 1, 0], [n, hh - 2, ww - 2, c]);
    }
    h = leaky(h, opts.slope);
    if (i <= 5) h = maxPool2(h);
  }
  const g = tf.mean(h, [1, 2]) as tf.Tensor2D; // (N, 32)
  const w8 = tf.reshape(store.get('disc_8.weight'), [32, 32]) as tf.Tensor2D;
  const w9 = tf.reshape(store.get('disc_9.weight'), [32, 1]) as tf.Tensor2D;
  const f = leaky(tf.add(tf.matMul(g, w8), store.get('disc_8.bias')) as tf.Tensor2D, opts.slope);
  return tf.add(tf.matMul(f, w9), store.get('disc_9.bias')) as tf.Tensor2D;
}

/** D(x): (N,) probabilities. */
export function discriminatorForward(x: Tensor4D, store: ParamStore, opts: { slope: number; filterGrad: FilterGradMode }): tf.Tensor1D {
  return tf.reshape(tf.sigmoid(discriminatorLogits(x, store, opts)), [-1]) as tf.Tensor1D;
}

/**
 * torch.nn.BCELoss on probabilities, mean over the batch: −[y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)].
 * The −100 clamp is PyTorch's.
 */
export function bceProb(p: tf.Tensor1D, target: tf.Tensor1D | number): tf.Scalar {
  const y = typeof target === 'number' ? tf.fill(p.shape, target) : target;
  const logP = tf.maximum(tf.log(p), -100);
  const log1mP = tf.maximum(tf.log(tf.sub(1, p)), -100);
  return tf.neg(tf.mean(tf.add(tf.mul(y, logP), tf.mul(tf.sub(1, y), log1mP)))) as tf.Scalar;
}

/** Non-saturating generator loss: BCE(D(fake), 1) = −mean log D(fake). */
export function generatorLoss(dFake: tf.Tensor1D): tf.Scalar {
  return bceProb(dFake, 1);
}

/** D's loss: BCE over [real (label 1); fake (label 0)], the mean over all of them. */
export function discriminatorLoss(dReal: tf.Tensor1D, dFake: tf.Tensor1D): tf.Scalar {
  const p = tf.concat([dReal, dFake]) as tf.Tensor1D;
  const y = tf.concat([tf.ones([dReal.shape[0]]), tf.zeros([dFake.shape[0]])]) as tf.Tensor1D;
  return bceProb(p, y);
}

/** The clustering channel the prior constrains, (N, H, W, 1), from a (N, H, W, K). */
export function fakeMaps(a: Tensor4D, rows: number, cluster = 0): Tensor4D {
  const [, h, w] = a.shape;
  return tf.slice(a, [0, 0, 0, cluster], [rows, h, w, 1]);
}
