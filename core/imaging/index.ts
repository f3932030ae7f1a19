/**
 * Public entry of core/imaging. Other modules import from here only.
 * - decodeDicom / readDicomHeader: core/imaging/dicom
 * - decodePhoto: core/imaging/photo
 * - decodeImageFile: picks by content (DICM magic / file signature)
 */
export * from './types';
export * from './dicom';
export * from './photo';
export * from './decode-file';
export * from './display';
export * from './model-input';
export { DecodePool, defaultPoolSize, type VerifyRequestOptions } from './decode-pool';
export { describeFailure, isImageSopClass, type ImageCheck } from './decode-pool-verify';
