/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, then one PackBits segment per byte plane
 * (most significant byte of each sample first). Output is pixel-interleaved, little-endian bytes.
 */

export class RleError extends Error {}

export function decodeRleFrame(
  encoded: Uint8Array,
  rows: number,
  columns: number,
  samplesPerPixel: number,
  bitsAllocated: number,
): Uint8Array {
  if (encoded.length < 64) throw new RleError('RLE frame shorter than its 64-byte header');
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const segmentCount = view.getUint32(0, true);
  const bytesPerSample = Math.ceil(bitsAllocated / 8);
  const expectedSegments = samplesPerPixel * bytesPerSample;
  if (segmentCount !== expectedSegments) {
    throw new RleError(`RLE header lists ${segmentCount} segments, expected ${expectedSegments}`);
  }
  const offsets: number[] = [];
  for (let i = 0; i < segmentCount; i++) offsets.push(view.getUint32(4 + 4 * i, true));
  const pixels = rows * columns;
  const out = new Uint8Array(pixels * expectedSegments);
  const plane = new Uint8Array(pixels);
  for (let segment = 0; segment < segmentCount; segment++) {
    const start = offsets[segment];
    const end = segment + 1 < segmentCount ? offsets[segment + 1] : encoded.length;
    if (start < 64 || start > end || end > encoded.length) throw new RleError(`RLE segment ${segment} has a bad offset`);
    unpackBits(encoded, start, end, plane);
    const sample = Math.floor(segment / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (segment % bytesPerSample); // segment 0 is the MSB
    const stride = samplesPerPixel * bytesPerSample;
    let o = sample * bytesPerSample + byteInSample;
    for (let p = 0; p < pixels; p++, o += stride) out[o] = plane[p];
  }
  return out;
}

/** PackBits into `target` (exactly target.length bytes; surplus input such as padding is ignored). */
function unpackBits(src: Uint8Array, start: number, end: number, target: Uint8Array): void {
  let i = start;
  let o = 0;
  while (o < target.length && i < end) {
    const n = src[i++];
    if (n < 128) {
      const count = n + 1;
      if (i + count > end) throw new RleError('RLE literal run past the end of its segment');
      target.set(src.subarray(i, i + Math.min(count, target.length - o)), o);
      i += count;
      o += count;
    } else if (n > 128) {
      const count = 257 - n;
      if (i >= end) throw new RleError('RLE repeat run past the end of its segment');
      target.fill(src[i++], o, Math.min(o + count, target.length));
      o += count;
    }
    // n === 128 is a no-op.
  }
  if (o < target.length) throw new RleError(`RLE segment decodes to ${o} bytes, expected ${target.length}`);
}
