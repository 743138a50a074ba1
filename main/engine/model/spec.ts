/**
 * The LD network's layer list (ld-method.md §2): a VGG-16-BN encoder at 1/4 width
 * (`vgg16_bn_tiny`), a U-Net decoder, an embedding branch and an optional clustering branch.
 * Names are stable: checkpoints, ONNX export and the PyTorch engine key on them.
 */
export interface ConvSpec {
  name: string;
  cin: number;
  cout: number;
  /** Followed by BatchNorm + ReLU. */
  bn: boolean;
  init: 'kaiming-fan-out' | 'torch-default';
}

export interface ModelConfig {
  /** Input channels: 1 for radiographs (paper's X-ray variant), 3 for colour. */
  inChannels: 1 | 3;
  /** Embedding dimension D (paper: 32). */
  embedDim: number;
  /** Number of clusters K (paper: 16 for LD, 8 for the shape-guided run); 0 = no clustering branch (stage 1). */
  clusters: number;
}

/** Encoder stages: output channels of each conv; the activation before each pool is a skip. */
export const ENCODER_STAGES = [[16, 16], [32, 32], [64, 64, 64], [128, 128, 128], [128, 128, 128]] as const;

export function encoderSpecs(inChannels: number): ConvSpec[] {
  const specs: ConvSpec[] = [];
  let cin = inChannels;
  ENCODER_STAGES.forEach((stage, s) => {
    stage.forEach((cout, i) => {
      specs.push({ name: `enc${s + 1}_${i + 1}`, cin, cout, bn: true, init: 'kaiming-fan-out' });
      cin = cout;
    });
  });
  return specs;
}

/** Decoder blocks: [name, input channels (upsampled + skip), mid, out]. */
export const DECODER_BLOCKS = [
  ['u8', 256, 128, 64],
  ['u4', 128, 64, 32],
  ['u2', 64, 32, 16],
] as const;

export function decoderSpecs(): ConvSpec[] {
  return DECODER_BLOCKS.flatMap(([name, cin, mid, cout]) => [
    { name: `${name}_1`, cin, cout: mid, bn: true, init: 'torch-default' as const },
    { name: `${name}_2`, cin: mid, cout, bn: true, init: 'torch-default' as const },
  ]);
}

export function embeddingSpecs(embedDim: number): ConvSpec[] {
  return [
    { name: 'emb_1', cin: 32, cout: 32, bn: true, init: 'torch-default' },
    { name: 'emb_2', cin: 32, cout: embedDim, bn: false, init: 'torch-default' },
  ];
}

export function clusterSpecs(clusters: number): ConvSpec[] {
  if (clusters <= 0) return [];
  return [
    { name: 'clu_1', cin: 32, cout: clusters, bn: true, init: 'torch-default' },
    { name: 'clu_2', cin: clusters, cout: clusters, bn: false, init: 'torch-default' },
  ];
}

export function allConvSpecs(config: ModelConfig): ConvSpec[] {
  return [...encoderSpecs(config.inChannels), ...decoderSpecs(), ...embeddingSpecs(config.embedDim), ...clusterSpecs(config.clusters)];
}

/** Trainable parameter count (conv weights + biases + BN γ/β), for checks against the spec's table. */
export function trainableParameterCount(config: ModelConfig): number {
  return allConvSpecs(config).reduce((sum, s) => sum + 9 * s.cin * s.cout + s.cout + (s.bn ? 2 * s.cout : 0), 0);
}
