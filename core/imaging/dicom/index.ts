/** Public API of DICOM reading: header-only reads, full pixel decoding, detection, and reference-style statistics. */
export { decodeDicom, decodeDicomPreview } from './decode';
export { readDicomHeader, type DicomHeader, type PixelDataKeyword } from './header';
export { isDicom } from './parse';
export { computeStats, imageStats, type PixelStats } from './stats';
export { inspectDicomFile, inspectDicomBytes, type DicomInspection } from './inspect';
