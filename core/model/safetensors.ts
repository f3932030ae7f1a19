import { readFile, writeFile } from 'node:fs/promises';

/**
 * Minimal safetensors reader/writer: 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets:[begin,end]}, __metadata__?: {..}}`, then raw little-endian data.
 * Only floating-point tensors are accepted; F16 and BF16 are widened to float32 on load.
 */

export interface NamedTensorData {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsEntry extends NamedTensorData {
  /** The dtype as stored in the file (the data is always float32 in memory). */
  storedDtype: SupportedDtype;
}

export interface SafetensorsContents {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

export type SupportedDtype = 'F32' | 'F16' | 'BF16';
const BYTES_PER_ELEMENT: Record<SupportedDtype, number> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsError extends Error {
  constructor(source: string, reason: string) {
    super(`${source}: ${reason}`);
    this.name = 'SafetensorsError';
  }
}

/** Reads only the header (names, dtypes, shapes) without converting any data. */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  source = 'safetensors',
): { entries: Map<string, { dtype: string; shape: number[]; begin: number; end: number }>; metadata: Record<string, string>; dataStart: number } {
  if (bytes.byteLength < 8) throw new SafetensorsError(source, 'file is shorter than the 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.byteLength) {
    throw new SafetensorsError(source, `header length ${headerLength} does not fit in a file of ${bytes.byteLength} bytes`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    throw new SafetensorsError(source, `header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError(source, 'header is not a JSON object');
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const entries = new Map<string, { dtype: string; shape: number[]; begin: number; end: number }>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = info?.shape;
    const offsets = info?.data_offsets;
    if (
      typeof info?.dtype !== 'string' ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0)
    ) {
      throw new SafetensorsError(source, `tensor "${name}" has a malformed header entry`);
    }
    const [begin, end] = offsets as number[];
    if (end < begin || end > dataLength) {
      throw new SafetensorsError(source, `tensor "${name}" data offsets [${begin}, ${end}] lie outside the ${dataLength}-byte data section`);
    }
    entries.set(name, { dtype: info.dtype, shape: shape as number[], begin, end });
  }
  return { entries, metadata, dataStart };
}

/** Parses a whole safetensors buffer; every tensor becomes float32. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsContents {
  const { entries, metadata, dataStart } = parseSafetensorsHeader(bytes, source);
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, { dtype, shape, begin, end }] of entries) {
    if (!(dtype in BYTES_PER_ELEMENT)) {
      throw new SafetensorsError(source, `tensor "${name}" has dtype ${dtype}; only F32, F16 and BF16 are supported`);
    }
    const storedDtype = dtype as SupportedDtype;
    const count = shape.reduce((a, b) => a * b, 1);
    const expectedBytes = count * BYTES_PER_ELEMENT[storedDtype];
    if (end - begin !== expectedBytes) {
      throw new SafetensorsError(
        source,
        `tensor "${name}" of shape [${shape.join(', ')}] ${dtype} needs ${expectedBytes} bytes but has ${end - begin}`,
      );
    }
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    tensors.set(name, { shape, storedDtype, data: toFloat32(raw, storedDtype, count) });
  }
  return { tensors, metadata };
}

export async function readSafetensorsFile(filePath: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(filePath);
  } catch (err) {
    throw new SafetensorsError(filePath, `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseSafetensors(bytes, filePath);
}

/** Serialises float32 tensors (in the given order) with optional string metadata. */
export function serializeSafetensors(
  tensors: Iterable<[string, NamedTensorData]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const parts: Array<{ data: Float32Array }> = [];
  let offset = 0;
  for (const [name, { shape, data }] of tensors) {
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new Error(`tensor "${name}": shape [${shape.join(', ')}] holds ${count} values but ${data.length} were given`);
    }
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    parts.push({ data });
    offset += data.byteLength;
  }
  let headerText = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference implementation does.
  headerText += ' '.repeat((8 - ((8 + Buffer.byteLength(headerText)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.byteLength;
  for (const { data } of parts) {
    out.set(float32ToLittleEndianBytes(data), position);
    position += data.byteLength;
  }
  return out;
}

export async function writeSafetensorsFile(
  filePath: string,
  tensors: Iterable<[string, NamedTensorData]>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFile(filePath, serializeSafetensors(tensors, metadata));
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function float32ToLittleEndianBytes(data: Float32Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function toFloat32(raw: Uint8Array, dtype: SupportedDtype, count: number): Float32Array {
  if (dtype === 'F32') {
    if (HOST_IS_LITTLE_ENDIAN) {
      // A private copy: aligned for Float32Array (Node Buffers share one pooled ArrayBuffer).
      const copy = new Uint8Array(raw.byteLength);
      copy.set(raw);
      return new Float32Array(copy.buffer);
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(count);
  if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
    return out;
  }
  for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  return out;
}

/** IEEE 754 binary16 → number (handles subnormals, infinities and NaN). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
