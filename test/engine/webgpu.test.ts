/**
 * The webgpu backend trains the same model as wasm (custom im2col gradients included). Without a
 * GPU this runs on Dawn's OpenGL backend over Mesa's llvmpipe (LD_WEBGPU_FLAGS=backend=opengl).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { activateBackend, probeBackends } from '../../main/engine/backends';
import { initModel } from '../../main/engine/model/params';
import { Adam } from '../../main/engine/optim/adam';
import { Rng } from '../../main/engine/rng';
import { tf } from '../../main/engine/tf';
import { trainStep, type StepInput } from '../../main/engine/trainer/step';

process.env.LD_WEBGPU_FLAGS ??= 'backend=opengl';
const probe = probeBackends().find((p) => p.name === 'webgpu')!;
// The GL route needs Mesa's EGL; say why when it is missing.
const mesa = spawnSync('sh', ['-c', 'ls /usr/lib/*/libEGL_mesa.so.0'], { encoding: 'utf8' }).status === 0;
const skip = !probe.available || !mesa;

describe.skipIf(skip)(`webgpu backend${skip ? ` (skipped: ${probe.detail}${mesa ? '' : '; Mesa EGL not installed'})` : ''}`, () => {
  test('one training step gives the losses wasm gives', async () => {
    const model = { inChannels: 1 as const, embedDim: 32, clusters: 4 };
    const size = 32;
    const rng = new Rng(9);
    const x = new Float32Array(5 * size * size).map(() => rng.uniform(-1, 1));
    const ident = Int32Array.from({ length: 64 }, (_, i) => i);
    const input: StepInput = { x, shape: [5, size, size, 1], meta: { pairs: 1, w: new Float32Array([0.4]), alignment: { src: [ident, ident] } } };

    const losses = [];
    for (const backend of ['wasm', 'webgpu'] as const) {
      await activateBackend(backend);
      const store = initModel(model, new Rng(3));
      const adam = new Adam();
      losses.push(await trainStep({ store, model, adam, filterGrad: 'im2col' }, input, 1e-3));
      // a second step shows the update (and so the gradients) agree too
      losses.push(await trainStep({ store, model, adam, filterGrad: 'im2col' }, input, 1e-3));
      store.dispose();
      adam.dispose();
    }
    expect(tf.getBackend()).toBe('webgpu');
    const [w1, w2, g1, g2] = losses;
    for (const [a, b] of [[w1, g1], [w2, g2]]) {
      for (const key of ['pd', 'mix', 'rd', 'ent', 'loss'] as const) expect(Math.abs(a[key]! - b[key]!) / Math.abs(a[key]!)).toBeLessThan(1e-3);
    }
  });
});
