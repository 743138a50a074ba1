/**
 * Training-step benchmark, run in a child process per (backend, size, batch) so that each
 * measurement gets a fresh heap and a crash (tfjs-wasm's 4 GiB limit) is reported, not fatal.
 */
import { activateBackend, type BackendName } from '../main/engine/backends';
import { alignGridIndex, makeBatch, type PreparedImage } from '../main/engine/data';
import { GRID } from '../main/engine/losses';
import { initModel } from '../main/engine/model/params';
import { Adam } from '../main/engine/optim/adam';
import { Rng } from '../main/engine/rng';
import { filterGradFor } from '../main/engine/trainer/config';
import { modelConfigFor } from '../main/engine/trainer/trainer';
import { trainStep } from '../main/engine/trainer/step';
import { tf } from '../main/engine/tf';

export interface TrainBenchCase {
  backend: BackendName;
  size: number;
  batch: number;
  steps: number;
  /** Pairs per pass (memory); absent = the whole batch. */
  microBatch?: number;
}

export interface TrainBenchResult extends TrainBenchCase {
  ok: boolean;
  /** Median of the timed steps (the first, warm-up step excluded). */
  stepSeconds?: number;
  warmupSeconds?: number;
  peakRssMiB?: number;
  wasmHeapMiB?: number;
  error?: string;
}

/** Synthetic but realistic input: smooth random images (the step cost does not depend on content). */
function syntheticImages(count: number, size: number, rng: Rng): PreparedImage[] {
  return Array.from({ length: count }, (_, i) => {
    const data = new Float32Array(size * size);
    const fx = rng.uniform(1, 6);
    const fy = rng.uniform(1, 6);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = 0.5 + 0.5 * Math.sin((fx * x) / size + (fy * y) / size);
    return { id: `synthetic-${i}`, size, channels: 1 as const, data };
  });
}

export async function runTrainBenchCase(c: TrainBenchCase): Promise<TrainBenchResult> {
  await activateBackend(c.backend);
  const rng = new Rng(1);
  const model = modelConfigFor({ channels: 1, embedDim: 32, clusters: 16 } as never, 2);
  const store = initModel(model, rng);
  const adam = new Adam();
  const images = syntheticImages(8, Math.round((c.size * 512) / 448), rng);
  const times: number[] = [];
  for (let s = 0; s < c.steps + 1; s++) {
    const batch = makeBatch(images, rng, { pairs: c.batch, cropSize: c.size, channels: 1 });
    const alignment = { src: Array.from({ length: 2 * c.batch }, (_, i) => alignGridIndex(batch.f[i], batch.k[i], GRID)) };
    const t0 = performance.now();
    await trainStep(
      { store, model, adam, filterGrad: filterGradFor(c.backend), microBatch: c.microBatch },
      { x: batch.x, shape: [batch.n, c.size, c.size, 1], meta: { pairs: c.batch, w: batch.w, alignment } },
      1e-3,
    );
    times.push((performance.now() - t0) / 1000);
  }
  const timed = times.slice(1).sort((a, b) => a - b);
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return {
    ...c,
    ok: true,
    warmupSeconds: times[0],
    stepSeconds: timed[Math.floor(timed.length / 2)],
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    wasmHeapMiB: backend.wasm?.HEAPU8 ? backend.wasm.HEAPU8.byteLength / 2 ** 20 : undefined,
  };
}
