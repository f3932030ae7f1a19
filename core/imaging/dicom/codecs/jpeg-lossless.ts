/** JPEG Lossless (Process 14, any selection value) through jpeg-lossless-decoder-js. */
import { Decoder } from 'jpeg-lossless-decoder-js';

/** Returns little-endian sample bytes, pixel-interleaved; `bytesPerSample` tells 8- from 16-bit output. */
export function decodeJpegLosslessFrame(encoded: Uint8Array): { bytes: Uint8Array; bytesPerSample: number } {
  const decoder = new Decoder();
  // The decoder reads from an ArrayBuffer; copy so the offset/length of a Buffer slice cannot confuse it.
  const input = encoded.slice().buffer;
  const output = decoder.decode(input, 0, input.byteLength);
  const bytesPerSample = output instanceof Uint16Array || output instanceof Int16Array ? 2 : 1;
  const bytes = new Uint8Array(output.buffer, output.byteOffset, output.byteLength).slice();
  return { bytes, bytesPerSample };
}
