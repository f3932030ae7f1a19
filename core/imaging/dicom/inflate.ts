/**
 * Inflation with an output cap. A deflated data set or frame may be a "zip bomb" (1 MB that inflates to 1 GiB), so
 * nothing is ever inflated without a limit: the limit comes from the image size the header declares, and zlib stops
 * (maxOutputLength) as soon as the output would pass it.
 */
import { constants, inflateRawSync } from 'node:zlib';
import { dicomParser, type DataSet } from './dicom-parser-lib';
import { ImagingError } from '../types';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax';

/** Room for the elements around the pixel data (overlays, LUTs, private tags, trailing padding). */
export const HEADER_MARGIN_BYTES = 16 * 1024 * 1024;
/** Largest output read while looking for the Image Pixel attributes of a deflated data set. */
const PROBE_LIMIT_BYTES = 64 * 1024 * 1024;
/** Compressed bytes inflated first; deflate's ratio is at most ~1032:1, so this yields at most ~16 MiB. */
const FIRST_PROBE_INPUT_BYTES = 16 * 1024;
/** Cap (output / input) for a deflated data set whose image size cannot be read from its start. */
export const MAX_INFLATE_RATIO = 100;
/** Node's Buffer limit: nothing larger can be inflated at all. */
const MAX_BUFFER_BYTES = 2 ** 32 - 1;

function isTooLarge(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
}

/** Inflates raw deflate data, refusing (code `too-large`) output beyond `maxBytes`; `what` names the data in errors. */
export function inflateRawCapped(deflated: Uint8Array, maxBytes: number, source: string, what: string): Uint8Array {
  const limit = Math.max(1, Math.min(Math.floor(maxBytes), MAX_BUFFER_BYTES));
  try {
    const out = inflateRawSync(deflated, { maxOutputLength: limit });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    if (isTooLarge(err)) {
      throw new ImagingError(
        source,
        `${what} inflates to more than ${limit} bytes, more than the image it declares can hold (refused as a likely decompression bomb)`,
        'too-large',
      );
    }
    throw new ImagingError(source, `${what} cannot be inflated: ${(err as Error).message}`, 'corrupt');
  }
}

/** The output of the first `inputBytes` of a raw deflate stream (what is decodable so far), at most `limit` bytes. */
function inflatePrefix(deflated: Uint8Array, inputBytes: number, limit: number): Uint8Array | undefined {
  try {
    const out = inflateRawSync(deflated.subarray(0, inputBytes), {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: limit,
    });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return undefined;
  }
}

/** An element whose value lies wholly inside the bytes inflated so far. */
function complete(ds: DataSet, tag: string, length: number): boolean {
  const element = ds.elements[tag];
  return element !== undefined && element.dataOffset + element.length <= length;
}

/**
 * Bytes the data set may take, from the Image Pixel attributes at its start: the declared pixel data
 * (rows × columns × samples × bits × frames), what precedes it, and a margin. Undefined when `inflated` (the start of
 * the data set) does not yet hold them all.
 */
export function declaredDataSetBytes(inflated: Uint8Array, streamComplete: boolean): number | undefined {
  let ds: DataSet;
  try {
    ds = dicomParser.parseDicom(inflated, { TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN, untilTag: 'x7fe00010' } as never);
  } catch (err) {
    const partial = (err as { dataSet?: DataSet } | undefined)?.dataSet;
    if (!partial) return undefined;
    ds = partial;
  }
  const n = inflated.length;
  // Bits Allocated (0028,0100) comes after Samples, Number of Frames, Rows and Columns in tag order.
  if (!complete(ds, 'x00280100', n)) return streamComplete ? n : undefined;
  const ushort = (tag: string, fallback: number) => (complete(ds, tag, n) && ds.elements[tag].length >= 2 ? ds.uint16(tag) ?? fallback : fallback);
  const rows = ushort('x00280010', 0);
  const columns = ushort('x00280011', 0);
  const samples = ushort('x00280002', 1) || 1;
  const bits = ushort('x00280100', 16) || 16;
  const framesValue = complete(ds, 'x00280008', n) ? Number.parseInt(ds.string('x00280008') ?? '1', 10) : 1;
  const frames = Number.isFinite(framesValue) && framesValue > 0 ? framesValue : 1;
  const pixelBytes = Math.ceil((rows * columns * samples * bits * frames) / 8);
  const pixel = ds.elements.x7fe00010 ?? ds.elements.x7fe00008 ?? ds.elements.x7fe00009;
  const before = pixel ? pixel.dataOffset : n;
  return before + pixelBytes + HEADER_MARGIN_BYTES;
}

/**
 * Inflates a Deflated Explicit VR Little Endian data set under a cap: first the start of the stream (growing until
 * the Image Pixel attributes are read), then the whole stream limited to the size they declare. Where the start holds
 * no image size, the cap is a ratio of the compressed size.
 */
export function inflateDataSet(deflated: Uint8Array, source: string): Uint8Array {
  let cap: number | undefined;
  for (let input = FIRST_PROBE_INPUT_BYTES; ; input *= 4) {
    const whole = input >= deflated.length;
    const start = inflatePrefix(deflated, Math.min(input, deflated.length), PROBE_LIMIT_BYTES);
    if (!start) break;
    cap = declaredDataSetBytes(start, whole);
    if (cap !== undefined || whole || start.length >= PROBE_LIMIT_BYTES / 4) break;
  }
  cap ??= Math.max(PROBE_LIMIT_BYTES, deflated.length * MAX_INFLATE_RATIO);
  return inflateRawCapped(deflated, cap, source, 'deflated data set');
}
