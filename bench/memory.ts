/**
 * `npm run bench -- memory [--steps N]`: trains N steps (default 2000) at 32², batch 1 on wasm and
 * prints tfjs's live tensors/bytes and the process RSS along the way: they must stay flat.
 */
import { activateBackend } from '../main/engine/backends';
import { Trainer, tensorMemory } from '../main/engine/trainer/trainer';
import type { TrainConfig } from '../main/engine/trainer/config';
import { Rng } from '../main/engine/rng';
import type { PreparedImage } from '../main/engine/data';

export async function memoryBench(steps: number): Promise<Array<{ step: number; tensors: number; bytes: number; rssMiB: number }>> {
  await activateBackend('wasm');
  const rng = new Rng(1);
  const images: PreparedImage[] = Array.from({ length: 8 }, (_, i) => ({
    id: `synthetic-${i}`, size: 37, channels: 1 as const, data: new Float32Array(37 * 37).map(() => rng.next()),
  }));
  const config: TrainConfig = {
    stage: 'both', steps, stage1Steps: Math.round(steps / 5), size: 32, batch: 1, channels: 1, clusters: 16, embedDim: 32,
    lr: 1e-3, lrHalveEvery: 10_000, seed: 0, checkpointEvery: 500, filterGrad: 'im2col',
  };
  const trainer = new Trainer(config, images);
  const samples: Array<{ step: number; tensors: number; bytes: number; rssMiB: number }> = [];
  const every = Math.max(1, Math.floor(steps / 20));
  await trainer.run({
    onStep: (r) => {
      if (r.step === 1 || r.step % every === 0) {
        samples.push({ step: r.step, ...tensorMemory(), rssMiB: process.memoryUsage().rss / 2 ** 20 });
        process.stderr.write(`step ${r.step}/${steps}\r`);
      }
    },
    onCheckpoint: async () => {
      await trainer.checkpoint(); // the checkpoint path reads every tensor back: include it in the loop
    },
  });
  trainer.dispose();
  return samples;
}
