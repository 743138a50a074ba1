/**
 * Adam with PyTorch's update rule and defaults (ld-method.md §3.6, §9.16): β = (0.9, 0.999),
 * eps 1e-8 added to the bias-corrected √v̂ (tfjs's Adam adds it to √v and uses eps 1e-7).
 * State (m, v, step) is plain named tensors so checkpoints can save and restore it exactly.
 */
import { tf } from '../tf';
import type { NamedArray } from '../model/params';

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const PAPER_ADAM: AdamConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export class Adam {
  /** Number of updates applied so far (PyTorch's `step`). */
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(readonly config: AdamConfig = PAPER_ADAM) {}

  apply(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>, lr = this.config.lr): void {
    const { beta1, beta2, eps } = this.config;
    this.step += 1;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    for (const [name, param] of params) {
      const g = grads[name];
      if (!g) continue;
      if (!this.m.has(name)) {
        this.m.set(name, tf.variable(tf.zerosLike(param), false));
        this.v.set(name, tf.variable(tf.zerosLike(param), false));
      }
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      tf.tidy(() => {
        const mNew = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(vNew), Math.sqrt(bc2)), eps);
        param.assign(tf.sub(param, tf.mul(tf.div(mNew, denom), lr / bc1)));
        m.assign(mNew);
        v.assign(vNew);
      });
    }
  }

  async toArrays(): Promise<Map<string, NamedArray>> {
    const out = new Map<string, NamedArray>();
    for (const [kind, map] of [['m', this.m], ['v', this.v]] as const) {
      for (const [name, t] of map) out.set(`adam.${kind}.${name}`, { shape: t.shape, data: (await t.data()) as Float32Array });
    }
    return out;
  }

  load(arrays: Map<string, NamedArray>, step: number): void {
    this.dispose();
    this.step = step;
    for (const [key, a] of arrays) {
      const match = /^adam\.(m|v)\.(.+)$/.exec(key);
      if (!match) continue;
      (match[1] === 'm' ? this.m : this.v).set(match[2], tf.variable(tf.tensor(a.data, a.shape), false));
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
