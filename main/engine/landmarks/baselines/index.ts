/** Non-learned landmark baselines: a stretched template and multi-scale NCC patch matching. */
export { greyFromRecord, mapPoint, resizeGrey, sizeWithLongSide, type GreyImage, type Size } from './greyImage';
export { DEFAULT_NCC_OPTIONS, matchLandmarksNcc, NccMatcher, type NccMatch, type NccOptions } from './nccMatch';
export { scaledTemplate } from './scaledTemplate';
