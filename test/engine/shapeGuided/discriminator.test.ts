/** The shape discriminator of ld-method.md §5.3 and the GAN losses of §5.4. */
import { beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../../main/engine/backends';
import { ParamStore } from '../../../main/engine/model/params';
import { Rng } from '../../../main/engine/rng';
import {
  bceProb,
  discFeatureSide,
  discParameterCount,
  discriminatorForward,
  discriminatorLoss,
  generatorLoss,
  initDiscriminator,
} from '../../../main/engine/shapeGuided/discriminator';
import { tf } from '../../../main/engine/tf';

beforeAll(async () => {
  await activateBackend('wasm');
});

describe('discriminator', () => {
  test('has the spec\'s 52,129 parameters (ld-method.md §2.3), counted from the layer list and from the tensors', () => {
    expect(discParameterCount()).toBe(52_129);
    const store = initDiscriminator(new ParamStore(), new Rng(1));
    let n = 0;
    for (const v of store.trainable.values()) n += v.size;
    expect(n).toBe(52_129);
    expect(store.get('disc_1.weight').shape).toEqual([3, 3, 1, 16]);
    expect(store.get('disc_8.weight').shape).toEqual([1, 1, 32, 32]);
    expect(store.get('disc_9.weight').shape).toEqual([1, 1, 32, 1]);
    expect(store.buffers.size).toBe(0); // no BatchNorm
    store.dispose();
  });

  test('PyTorch default initialisation: every weight and bias within ±1/√fan_in', async () => {
    const store = initDiscriminator(new ParamStore(), new Rng(2));
    for (const [name, v] of store.trainable) {
      const layer = name.split('.')[0];
      const fanIn = layer === 'disc_1' ? 9 : layer === 'disc_8' || layer === 'disc_9' ? 32 : 9 * (layer === 'disc_2' ? 16 : 32);
      const bound = 1 / Math.sqrt(fanIn);
      const values = (await v.data()) as Float32Array;
      expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
    }
    store.dispose();
  });

  test('one probability per map, at the paper\'s 448 and at the smallest size, 160; smaller is refused', () => {
    expect(discFeatureSide(448)).toBe(10); // 14 after the pools, then 12, 10
    expect(discFeatureSide(160)).toBe(1);
    expect(discFeatureSide(144)).toBeLessThan(1);
    const store = initDiscriminator(new ParamStore(), new Rng(3));
    for (const size of [448, 160, 176]) {
      const x = tf.randomUniform([2, size, size, 1]) as tf.Tensor4D;
      const p = discriminatorForward(x, store, { slope: 0.01, filterGrad: 'im2col' });
      expect(p.shape).toEqual([2]);
      const v = p.dataSync();
      expect(Array.from(v).every((q) => q > 0 && q < 1)).toBe(true);
      tf.dispose([x, p]);
    }
    const small = tf.zeros([1, 144, 144, 1]) as tf.Tensor4D;
    expect(() => discriminatorForward(small, store, { slope: 0.01, filterGrad: 'im2col' })).toThrow(/at least 160/);
    small.dispose();
    store.dispose();
  });

  test('the slope is a real setting: slope 1 (the reference\'s nn.LeakyReLU(True)) and 0.01 give different D', () => {
    const store = initDiscriminator(new ParamStore(), new Rng(4));
    const x = tf.randomUniform([2, 160, 160, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const at = (slope: number) => Array.from(discriminatorForward(x, store, { slope, filterGrad: 'im2col' }).dataSync());
    const [one, small, again] = [at(1), at(0.01), at(1)];
    expect(one).toEqual(again);
    expect(Math.max(...one.map((v, i) => Math.abs(v - small[i])))).toBeGreaterThan(1e-6);
    x.dispose();
    store.dispose();
  });

  test('the max-pool gradient goes to the first maximum of a tied window, as PyTorch\'s', () => {
    const store = initDiscriminator(new ParamStore(), new Rng(5));
    // a constant map: every window of the first pool is a tie
    const x = tf.fill([1, 160, 160, 1], 0.5) as tf.Tensor4D;
    const g = tf.grad((input: tf.Tensor) => tf.sum(discriminatorForward(input as tf.Tensor4D, store, { slope: 1, filterGrad: 'im2col' })))(x);
    expect(g.shape).toEqual([1, 160, 160, 1]);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, g]);
    store.dispose();
  });
});

describe('GAN losses (torch.nn.BCELoss semantics)', () => {
  test('L_G = −mean log D(fake); L_D = BCE over [real → 1; fake → 0]; the log is clamped at −100', () => {
    const dFake = tf.tensor1d([0.2, 0.5, 0.9]);
    const dReal = tf.tensor1d([0.7, 0.6, 0.99]);
    const lg = generatorLoss(dFake).dataSync()[0];
    expect(lg).toBeCloseTo(-(Math.log(0.2) + Math.log(0.5) + Math.log(0.9)) / 3, 5);
    const ld = discriminatorLoss(dReal, dFake).dataSync()[0];
    const expected = -(Math.log(0.7) + Math.log(0.6) + Math.log(0.99) + Math.log(0.8) + Math.log(0.5) + Math.log(0.1)) / 6;
    expect(ld).toBeCloseTo(expected, 5);
    const clamped = bceProb(tf.tensor1d([0]), 1).dataSync()[0];
    expect(clamped).toBe(100);
    tf.dispose([dFake, dReal]);
  });
});
