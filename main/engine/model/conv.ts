/**
 * Convolution layers with hand-written gradients.
 *
 * Why: (1) tfjs-wasm has no Conv2DBackpropFilter kernel (and the webgpu/cpu ones are slow), so the
 * filter gradient is computed as im2col matrix products; (2) tfjs keeps every intermediate tensor of
 * a forward pass alive until the gradient is taken, and a batch-norm built from primitive ops leaves
 * ~10 full-size tensors per layer. A fused conv→BN→ReLU op saves only what its backward needs.
 */
import { tf, type Tensor4D } from '../tf';

/** 'im2col': our filter gradient; 'native': the backend's Conv2DBackpropFilter kernel (tensorflow). */
export type FilterGradMode = 'im2col' | 'native';

/** Cap on the rows of one matmul operand (floats); larger inputs are processed in batch chunks. */
const MAX_CHUNK_FLOATS = 32 * 1024 * 1024;

/**
 * dW[kh, kw] = Σ_{n,y,x} x_pad[n, y+kh, x+kw, :]ᵀ · dy[n, y, x, :], computed as dyᵀ·shifted(x) per
 * kernel tap: nine (Cout × NHW)·(NHW × C) products. Transposing dy once and keeping the big operand
 * untransposed is several times faster on tfjs-wasm than a transposeA matmul over a concatenated
 * im2col matrix.
 */
export function filterGradIm2col(x: Tensor4D, dy: Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const cout = dy.shape[3];
    const chunk = Math.max(1, Math.floor(MAX_CHUNK_FLOATS / (h * w * Math.max(c, cout))));
    let acc: tf.Tensor | null = null;
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const xs = size === n ? x : tf.slice(x, [start, 0, 0, 0], [size, h, w, c]);
      const dys = size === n ? dy : tf.slice(dy, [start, 0, 0, 0], [size, h, w, cout]);
      const padded = tf.pad(xs, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      const dyT = tf.transpose(tf.reshape(dys, [size * h * w, cout]));
      const taps: tf.Tensor2D[] = [];
      for (let kh = 0; kh < 3; kh++) {
        for (let kw = 0; kw < 3; kw++) {
          // one shifted copy alive at a time: only the small (Cout, C) product is kept
          taps.push(tf.tidy(() => tf.matMul(dyT, tf.reshape(tf.slice(padded, [0, kh, kw, 0], [size, h, w, c]), [size * h * w, c]))));
        }
      }
      const part = tf.stack(taps); // (9, Cout, C)
      tf.dispose([...taps, padded, dyT]);
      if (xs !== x) tf.dispose([xs, dys]);
      const sum: tf.Tensor = acc ? tf.add(acc, part) : part;
      if (acc) tf.dispose([acc, part]);
      acc = sum;
    }
    return tf.reshape(tf.transpose(acc!, [0, 2, 1]), [3, 3, c, cout]);
  });
}

function filterGradNative(x: Tensor4D, dy: Tensor4D, kernelShape: number[]): tf.Tensor4D {
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
    strides: [1, 1],
    pad: 'same',
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
    filterShape: kernelShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

export function filterGrad(x: Tensor4D, dy: Tensor4D, kernelShape: number[], mode: FilterGradMode): tf.Tensor4D {
  return mode === 'native' ? filterGradNative(x, dy, kernelShape) : filterGradIm2col(x, dy);
}

/** ∂L/∂x of a 3×3 "same" conv: a forward conv of dy with the rotated, transposed kernel. */
export function inputGrad3x3(dy: Tensor4D, kernel: tf.Tensor4D): Tensor4D {
  return tf.tidy(() => tf.conv2d(dy, tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]), 1, 'same'));
}

const sumNHW = (t: tf.Tensor) => tf.sum(t, [0, 1, 2]);

/** conv3×3 (stride 1, "same") + bias. */
export function conv3x3(x: Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D, mode: FilterGradMode): Tensor4D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, kIn, bIn, save] = args as [Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.GradSaveFunc];
    save([xIn, kIn]);
    return {
      value: tf.add(tf.conv2d(xIn, kIn, 1, 'same'), bIn),
      gradFunc: (dy, saved) => {
        const [xs, ks] = saved as [Tensor4D, tf.Tensor4D];
        const d = dy as Tensor4D;
        return [inputGrad3x3(d, ks), filterGrad(xs, d, ks.shape, mode), sumNHW(d)];
      },
    };
  });
  return op(x, kernel, bias) as Tensor4D;
}

export const BN_EPSILON = 1e-5;

export interface BatchStats {
  mean: tf.Tensor1D;
  /** Biased variance (what normalises the batch). */
  variance: tf.Tensor1D;
  count: number;
}

/**
 * relu(BN_train(conv3×3(x) + b)) in one op. BN uses batch statistics (biased variance, eps 1e-5) like
 * PyTorch in train mode; `onStats` receives the batch mean/variance (kept tensors) for the running
 * statistics. Saves x, the kernel, x̂ and the output; the backward is the textbook BN gradient.
 */
export function convBnReluTrain(
  x: Tensor4D,
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  mode: FilterGradMode,
  onStats?: (stats: BatchStats) => void,
): Tensor4D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, kIn, bIn, gIn, betaIn, save] = args as [Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const c = tf.add(tf.conv2d(xIn, kIn, 1, 'same'), bIn) as Tensor4D;
    const mean = tf.mean(c, [0, 1, 2]) as tf.Tensor1D;
    const centred = tf.sub(c, mean);
    const variance = tf.mean(tf.square(centred), [0, 1, 2]) as tf.Tensor1D;
    const inv = tf.rsqrt(tf.add(variance, BN_EPSILON));
    const xhat = tf.mul(centred, inv);
    const y = tf.relu(tf.add(tf.mul(xhat, gIn), betaIn)) as Tensor4D;
    onStats?.({ mean: tf.keep(mean), variance: tf.keep(variance), count: c.shape[0] * c.shape[1] * c.shape[2] });
    save([xIn, kIn, xhat, y, inv, gIn]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [xs, ks, xh, ys, invS, g] = saved as [Tensor4D, tf.Tensor4D, Tensor4D, Tensor4D, tf.Tensor1D, tf.Tensor1D];
        const dyh = tf.mul(dy, tf.step(ys)); // through the ReLU
        const dGamma = sumNHW(tf.mul(dyh, xh));
        const dBeta = sumNHW(dyh);
        const n = xh.shape[0] * xh.shape[1] * xh.shape[2];
        // dc = γ·inv·(dyh − mean(dyh) − x̂·mean(dyh·x̂))
        const dc = tf.mul(tf.sub(tf.sub(dyh, tf.div(dBeta, n)), tf.mul(xh, tf.div(dGamma, n))), tf.mul(g, invS)) as Tensor4D;
        return [inputGrad3x3(dc, ks), filterGrad(xs, dc, ks.shape, mode), sumNHW(dc), dGamma, dBeta];
      },
    };
  });
  return op(x, kernel, bias, gamma, beta) as Tensor4D;
}
