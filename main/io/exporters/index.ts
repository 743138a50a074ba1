/** DICOM exports: Segmentation (SEG) from masks, SR TID 1500 from landmarks, segment codes and dcmqi JSON. */
export { ExportError } from './exportError';
export {
  categoriesOfType,
  checkCode,
  CodeError,
  concept,
  findCode,
  resolveCategory,
  resolveType,
  searchCodes,
  SEGMENT_CATEGORIES,
  TYPE_MODIFIERS,
  type CategoryEntry,
  type CodedConcept,
  type CodeEntry,
  type CodeMatch,
} from './codes';
export {
  DCMQI_SEG_SCHEMA,
  describeSegments,
  formatSegmentDescriptionJson,
  parseSegmentDescriptionJson,
  readSegmentDescriptionFile,
  SEGMENT_ALGORITHM_TYPES,
  writeSegmentDescriptionFile,
  type SegmentAlgorithmType,
  type SegmentationMetadata,
  type SegmentDescription,
  type SegmentDescriptionFile,
} from './segmentDescription';
export { nonDicomSourceReason, readSourceImage, readSources, NotASourceError, type SourceGeometry, type SourceImage, type SourceSet } from './dicomSource';
export {
  buildSegmentation,
  MAXIMUM_FRACTIONAL_VALUE,
  SEGMENTATION_STORAGE,
  segmentationToBytes,
  type BuiltSegmentation,
  type SegmentationOptions,
  type SegmentationSummary,
  type SegmentationType,
  type SegmentInput,
  type SegmentMasks,
} from './segmentation';
export { readMaskImages, segmentMasksFrom, type MaskImage } from './maskImages';
export { exportSegmentationFiles, type SegmentationExportReport, type SegmentationExportRequest } from './segmentationFiles';
export {
  buildLandmarkSr,
  CONFIDENCE_NOTE,
  ENHANCED_SR_STORAGE,
  exportLandmarkSrFiles,
  landmarkSrToBytes,
  landmarksForImage,
  landmarkTrackingUid,
  type LandmarkSrExportReport,
  type LandmarkSrExportRequest,
  type LandmarkSrOptions,
  type LandmarkSrSummary,
} from './landmarkSr';
