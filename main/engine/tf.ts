/**
 * The one place that loads TensorFlow.js. Everything in main/engine imports `tf` from here, so a
 * single tfjs-core instance (with every gradient registered) is shared by all backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// Production mode: no debug checks, and no "install tfjs-node" banner from the cpu backend.
tf.enableProdMode();

export { tf };
export type Tensor = tf.Tensor;
export type Tensor4D = tf.Tensor4D;

// tfjs is bundled into our output, so the wasm backend cannot find its .wasm files next to itself.
setWasmPaths(join(dirname(createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');

/**
 * tfjs clones every tensor it saves for a gradient (Identity), and tfjs-wasm's Identity copies the
 * buffer, which doubles a training step's memory. Tensors are immutable, so share the buffer by
 * reference count, as the cpu backend does.
 */
tf.unregisterKernel(tf.Identity, 'wasm');
tf.registerKernel({
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    (backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
});
