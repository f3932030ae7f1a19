/** Photo decoding (JPEG, PNG, TIFF, GIF) into DecodedImage. */
export { decodePhoto } from './decode-photo';
export { detectPhotoFormat, isPhoto, type PhotoFormat } from './format';
