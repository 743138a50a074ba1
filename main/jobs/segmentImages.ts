/**
 * Segmentation of images with a model's clustering channel as a job (ld-method.md §5.5): for each
 * image, read it, run the network, bring the probability map back to the image's size and threshold
 * it. Results stream out one image at a time (the caller stores them); a failure on one image is
 * reported for that image and the others go on.
 */
import { LdOnnxModel } from '../engine/infer/onnxModel';
import { predictImage, toOriginalSize, type SegmentMethod } from '../engine/shapeGuided/segment';
import { readImage } from '../io';
import { ImageReadError } from '../io/imageRecord';
import { probabilityBytes } from '../project/masks';

export interface SegmentImagesOptions {
  /** The ONNX model: a file, or its bytes (a checkpoint exported in memory). */
  model: string | Uint8Array;
  /** Network input side. */
  size: number;
  method: SegmentMethod;
  threshold: number;
  /** Why a model without a clustering branch cannot segment (names the run). */
  noClusteringMessage: string;
  /** `width`/`height`: the size recorded at import; a file that changed since is refused. */
  images: Array<{ id: string; path: string; width: number; height: number }>;
}

export type SegmentedImage =
  | { id: string; mask: Uint8Array; probability: Uint8Array; error?: undefined }
  | { id: string; error: string; mask?: undefined };

export async function segmentImages(opts: SegmentImagesOptions, onImage: (result: SegmentedImage) => void, cancel: { readonly cancelled: boolean }): Promise<void> {
  const onnx = await LdOnnxModel.load(opts.model);
  try {
    if (onnx.clusters === 0) throw new Error(opts.noClusteringMessage);
    for (const image of opts.images) {
      if (cancel.cancelled) return;
      try {
        const record = await readImage(image.path);
        if (record.width !== image.width || record.height !== image.height) {
          throw new Error(`the file is now ${record.width}×${record.height}, but it was ${image.width}×${image.height} when imported; remove the image and import it again`);
        }
        const prediction = await predictImage(onnx, record, { size: opts.size, fit: 'square', cluster: 0 });
        const prob = toOriginalSize(prediction[opts.method], prediction.width, prediction.height, record.width, record.height);
        const mask = new Uint8Array(prob.length);
        for (let p = 0; p < prob.length; p++) mask[p] = prob[p] > opts.threshold ? 1 : 0;
        onImage({ id: image.id, mask, probability: probabilityBytes(prob) });
      } catch (err) {
        onImage({ id: image.id, error: err instanceof ImageReadError ? err.reason : (err as Error).message });
      }
    }
  } finally {
    await onnx.dispose();
  }
}
