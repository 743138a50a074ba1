/**
 * ONNX export of the LD network (ld-method.md §2) from a checkpoint's tensors, written directly as
 * an ONNX ModelProto with `onnx-proto` (no converter exists for tfjs). The graph is the engine's
 * evaluation forward (`ldForward` with training: false), laid out NCHW:
 *
 *   image (N, C, H, W) → encoder (3×3 conv + BN + ReLU, 2×2 max-pool between stages; the 5th pool is
 *   never computed) → U-Net decoder (nearest ×2 upsampling, Concat [upsampled, skip] on channels)
 *   → embedding (N, D, H, W), v / (‖v‖₂ + 1e-10) per pixel
 *   → clusters (N, K, H, W), (σ + 1e-9) / Σ_k (σ + 1e-9), when the model has a clustering branch.
 *
 * Eval-mode BatchNorm (running statistics, eps 1e-5) is folded into the preceding conv by default
 * (W' = W·γ/√(var+eps), b' = (b − mean)·γ/√(var+eps) + β, computed in float64); `foldBatchNorm: false`
 * emits BatchNormalization nodes instead. The inputs and outputs are those of the PyTorch engine's
 * `export-onnx` (resources/torch/PROTOCOL.md): opset 17, IR version 8, dynamic N, H, W (H and W must
 * be multiples of 16).
 */
import { onnx } from 'onnx-proto';
import type { NamedArray } from '../model/params';
import { allConvSpecs, DECODER_BLOCKS, ENCODER_STAGES, type ConvSpec } from '../model/spec';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT = 'image';
export const ONNX_EMBEDDING = 'embedding';
export const ONNX_CLUSTERS = 'clusters';

const BN_EPSILON = 1e-5; // = main/engine/model/conv.ts BN_EPSILON (not imported: that module loads tfjs)
const L2_EPSILON = 1e-10; // = ldNet.ts L2_EPSILON
const CLUSTER_EPSILON = 1e-9; // = ldNet.ts CLUSTER_EPSILON

export interface LdOnnxConfig {
  channels: number;
  /** 0 = no clustering branch (stage-1 model): only `embedding` is an output. */
  clusters: number;
  embedDim: number;
}

export interface LdOnnxOptions extends LdOnnxConfig {
  /** Fold eval-mode BatchNorm into the conv weights (default) or emit BatchNormalization nodes. */
  foldBatchNorm?: boolean;
  /** Stored in the model's metadata (e.g. the checkpoint it came from). */
  metadata?: Record<string, string>;
}

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian; every platform Node and onnxruntime run on is.
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

type AttrValue = number[] | string | { float: number } | { int: number };

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.INT, i: value.int };
}

function valueInfo(name: string, dims: Array<number | string>): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Collects nodes and initializers with unique names. */
class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;

  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  floatTensor(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: bytesOf(data) });
    return name;
  }

  int64Tensor(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, rawData: bytesOf(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }

  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({
      opType,
      name: this.fresh(`n_${opType}`),
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }
}

function tensor(tensors: Map<string, NamedArray>, name: string, shape: number[]): Float32Array {
  const t = tensors.get(name);
  if (!t) throw new Error(`the checkpoint has no tensor '${name}'`);
  if (t.shape.join('x') !== shape.join('x')) {
    throw new Error(`checkpoint tensor '${name}' has shape ${t.shape.join('×')}, the model expects ${shape.join('×')}`);
  }
  if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`checkpoint tensor '${name}' has ${t.data.length} values for shape ${shape.join('×')}`);
  return t.data;
}

/** HWIO [kh, kw, Cin, Cout] → OIHW [Cout, Cin, kh, kw], each output channel scaled by `scale[o]` (float64). */
export function hwioToOihw(w: Float32Array, k: number, cin: number, cout: number, scale?: Float64Array): Float32Array {
  const out = new Float32Array(w.length);
  for (let kh = 0; kh < k; kh++) {
    for (let kw = 0; kw < k; kw++) {
      for (let i = 0; i < cin; i++) {
        const src = ((kh * k + kw) * cin + i) * cout;
        for (let o = 0; o < cout; o++) {
          const v = w[src + o];
          out[((o * cin + i) * k + kh) * k + kw] = scale ? v * scale[o] : v;
        }
      }
    }
  }
  return out;
}

interface Emitter {
  g: GraphBuilder;
  tensors: Map<string, NamedArray>;
  fold: boolean;
  specs: Map<string, ConvSpec>;
}

/** 3×3 "same" conv (+ bias), with eval BatchNorm and ReLU when the layer has BN. */
function conv(e: Emitter, x: string, name: string): string {
  const spec = e.specs.get(name);
  if (!spec) throw new Error(`internal: no layer '${name}'`);
  const { cin, cout } = spec;
  const w = tensor(e.tensors, `${name}.weight`, [3, 3, cin, cout]);
  const b = tensor(e.tensors, `${name}.bias`, [cout]);
  const convAttrs = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: { int: 1 } };
  if (!spec.bn) {
    const wName = e.g.floatTensor(`${name}.weight`, [cout, cin, 3, 3], hwioToOihw(w, 3, cin, cout));
    const bName = e.g.floatTensor(`${name}.bias`, [cout], b);
    return e.g.node('Conv', [x, wName, bName], convAttrs, name);
  }
  const gamma = tensor(e.tensors, `${name}.bn.gamma`, [cout]);
  const beta = tensor(e.tensors, `${name}.bn.beta`, [cout]);
  const mean = tensor(e.tensors, `${name}.bn.running_mean`, [cout]);
  const variance = tensor(e.tensors, `${name}.bn.running_var`, [cout]);
  let y: string;
  if (e.fold) {
    const scale = new Float64Array(cout);
    const bias = new Float32Array(cout);
    for (let o = 0; o < cout; o++) {
      scale[o] = gamma[o] / Math.sqrt(variance[o] + BN_EPSILON);
      bias[o] = (b[o] - mean[o]) * scale[o] + beta[o];
    }
    const wName = e.g.floatTensor(`${name}.weight`, [cout, cin, 3, 3], hwioToOihw(w, 3, cin, cout, scale));
    const bName = e.g.floatTensor(`${name}.bias`, [cout], bias);
    y = e.g.node('Conv', [x, wName, bName], convAttrs, `${name}.conv`);
  } else {
    const wName = e.g.floatTensor(`${name}.weight`, [cout, cin, 3, 3], hwioToOihw(w, 3, cin, cout));
    const bName = e.g.floatTensor(`${name}.bias`, [cout], b);
    const c = e.g.node('Conv', [x, wName, bName], convAttrs, `${name}.conv`);
    y = e.g.node(
      'BatchNormalization',
      [c, e.g.floatTensor(`${name}.bn.gamma`, [cout], gamma), e.g.floatTensor(`${name}.bn.beta`, [cout], beta),
        e.g.floatTensor(`${name}.bn.running_mean`, [cout], mean), e.g.floatTensor(`${name}.bn.running_var`, [cout], variance)],
      { epsilon: { float: BN_EPSILON } },
      `${name}.bn`,
    );
  }
  return e.g.node('Relu', [y], {}, name);
}

/**
 * The ONNX model (serialised ModelProto) for the LD network with these weights. `tensors` may hold
 * more than the model needs (Adam moments `adam.*`, other layers): they are ignored.
 */
export function buildLdOnnx(tensors: Map<string, NamedArray>, opts: LdOnnxOptions): Uint8Array {
  const { channels, clusters, embedDim } = opts;
  if (channels !== 1 && channels !== 3) throw new Error(`ONNX export: channels must be 1 or 3, got ${channels}`);
  if (!Number.isInteger(clusters) || clusters < 0) throw new Error(`ONNX export: bad cluster count ${clusters}`);
  if (!Number.isInteger(embedDim) || embedDim <= 0) throw new Error(`ONNX export: bad embedding dimension ${embedDim}`);
  const config = { inChannels: channels as 1 | 3, embedDim, clusters };
  const g = new GraphBuilder();
  const e: Emitter = { g, tensors, fold: opts.foldBatchNorm ?? true, specs: new Map(allConvSpecs(config).map((s) => [s.name, s])) };

  const axis1 = g.int64Tensor('const.axes_1', [1]);
  const upScales = g.floatTensor('const.upsample_scales', [4], new Float32Array([1, 1, 2, 2]));
  const upsample = (x: string) =>
    g.node('Resize', [x, '', upScales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });

  // Encoder: skips are the activations just before each pool (the 5th pool is not computed).
  const skips: string[] = [];
  let h = ONNX_INPUT;
  ENCODER_STAGES.forEach((stage, s) => {
    if (s > 0) h = g.node('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }, `pool${s}`);
    stage.forEach((_, i) => {
      h = conv(e, h, `enc${s + 1}_${i + 1}`);
    });
    skips.push(h);
  });

  // Decoder trunk.
  h = skips[4];
  DECODER_BLOCKS.forEach(([name], i) => {
    h = g.node('Concat', [upsample(h), skips[3 - i]], { axis: { int: 1 } }, `${name}.concat`);
    h = conv(e, h, `${name}_1`);
    h = conv(e, h, `${name}_2`);
  });
  const trunk = g.node('Concat', [upsample(h), skips[0]], { axis: { int: 1 } }, 'trunk');

  // Embedding: v / (sqrt(Σ_c v²) + 1e-10).
  const v = conv(e, conv(e, trunk, 'emb_1'), 'emb_2');
  const sumSq = g.node('ReduceSum', [g.node('Mul', [v, v]), axis1], { keepdims: { int: 1 } }, 'emb.sum_sq');
  const norm = g.node('Add', [g.node('Sqrt', [sumSq]), g.floatTensor('const.l2_eps', [], new Float32Array([L2_EPSILON]))]);
  g.node('Div', [v, norm], {}, ONNX_EMBEDDING);

  const outputs = [valueInfo(ONNX_EMBEDDING, ['N', embedDim, 'H', 'W'])];
  if (clusters > 0) {
    const logits = conv(e, conv(e, trunk, 'clu_1'), 'clu_2');
    const s = g.node('Add', [g.node('Sigmoid', [logits]), g.floatTensor('const.cluster_eps', [], new Float32Array([CLUSTER_EPSILON]))], {}, 'clu.sigmoid_eps');
    const total = g.node('ReduceSum', [s, axis1], { keepdims: { int: 1 } }, 'clu.sum');
    g.node('Div', [s, total], {}, ONNX_CLUSTERS);
    outputs.push(valueInfo(ONNX_CLUSTERS, ['N', clusters, 'H', 'W']));
  }

  const metadata: Record<string, string> = {
    'ld.format': 'ld-studio/onnx@1',
    'ld.channels': String(channels),
    'ld.clusters': String(clusters),
    'ld.embed_dim': String(embedDim),
    'ld.batchnorm': e.fold ? 'folded' : 'nodes',
    ...opts.metadata,
  };
  const model: onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'ld-studio',
    producerVersion: '1',
    docString: 'Local Discrimination network (Chen et al., TPAMI 2023): per-pixel embedding and soft clustering. Input: NCHW float, H and W multiples of 16, normalised like training.',
    graph: {
      name: 'ld_net',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT, ['N', channels, 'H', 'W'])],
      output: outputs,
    },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(model).finish();
}

/** The model configuration a checkpoint's tensors describe. */
export function inferLdConfig(tensors: Map<string, NamedArray>, source = 'checkpoint'): LdOnnxConfig {
  const first = tensors.get('enc1_1.weight');
  if (!first || first.shape.length !== 4) throw new Error(`${source}: no 'enc1_1.weight' [3,3,C,16] tensor; is this an LD checkpoint?`);
  const emb = tensors.get('emb_2.weight');
  if (!emb || emb.shape.length !== 4) throw new Error(`${source}: no 'emb_2.weight' tensor; is this an LD checkpoint?`);
  const clu = tensors.get('clu_2.weight');
  return { channels: first.shape[2], embedDim: emb.shape[3], clusters: clu ? clu.shape[3] : 0 };
}
