/** Raw sample bytes to typed stored values: byte order, bit unpacking, planar layout and 4:2:2 expansion. */
import type { PixelArray } from '../types';

export type PixelDtype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

/** pydicom's dtype choice: from Bits Allocated and Pixel Representation; 1-bit data is unpacked to uint8. */
export function pixelDtype(bitsAllocated: number, signed: boolean, keyword = 'PixelData'): PixelDtype {
  if (keyword === 'FloatPixelData') return 'float32';
  if (keyword === 'DoubleFloatPixelData') return 'float64';
  if (bitsAllocated === 1) return 'uint8';
  if (bitsAllocated <= 8) return signed ? 'int8' : 'uint8';
  if (bitsAllocated <= 16) return signed ? 'int16' : 'uint16';
  return signed ? 'int32' : 'uint32';
}

export function bytesPerElement(dtype: PixelDtype): number {
  return { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 }[dtype];
}

/** Copies little-endian bytes into a fresh typed array of `dtype` (copy keeps alignment and detaches wasm memory). */
export function typedFromLittleEndian(bytes: Uint8Array, dtype: PixelDtype): PixelArray {
  const copy = bytes.slice();
  const { buffer } = copy;
  switch (dtype) {
    case 'uint8':
      return copy;
    case 'int8':
      return new Int8Array(buffer);
    case 'uint16':
      return new Uint16Array(buffer, 0, copy.length >> 1);
    case 'int16':
      return new Int16Array(buffer, 0, copy.length >> 1);
    case 'uint32':
      return new Uint32Array(buffer, 0, copy.length >> 2);
    case 'int32':
      return new Int32Array(buffer, 0, copy.length >> 2);
    case 'float32':
      return new Float32Array(buffer, 0, copy.length >> 2);
    case 'float64':
      return new Float64Array(buffer, 0, copy.length >> 3);
  }
}

/** Reverses byte order in place in groups of `width` bytes (big endian to little endian). */
export function swapBytes(bytes: Uint8Array, width: number): void {
  if (width <= 1) return;
  const end = bytes.length - (bytes.length % width);
  for (let i = 0; i < end; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** Unpacks 1-bit data (first pixel in the least significant bit) to one byte of 0/1 per pixel. */
export function unpackBits(bytes: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[i >> 3] >> (i & 7)) & 1;
  return out;
}

/** Planar (RRR…GGG…BBB…) to interleaved (RGBRGB…) for one frame of `samples` planes. */
export function planarToInterleaved<T extends PixelArray>(planar: T, samples: number): T {
  const pixels = planar.length / samples;
  const out = new (planar.constructor as new (n: number) => T)(planar.length);
  for (let s = 0; s < samples; s++) {
    const offset = s * pixels;
    for (let p = 0; p < pixels; p++) out[p * samples + s] = planar[offset + p];
  }
  return out;
}

/**
 * Uncompressed YBR_FULL_422 stores Y1 Y2 Cb Cr for each horizontal pixel pair; expand to full-resolution
 * Y Cb Cr triplets (chroma repeated), as pydicom does, still in YBR.
 */
export function expandYbr422<T extends PixelArray>(packed: T, rows: number, columns: number): T {
  const out = new (packed.constructor as new (n: number) => T)(rows * columns * 3);
  let i = 0;
  let o = 0;
  for (let p = 0; p + 1 < rows * columns + 1; p += 2) {
    const y1 = packed[i];
    const y2 = packed[i + 1];
    const cb = packed[i + 2];
    const cr = packed[i + 3];
    i += 4;
    out[o++] = y1;
    out[o++] = cb;
    out[o++] = cr;
    if (o < out.length) {
      out[o++] = y2;
      out[o++] = cb;
      out[o++] = cr;
    }
  }
  return out;
}

/**
 * Reinterprets unsigned `bits`-bit samples as two's complement in place (e.g. 12-bit 4095 -> -1), for codestreams
 * that say unsigned where the DICOM header says signed. Bits above `bits` are ignored.
 */
export function signExtend(values: Int8Array | Int16Array | Int32Array, bits: number): void {
  const shift = values.BYTES_PER_ELEMENT * 8 - bits;
  if (shift <= 0) return;
  // Shift left into the sign bit of the container, then arithmetically right again.
  if (values instanceof Int32Array) {
    for (let i = 0; i < values.length; i++) values[i] = (values[i] << shift) >> shift;
    return;
  }
  const mask = (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  const wrap = 1 << bits;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] & mask;
    values[i] = v & signBit ? v - wrap : v;
  }
}
