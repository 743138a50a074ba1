import { expect, test } from 'vitest';
import { activateBackend } from '../../main/engine/backends';
import { tf } from '../../main/engine/tf';

test('tfjs loads with gradients on wasm', async () => {
  await activateBackend('wasm');
  expect(tf.getBackend()).toBe('wasm');
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid')))(tf.ones([1, 4, 4, 1]));
  expect(Array.from(await g.data())).toEqual(new Array(16).fill(0.25));
});
