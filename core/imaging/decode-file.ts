import { readImageBytes } from './read-bytes';
import { detectPhotoFormat } from './photo/format';
import { decodePhoto } from './photo/decode-photo';
import { describeThrown, ImagingError, type DecodedImage } from './types';

export type ImageFileKind = 'dicom' | 'photo';

/** Part 10 files carry "DICM" after a 128-byte preamble. */
function hasDicmPrefix(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

// The DICOM module pulls in the wasm codecs; photo-only callers (and pool workers) never pay for loading them.
const loadDicom = () => import('./dicom/index');

/**
 * What `bytes` hold, by content only (never by file extension): 'dicom', 'photo', or undefined.
 * The DICM magic is checked before photo signatures because a DICOM preamble may legally hold a TIFF header.
 */
export async function detectImageKind(bytes: Uint8Array): Promise<ImageFileKind | undefined> {
  if (hasDicmPrefix(bytes)) return 'dicom';
  if (detectPhotoFormat(bytes)) return 'photo';
  // Files without the Part 10 header (ACR-NEMA style, raw data sets) need the DICOM parser's judgement.
  const { isDicom } = await loadDicom();
  return isDicom(bytes) ? 'dicom' : undefined;
}

/** Decode DICOM or photo bytes, chosen by content. Every failure is an ImagingError naming `source`. */
export async function decodeImageBytes(bytes: Uint8Array, source: string): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImagingError(source, 'file is empty', 'truncated');
  try {
    const kind = await detectImageKind(bytes);
    if (kind === 'photo') return await decodePhoto(bytes, source);
    if (kind === 'dicom') {
      const { decodeDicom } = await loadDicom();
      return await decodeDicom(bytes, source);
    }
  } catch (err) {
    if (err instanceof ImagingError) throw err;
    // A decoder bug or an unexpected library error still has to say which file it was.
    throw new ImagingError(source, `cannot decode: ${describeThrown(err)}`, 'corrupt');
  }
  throw new ImagingError(source, 'neither DICOM nor a JPEG, PNG, TIFF or GIF photo', 'unsupported');
}

/**
 * A reduced-resolution first view of a JPEG 2000 DICOM file (see decodeDicomPreview); undefined for every other
 * file and whenever the quick path cannot be taken.
 */
export async function previewImageFile(filePath: string, maxSide: number): Promise<DecodedImage | undefined> {
  const bytes = await readImageBytes(filePath);
  if (!hasDicmPrefix(bytes)) return undefined;
  const { decodeDicomPreview } = await loadDicom();
  return decodeDicomPreview(bytes, filePath, maxSide);
}

/** Read and decode one file; errors name the path. */
export async function decodeImageFile(filePath: string): Promise<DecodedImage> {
  const bytes = await readImageBytes(filePath);
  return decodeImageBytes(bytes, filePath);
}
