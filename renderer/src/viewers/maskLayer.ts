/**
 * A binary mask as a Cornerstone3D labelmap over a stack viewport (segment 1), edited with the brush
 * and eraser. The mask's pixels live in the labelmap image's voxel manager; `read()` copies them out.
 * Edits are reported per stroke (pixels before and after), which is what undo and saving need.
 */
import { cache, imageLoader, type Types } from '@cornerstonejs/core';
import { Enums as ToolEnums, segmentation } from '@cornerstonejs/tools';

export interface MaskLayer {
  readonly width: number;
  readonly height: number;
  read(): Uint8Array;
  write(mask: Uint8Array): void;
  setOpacity(opacity: number): void;
  remove(): void;
}

let counter = 0;

export function addMaskLayer(viewport: Types.IStackViewport, referencedImageId: string, width: number, height: number, mask: Uint8Array): MaskLayer {
  const id = `ld-mask-${++counter}`;
  const labelmapImage = imageLoader.createAndCacheDerivedLabelmapImage(referencedImageId, { imageId: `${id}-image` });
  const voxels = labelmapImage.voxelManager as unknown as Types.IVoxelManager<number>;
  const segmentationId = `${id}-seg`;

  const write = (data: Uint8Array) => {
    if (data.length !== width * height) throw new Error(`mask has ${data.length} values for a ${width}×${height} image`);
    const target = voxels.getScalarData() as Uint8Array;
    target.set(data);
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(segmentationId);
  };

  segmentation.addSegmentations([
    {
      segmentationId,
      representation: { type: ToolEnums.SegmentationRepresentations.Labelmap, data: { imageIds: [labelmapImage.imageId] } },
      config: { label: 'Mask', segments: { 1: { label: 'Structure', active: true } } },
    },
  ]);
  segmentation.addLabelmapRepresentationToViewport(viewport.id, [{ segmentationId }]);
  segmentation.segmentIndex.setActiveSegmentIndex(segmentationId, 1);
  write(mask);

  return {
    width,
    height,
    read: () => new Uint8Array(voxels.getScalarData() as Uint8Array),
    write,
    setOpacity(opacity) {
      segmentation.segmentationStyle.setStyle(
        { type: ToolEnums.SegmentationRepresentations.Labelmap, viewportId: viewport.id, segmentationId },
        { fillAlpha: opacity, fillAlphaInactive: opacity, renderOutline: true, outlineOpacity: Math.min(1, opacity + 0.3) },
      );
      viewport.render();
    },
    remove() {
      segmentation.removeSegmentation(segmentationId);
      cache.removeImageLoadObject(labelmapImage.imageId);
      viewport.render();
    },
  };
}
