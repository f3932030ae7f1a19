/**
 * Statistics of decoded stored values in the reference's conventions (shared/data/dicom/reference.json): shape as
 * pydicom gives it, dtype, min, max, mean and sha256 of the C-order little-endian bytes.
 */
import { createHash } from 'node:crypto';
import type { DecodedImage, PixelArray } from '../types';
import { pixelDtype, type PixelDtype } from './pixels';

export interface PixelStats {
  shape: number[];
  dtype: PixelDtype;
  min: number;
  max: number;
  mean: number;
  sha256: string;
}

/** pydicom's shape: (rows, cols[, samples]) for one frame, (frames, rows, cols[, samples]) when NumberOfFrames > 1. */
export function referenceShape(image: DecodedImage, frameCount: number): number[] {
  const shape = frameCount > 1 ? [frameCount, image.rows, image.columns] : [image.rows, image.columns];
  if (image.samplesPerPixel > 1) shape.push(image.samplesPerPixel);
  return shape;
}

export function imageDtype(image: DecodedImage): PixelDtype {
  const first = image.frames[0];
  if (first instanceof Float32Array) return 'float32';
  if (first instanceof Float64Array) return 'float64';
  return pixelDtype(image.bitsAllocated, image.signed);
}

/** Stats over the given frames (all of them, or just the first for 'frame0'). */
export function computeStats(frames: PixelArray[], shape: number[], dtype: PixelDtype): PixelStats {
  const hash = createHash('sha256');
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let count = 0;
  for (const frame of frames) {
    // Typed arrays are little-endian on every platform Node runs on; hash their bytes directly.
    hash.update(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
    for (let i = 0; i < frame.length; i++) {
      const v = frame[i];
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    count += frame.length;
  }
  return { shape, dtype, min, max, mean: count > 0 ? sum / count : NaN, sha256: hash.digest('hex') };
}

/** 'stored' and 'frame0' blocks for a decoded image. */
export function imageStats(image: DecodedImage): { stored: PixelStats; frame0: PixelStats } {
  const dtype = imageDtype(image);
  return {
    stored: computeStats(image.frames, referenceShape(image, image.numberOfFrames), dtype),
    frame0: computeStats(image.frames.slice(0, 1), referenceShape(image, 1), dtype),
  };
}
