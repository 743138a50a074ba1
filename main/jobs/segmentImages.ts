/**
 * The one segmentation loop (ld-method.md §5.5), for the app's job (in a worker, ipc/segment.ts) and
 * for `ld-studio segment` (cli/segment.ts): for each image, read it, run the network, bring the
 * probability map back to the image's size and threshold it. Results stream out one image at a time,
 * each a Mask (common/mask.ts) that the caller hands to a mask writer as it is; a failure on one image
 * is reported for that image and the others go on.
 *
 * Two kinds of model: an LD model (shape-guided or any stage-2: a cluster's map, `method`), or a
 * segmentation head fine-tuned from corrected masks (jobs/segmentationHead.ts: its `probability`
 * output, at the `shape` it was trained at).
 */
import { insideOf, maskFromProbability, type Mask } from '../../common/mask';
import { LdOnnxModel, type LdOnnxKind, type OrtExecutionProvider } from '../engine/infer/onnxModel';
import { preprocessForNetwork, type InputFit } from '../engine/infer/preprocess';
import { dice } from '../engine/shapeGuided/quadMasks';
import { predictImage, toOriginalSize, type SegmentMethod } from '../engine/shapeGuided/segment';
import { readImage } from '../io';
import { ImageReadError } from '../io/imageRecord';

export interface SegmentImagesOptions {
  /** The ONNX model: a file, or its bytes (a checkpoint exported in memory). */
  model: string | Uint8Array;
  executionProviders?: OrtExecutionProvider[];
  threads?: number;
  /** Network input side. */
  size: number;
  /** Exactly this network input (a segmentation head: the size it was trained at); overrides size and fit. */
  shape?: { width: number; height: number };
  fit?: InputFit;
  method: SegmentMethod;
  /** The cluster whose probability is segmented (default 0: the shape-guided channel). */
  cluster?: number;
  threshold: number;
  /** Field-of-view threshold (0: off), as in segment.ts. */
  fovThreshold?: number;
  /** Also threshold the other method's map and report the Dice of the two masks, a per-image agreement figure. */
  agreement?: boolean;
  /** Why a model without a clustering branch cannot segment (names the run or file). */
  noClusteringMessage: string;
  /** `width`/`height`, when given: the size recorded at import; a file that changed since is refused. */
  images: Array<{ id: string; path: string; width?: number; height?: number }>;
}

export type SegmentedImage =
  | { id: string; mask: Required<Mask>; agreement?: number; ms: number; error?: undefined }
  | { id: string; error: string; mask?: undefined };

/** The loaded model, for reports (and for the caller to refuse options it cannot serve). */
export interface SegmentModelInfo {
  kind: LdOnnxKind;
  clusters: number;
  executionProvider: string;
  notes: string[];
}

export async function segmentImages(
  opts: SegmentImagesOptions,
  /** Each image's result; the next image waits for the promise it returns. */
  onImage: (result: SegmentedImage) => void | Promise<void>,
  cancel: { readonly cancelled: boolean },
  onModel?: (info: SegmentModelInfo) => void,
): Promise<SegmentModelInfo> {
  const onnx = await LdOnnxModel.load(opts.model, { executionProviders: opts.executionProviders, threads: opts.threads });
  try {
    const info = { kind: onnx.kind, clusters: onnx.clusters, executionProvider: onnx.executionProvider, notes: [...onnx.notes] };
    if (onnx.kind === 'ld' && onnx.clusters === 0) throw new Error(opts.noClusteringMessage);
    onModel?.(info);
    const predictOptions = { size: opts.size, fit: opts.fit ?? 'square', cluster: opts.cluster ?? 0, fovThreshold: opts.fovThreshold ?? 0 };
    const other: SegmentMethod = opts.method === 'attention' ? 'cos' : 'attention';
    for (const image of opts.images) {
      if (cancel.cancelled) break;
      const t = performance.now();
      let result: SegmentedImage;
      try {
        const record = await readImage(image.path, { id: image.id });
        if (image.width !== undefined && (record.width !== image.width || record.height !== image.height)) {
          throw new Error(`the file is now ${record.width}×${record.height}, but it was ${image.width}×${image.height} when imported; remove the image and import it again`);
        }
        const { width, height } = record;
        if (onnx.kind === 'segmentation') {
          const input = preprocessForNetwork(record, { channels: onnx.channels, size: opts.size, fit: opts.fit, shape: opts.shape });
          const probability = await onnx.runProbability(input.data, 1, input.height, input.width);
          const mask = maskFromProbability(width, height, toOriginalSize(probability, input.width, input.height, width, height), opts.threshold);
          result = { id: image.id, mask, ms: Math.round(performance.now() - t) };
        } else {
          const prediction = await predictImage(onnx, record, predictOptions);
          const atSize = (m: SegmentMethod) => toOriginalSize(prediction[m], prediction.width, prediction.height, width, height);
          const mask = maskFromProbability(width, height, atSize(opts.method), opts.threshold);
          const agreement = opts.agreement ? dice(mask.inside, insideOf(atSize(other), opts.threshold)) : undefined;
          result = { id: image.id, mask, agreement, ms: Math.round(performance.now() - t) };
        }
      } catch (err) {
        result = { id: image.id, error: err instanceof ImageReadError ? err.reason : (err as Error).message };
      }
      // a caller that stores each result asynchronously holds the loop back until it may go on
      await onImage(result);
    }
    return info;
  } finally {
    await onnx.dispose();
  }
}
