/** Messages between DecodePool and its workers (structured-cloned; image buffers are transferred). */
import type { ImageCheck } from './decode-pool-verify';
import type { DecodedImage, ImagingError } from './types';

export type DecodeRequest =
  | { type: 'decode-file'; id: number; path: string }
  | { type: 'decode-bytes'; id: number; bytes: Uint8Array; source: string }
  /** A reduced-resolution first view (JPEG 2000 only); answered with `preview: null` for any other file. */
  | { type: 'preview-file'; id: number; path: string; maxSide: number }
  /** Import's check of one file: header facts and a decode whose pixels are not sent back. */
  | { type: 'verify-bytes'; id: number; bytes: Uint8Array; source: string }
  | { type: 'cancel'; id: number };

export interface SerializedImagingError {
  file: string;
  reason: string;
  code: ImagingError['code'];
}

export type DecodeResponse =
  | { id: number; ok: true; image: DecodedImage }
  | { id: number; ok: true; check: ImageCheck }
  | { id: number; ok: true; preview: DecodedImage | null }
  | { id: number; ok: false; error: SerializedImagingError }
  | { id: number; ok: false; cancelled: true };
