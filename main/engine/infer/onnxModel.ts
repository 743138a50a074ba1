/**
 * Inference with an exported LD model (main/engine/onnx/exportOnnx.ts, or the PyTorch engine's
 * `export-onnx`) through onnxruntime-node. Input `image` (N, C, H, W) float32, normalised like
 * training (preprocess.ts); outputs `embedding` (N, D, H, W) and, for stage-2 models, `clusters`
 * (N, K, H, W). A segmentation head fine-tuned on the LD network (the PyTorch engine's `finetune-seg`)
 * has the output `probability` (N, 1, H, W) instead: kind 'segmentation', run with `runProbability`.
 *
 * onnxruntime-node bundles the CPU execution provider. CUDA needs provider libraries that its install
 * script downloads (skipped offline): when CUDA is asked for and cannot be loaded, the session falls
 * back to CPU and says so in `notes`.
 */
// eslint-disable-next-line layers/allowed-imports -- probes onnxruntime-node's own install for its CUDA library, not user files
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';

let ortCache: typeof OrtModule | undefined;
/** onnxruntime-node is a native module: loaded on first use, so commands that never infer do not pay for it. */
function ort(): typeof OrtModule {
  ortCache ??= createRequire(__filename)('onnxruntime-node') as typeof OrtModule;
  return ortCache;
}

export type OrtExecutionProvider = 'cuda' | 'cpu';

export interface LdOnnxLoadOptions {
  /** Tried in order; CPU is always the last resort. Default ['cpu']. */
  executionProviders?: OrtExecutionProvider[];
  /** intraOpNumThreads (default: onnxruntime's choice, one per physical core). */
  threads?: number;
}

export interface LdOnnxResult {
  /** (N, D, H, W), unit norm per pixel. */
  embedding: Float32Array;
  /** (N, K, H, W), sums to 1 per pixel; absent for a model without a clustering branch. */
  clusters?: Float32Array;
  shape: { n: number; h: number; w: number; embedDim: number; clusters: number };
}

/**
 * Why CUDA cannot load, when that is known without trying: onnxruntime-node looks for its provider
 * libraries next to its binding, and trying without them makes it print an error of its own.
 */
export function cudaUnavailableReason(): string | undefined {
  if (process.platform !== 'linux' && process.platform !== 'win32') return `onnxruntime-node has no CUDA build for ${process.platform}`;
  let bindingDir: string;
  try {
    bindingDir = join(dirname(createRequire(__filename).resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
  if (!existsSync(bindingDir)) return undefined;
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (existsSync(join(bindingDir, lib))) return undefined;
  return `${lib} is not installed in ${bindingDir} (onnxruntime-node's install script downloads it; it was skipped or offline)`;
}

function channelDim(meta: readonly InferenceSession.ValueMetadata[], name: string): number | undefined {
  const m = meta.find((v) => v.name === name);
  if (!m || !m.isTensor) return undefined;
  const d = m.shape[1];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** 'ld': embedding (+ clusters); 'segmentation': a fine-tuned head's per-pixel probability. */
export type LdOnnxKind = 'ld' | 'segmentation';

export class LdOnnxModel {
  private constructor(
    private session: InferenceSession | null,
    /** Where the model came from (a path, or 'memory'). */
    readonly source: string,
    /** Input channels the model expects (1 or 3). */
    readonly channels: number,
    readonly embedDim: number | undefined,
    /** Clusters K, 0 when the model has no `clusters` output. */
    readonly clusters: number,
    /** The execution provider the session runs on. */
    readonly executionProvider: OrtExecutionProvider,
    /** Fallbacks taken while loading (e.g. CUDA unavailable). */
    readonly notes: string[],
    readonly kind: LdOnnxKind = 'ld',
  ) {}

  /** Load an ONNX file (path) or serialised model (bytes). */
  static async load(model: string | Uint8Array, opts: LdOnnxLoadOptions = {}): Promise<LdOnnxModel> {
    const requested = opts.executionProviders?.length ? opts.executionProviders : (['cpu'] as OrtExecutionProvider[]);
    const order = [...new Set<OrtExecutionProvider>([...requested, 'cpu'])];
    const notes: string[] = [];
    const base: InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
    if (opts.threads !== undefined) {
      if (!Number.isInteger(opts.threads) || opts.threads < 0) throw new Error(`threads must be a non-negative integer, got ${opts.threads}`);
      base.intraOpNumThreads = opts.threads;
    }
    let session: InferenceSession | undefined;
    let provider: OrtExecutionProvider = 'cpu';
    for (const ep of order) {
      const missing = ep === 'cuda' ? cudaUnavailableReason() : undefined;
      if (missing) {
        notes.push(`cuda execution provider unavailable: ${missing}; falling back`);
        continue;
      }
      try {
        // A provider that cannot load logs an error of its own before throwing: keep that quiet.
        const options: InferenceSession.SessionOptions = { ...base, executionProviders: [ep], ...(ep === 'cpu' ? {} : { logSeverityLevel: 4 }) };
        const { InferenceSession: Session } = ort();
        session = typeof model === 'string' ? await Session.create(model, options) : await Session.create(model, options);
        provider = ep;
        break;
      } catch (err) {
        const msg = (err as Error).message ?? String(err);
        if (ep === 'cpu') throw new Error(`cannot load ONNX model ${typeof model === 'string' ? model : '(in memory)'}: ${msg}`);
        notes.push(`${ep} execution provider unavailable: ${msg.split('\n')[0]}; falling back`);
      }
    }
    if (!session) throw new Error('internal: no session');
    const kind: LdOnnxKind | undefined = !session.inputNames.includes('image') ? undefined
      : session.outputNames.includes('embedding') ? 'ld' : session.outputNames.includes('probability') ? 'segmentation' : undefined;
    if (!kind) {
      const names = `inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]`;
      await session.release();
      throw new Error(`not an LD model: expected input 'image' and output 'embedding' (or 'probability'), found ${names}`);
    }
    const channels = channelDim(session.inputMetadata, 'image') ?? 1;
    const source = typeof model === 'string' ? model : 'memory';
    if (kind === 'segmentation') return new LdOnnxModel(session, source, channels, undefined, 0, provider, notes, kind);
    const embedDim = channelDim(session.outputMetadata, 'embedding');
    const clusters = session.outputNames.includes('clusters') ? (channelDim(session.outputMetadata, 'clusters') ?? -1) : 0;
    return new LdOnnxModel(session, source, channels, embedDim, clusters, provider, notes);
  }

  private async runSession(input: Float32Array, n: number, h: number, w: number) {
    if (!this.session) throw new Error('the model has been disposed');
    if (h % 16 !== 0 || w % 16 !== 0 || h <= 0 || w <= 0) throw new Error(`input side lengths must be positive multiples of 16, got ${h}×${w}`);
    const expected = n * this.channels * h * w;
    if (input.length !== expected) throw new Error(`input has ${input.length} values, expected ${n}×${this.channels}×${h}×${w} = ${expected}`);
    const feeds = { image: new (ort().Tensor)('float32', input, [n, this.channels, h, w]) };
    return this.session.run(feeds);
  }

  /** Run on `n` images of h×w (multiples of 16), NCHW float32, normalised like training. */
  async run(input: Float32Array, n: number, h: number, w: number): Promise<LdOnnxResult> {
    if (this.kind !== 'ld') throw new Error(`${this.source}: a segmentation model has no embedding output (use runProbability)`);
    const out = await this.runSession(input, n, h, w);
    const emb = out.embedding;
    const embedding = emb.data as Float32Array;
    const embedDim = Number(emb.dims[1]);
    const result: LdOnnxResult = { embedding, shape: { n, h, w, embedDim, clusters: 0 } };
    if (out.clusters) {
      result.clusters = out.clusters.data as Float32Array;
      result.shape.clusters = Number(out.clusters.dims[1]);
    }
    return result;
  }

  /** A segmentation model's probability of inside, (N, 1, H, W), for input as `run` takes it. */
  async runProbability(input: Float32Array, n: number, h: number, w: number): Promise<Float32Array> {
    if (this.kind !== 'segmentation') throw new Error(`${this.source}: not a segmentation model (no 'probability' output)`);
    const out = await this.runSession(input, n, h, w);
    return out.probability.data as Float32Array;
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.release();
  }
}
