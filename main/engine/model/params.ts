/**
 * Parameters of the LD network as named tf.Variables: conv `weight` (HWIO) and `bias`, BatchNorm
 * `gamma`/`beta` (trainable) and `running_mean`/`running_var` (not trainable).
 * Initialisation follows the reference code, drawn from our seeded RNG so runs are reproducible.
 */
import type { Rng } from '../rng';
import { tf } from '../tf';
import { allConvSpecs, type ConvSpec, type ModelConfig } from './spec';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

let nextStoreId = 0;

export class ParamStore {
  /** tfjs variable names are global: a per-store suffix lets several models live side by side. */
  private readonly suffix = `#${nextStoreId++}`;
  readonly trainable = new Map<string, tf.Variable>();
  readonly buffers = new Map<string, tf.Variable>();

  get(name: string): tf.Variable {
    const v = this.trainable.get(name) ?? this.buffers.get(name);
    if (!v) throw new Error(`parameter '${name}' does not exist`);
    return v;
  }

  has(name: string): boolean {
    return this.trainable.has(name) || this.buffers.has(name);
  }

  addTrainable(name: string, value: tf.Tensor): void {
    this.trainable.set(name, tf.variable(value, true, name + this.suffix));
    value.dispose();
  }

  addBuffer(name: string, value: tf.Tensor): void {
    this.buffers.set(name, tf.variable(value, false, name + this.suffix));
    value.dispose();
  }

  /** Every tensor by name, trainable first, sorted for stable files. */
  async toArrays(): Promise<Map<string, NamedArray>> {
    const out = new Map<string, NamedArray>();
    for (const [name, v] of [...this.trainable, ...this.buffers].sort(([a], [b]) => a.localeCompare(b))) {
      out.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
    }
    return out;
  }

  /** Overwrite values from arrays (checkpoint load); every parameter must be present with its shape. */
  assignFrom(arrays: Map<string, NamedArray>): void {
    for (const [name, v] of [...this.trainable, ...this.buffers]) {
      const a = arrays.get(name);
      if (!a) throw new Error(`checkpoint has no tensor '${name}'`);
      if (a.shape.join('x') !== v.shape.join('x')) {
        throw new Error(`checkpoint tensor '${name}' has shape ${a.shape.join('×')}, the model expects ${v.shape.join('×')}`);
      }
      v.assign(tf.tensor(a.data, a.shape));
    }
  }

  dispose(): void {
    for (const v of [...this.trainable.values(), ...this.buffers.values()]) v.dispose();
    this.trainable.clear();
    this.buffers.clear();
  }
}

function randomArray(n: number, draw: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = draw();
  return a;
}

/** Add one conv (+ BN) layer's parameters, initialised like the PyTorch reference. */
export function initConv(store: ParamStore, spec: ConvSpec, rng: Rng): void {
  const wShape = [3, 3, spec.cin, spec.cout];
  const n = 9 * spec.cin * spec.cout;
  if (spec.init === 'kaiming-fan-out') {
    const std = Math.sqrt(2 / (9 * spec.cout));
    store.addTrainable(`${spec.name}.weight`, tf.tensor(randomArray(n, () => rng.normal() * std), wShape));
    store.addTrainable(`${spec.name}.bias`, tf.zeros([spec.cout]));
  } else {
    const bound = 1 / Math.sqrt(9 * spec.cin);
    store.addTrainable(`${spec.name}.weight`, tf.tensor(randomArray(n, () => rng.uniform(-bound, bound)), wShape));
    store.addTrainable(`${spec.name}.bias`, tf.tensor(randomArray(spec.cout, () => rng.uniform(-bound, bound)), [spec.cout]));
  }
  if (spec.bn) {
    store.addTrainable(`${spec.name}.bn.gamma`, tf.ones([spec.cout]));
    store.addTrainable(`${spec.name}.bn.beta`, tf.zeros([spec.cout]));
    store.addBuffer(`${spec.name}.bn.running_mean`, tf.zeros([spec.cout]));
    store.addBuffer(`${spec.name}.bn.running_var`, tf.ones([spec.cout]));
  }
}

export function initModel(config: ModelConfig, rng: Rng, store = new ParamStore()): ParamStore {
  for (const spec of allConvSpecs(config)) {
    if (!store.has(`${spec.name}.weight`)) initConv(store, spec, rng);
  }
  return store;
}
