/** Reading DICOM Segmentations for display as overlays. */
export {
  readSegmentation,
  segmentMask,
  SegmentationReadError,
  type Code,
  type FrameSource,
  type Segmentation,
  type SegmentationFrame,
  type SegmentInfo,
} from './readSegmentation';
