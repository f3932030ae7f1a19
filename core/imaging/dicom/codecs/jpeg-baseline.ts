/**
 * JPEG baseline / extended 8-bit through libjpeg-turbo (wasm). libjpeg picks the colour transform from the JFIF and
 * Adobe markers and component ids; DICOM says it with the Photometric Interpretation. To decode as dcmtk does
 * (YCbCr->RGB when the PI is YBR_*, untransformed when it is RGB) the stream's markers are made to agree with the PI.
 */
import { decodeWithWasm, type WasmDecodeResult } from './wasm-codecs';

const SOI = 0xd8;
const APP0 = 0xe0;
const APP14 = 0xee;
const SOS = 0xda;

function adobeSegment(transform: number): Uint8Array {
  // FFEE, length 14, "Adobe", version 100, flags0, flags1, transform.
  return Uint8Array.from([0xff, APP14, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0, 0, 0, 0, transform]);
}

/**
 * Returns a copy of the stream whose markers make libjpeg apply the YCbCr->RGB transform iff `ycbcr`:
 * JFIF identifiers are blanked (JFIF would force YCbCr), existing Adobe transform flags are rewritten, and an
 * Adobe segment is inserted after SOI.
 */
export function forceJpegColourTransform(stream: Uint8Array, ycbcr: boolean): Uint8Array {
  if (stream.length < 4 || stream[0] !== 0xff || stream[1] !== SOI) return stream;
  const copy = stream.slice();
  let pos = 2;
  while (pos + 4 <= copy.length && copy[pos] === 0xff) {
    const marker = copy[pos + 1];
    if (marker === SOS) break;
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    const length = (copy[pos + 2] << 8) | copy[pos + 3];
    const body = pos + 4;
    if (marker === APP0 && length >= 7 && copy[body] === 0x4a && copy[body + 1] === 0x46 && copy[body + 2] === 0x49) {
      copy[body] = 0x58; // "JFIF" -> "XFIF": libjpeg no longer sees a JFIF marker.
    }
    if (marker === APP14 && length >= 14 && copy[body] === 0x41 && copy[body + 1] === 0x64) {
      copy[body + 11] = ycbcr ? 1 : 0;
    }
    pos += 2 + length;
  }
  const out = new Uint8Array(copy.length + 16);
  out.set(copy.subarray(0, 2), 0);
  out.set(adobeSegment(ycbcr ? 1 : 0), 2);
  out.set(copy.subarray(2), 18);
  return out;
}

/** Precision (bits per sample) from the first SOF marker, or undefined. */
export function jpegPrecision(stream: Uint8Array): number | undefined {
  let pos = 2;
  while (pos + 4 < stream.length) {
    if (stream[pos] !== 0xff) return undefined;
    const marker = stream[pos + 1];
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return stream[pos + 4];
    }
    if (marker === SOS) return undefined;
    pos += 2 + ((stream[pos + 2] << 8) | stream[pos + 3]);
  }
  return undefined;
}

export async function decodeJpeg8Frame(stream: Uint8Array, components: number, ycbcr: boolean): Promise<WasmDecodeResult> {
  const input = components === 3 ? forceJpegColourTransform(stream, ycbcr) : stream;
  return decodeWithWasm('libjpeg-turbo', input);
}
