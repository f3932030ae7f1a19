/** Photo decoding (JPEG, PNG, TIFF, GIF) into DecodedImage. */
export { decodePhoto } from './decode-photo';
export { detectPhotoFormat, type PhotoFormat } from './format';
