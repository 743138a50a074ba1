/** Image input: DICOM (native and compressed), PNG, JPEG and TIFF → ImageRecord. */
export { ImageReadError, type DicomSource, type ImageFormat, type ImageRecord } from './imageRecord';
export {
  readImage,
  readImageFolder,
  type FolderProgress,
  type FolderRead,
  type ReadFailure,
  type ReadFolderOptions,
  type ReadImageOptions,
} from './readImage';
export { listImageFiles, type ListOptions } from './listImageFiles';
export { sniffFormat, SUPPORTED_EXTENSIONS } from './sniffFormat';
