/** Inference benchmark cases (one eval forward of a 1-channel image, K = 16), run in a child process. */
import { activateBackend, type BackendName } from '../main/engine/backends';
import { LdOnnxModel, type OrtExecutionProvider } from '../main/engine/infer/onnxModel';
import { ldForward } from '../main/engine/model/ldNet';
import { initModel } from '../main/engine/model/params';
import { buildLdOnnx } from '../main/engine/onnx/exportOnnx';
import { Rng } from '../main/engine/rng';
import { tf } from '../main/engine/tf';

export interface InferBenchCase {
  runtime: 'ort' | 'tfjs';
  backend?: BackendName;
  ep?: OrtExecutionProvider;
  size: number;
  steps: number;
}

export interface InferBenchResult extends InferBenchCase {
  ok: boolean;
  seconds?: number;
  warmupSeconds?: number;
  detail?: string;
  error?: string;
}

const MODEL = { inChannels: 1 as const, embedDim: 32, clusters: 16 };

export async function runInferBenchCase(c: InferBenchCase): Promise<InferBenchResult> {
  await activateBackend(c.runtime === 'tfjs' ? c.backend! : 'cpu');
  const store = initModel(MODEL, new Rng(1));
  const rng = new Rng(2);
  const input = new Float32Array(c.size * c.size).map(() => rng.uniform(-1, 1));
  const times: number[] = [];
  let detail = '';
  if (c.runtime === 'ort') {
    const model = await LdOnnxModel.load(buildLdOnnx(await store.toArrays(), { channels: 1, clusters: 16, embedDim: 32 }), { executionProviders: [c.ep ?? 'cpu'] });
    detail = `execution provider ${model.executionProvider}${model.notes.length ? `; ${model.notes.join('; ')}` : ''}`;
    for (let i = 0; i < c.steps + 1; i++) {
      const t0 = performance.now();
      await model.run(input, 1, c.size, c.size);
      times.push((performance.now() - t0) / 1000);
    }
    await model.dispose();
  } else {
    for (let i = 0; i < c.steps + 1; i++) {
      const t0 = performance.now();
      const out = tf.tidy(() => {
        const o = ldForward(tf.tensor4d(input, [1, c.size, c.size, 1]), store, MODEL, { training: false, filterGrad: 'im2col' });
        return { z: o.z, a: o.a! };
      });
      await out.z.data();
      await out.a.data();
      tf.dispose([out.z, out.a]);
      times.push((performance.now() - t0) / 1000);
    }
  }
  const timed = times.slice(1).sort((a, b) => a - b);
  return { ...c, ok: true, seconds: timed[Math.floor(timed.length / 2)], warmupSeconds: times[0], detail };
}
