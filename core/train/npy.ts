/**
 * NumPy array files: `.npy` (format versions 1–3) and `.npz` (a zip of `.npy` members, stored or
 * deflated, zip64 extras allowed). Parsed from bytes with Node's zlib only; every error names the
 * file (and member) and what is wrong, so a truncated download never yields garbage arrays.
 */
import { inflateRawSync } from 'node:zlib';

export class NpyFormatError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'NpyFormatError';
  }
}

export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface NpyArray {
  /** numpy dtype string as stored, e.g. '|u1', '<i8'. */
  dtype: string;
  shape: number[];
  /** Elements in C (row-major) order, whatever the file's fortran_order was. */
  data: NpyData;
}

interface DtypeInfo {
  size: number;
  make: (length: number) => NpyData;
  read: (view: DataView, offset: number, littleEndian: boolean) => number | bigint;
}

const DTYPES: Record<string, DtypeInfo> = {
  u1: { size: 1, make: (n) => new Uint8Array(n), read: (v, o) => v.getUint8(o) },
  b1: { size: 1, make: (n) => new Uint8Array(n), read: (v, o) => v.getUint8(o) },
  i1: { size: 1, make: (n) => new Int8Array(n), read: (v, o) => v.getInt8(o) },
  u2: { size: 2, make: (n) => new Uint16Array(n), read: (v, o, le) => v.getUint16(o, le) },
  i2: { size: 2, make: (n) => new Int16Array(n), read: (v, o, le) => v.getInt16(o, le) },
  u4: { size: 4, make: (n) => new Uint32Array(n), read: (v, o, le) => v.getUint32(o, le) },
  i4: { size: 4, make: (n) => new Int32Array(n), read: (v, o, le) => v.getInt32(o, le) },
  u8: { size: 8, make: (n) => new BigUint64Array(n), read: (v, o, le) => v.getBigUint64(o, le) },
  i8: { size: 8, make: (n) => new BigInt64Array(n), read: (v, o, le) => v.getBigInt64(o, le) },
  f4: { size: 4, make: (n) => new Float32Array(n), read: (v, o, le) => v.getFloat32(o, le) },
  f8: { size: 8, make: (n) => new Float64Array(n), read: (v, o, le) => v.getFloat64(o, le) },
};

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses one `.npy` file held in memory. `name` is used in error messages. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyFormatError(name, 'not a .npy array (missing the \\x93NUMPY magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyFormatError(name, 'truncated .npy header');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyFormatError(name, `unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new NpyFormatError(name, 'truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyFormatError(name, `unreadable .npy header ${JSON.stringify(header.trim())}`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) throw new NpyFormatError(name, `bad dimension "${s}" in shape (${shapeText})`);
      return v;
    });

  const byteOrder = descr[0];
  const info = DTYPES[descr.slice(1)];
  if (!'<>|='.includes(byteOrder) || info === undefined) {
    throw new NpyFormatError(name, `unsupported dtype '${descr}' (supported: bool, (u)int8–64, float32/64)`);
  }
  const littleEndian = byteOrder !== '>';
  const count = shape.reduce((p, d) => p * d, 1);
  const needed = count * info.size;
  if (bytes.length - dataStart < needed) {
    throw new NpyFormatError(
      name,
      `truncated data: shape (${shape.join(', ')}) of '${descr}' needs ${needed} bytes, ${bytes.length - dataStart} present`,
    );
  }
  const data = info.make(count);
  if (info.size === 1) {
    (data as Uint8Array).set(bytes.subarray(dataStart, dataStart + count));
  } else {
    const set = data as unknown as { [i: number]: number | bigint };
    for (let i = 0; i < count; i++) set[i] = info.read(view, dataStart + i * info.size, littleEndian);
  }
  return { dtype: descr, shape, data: fortran === 'True' ? fortranToC(data, shape) : data };
}

/** Reorders a column-major array into row-major order. */
function fortranToC(data: NpyData, shape: number[]): NpyData {
  if (shape.length <= 1) return data;
  const out = data.slice() as NpyData;
  const src = data as unknown as { [i: number]: number | bigint };
  const dst = out as unknown as { [i: number]: number | bigint };
  const ndim = shape.length;
  const fStrides = new Array<number>(ndim);
  fStrides[0] = 1;
  for (let d = 1; d < ndim; d++) fStrides[d] = fStrides[d - 1] * shape[d - 1];
  const index = new Array<number>(ndim).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let d = 0; d < ndim; d++) f += index[d] * fStrides[d];
    dst[c] = src[f];
    for (let d = ndim - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Zip container (.npz).

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

function listZipEntries(bytes: Uint8Array, file: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new NpyFormatError(file, 'not a zip/.npz archive or truncated (no end-of-central-directory record)');
  }
  let entryCount = view.getUint16(eocd + 10, true);
  let directorySize = view.getUint32(eocd + 12, true);
  let directoryOffset = view.getUint32(eocd + 16, true);
  const locator = eocd - 20;
  if (locator >= 0 && view.getUint32(locator, true) === ZIP64_EOCD_LOCATOR_SIGNATURE) {
    const zip64 = Number(view.getBigUint64(locator + 8, true));
    if (zip64 + 56 > bytes.length || view.getUint32(zip64, true) !== ZIP64_EOCD_SIGNATURE) {
      throw new NpyFormatError(file, 'corrupt zip64 end-of-central-directory record');
    }
    entryCount = Number(view.getBigUint64(zip64 + 32, true));
    directorySize = Number(view.getBigUint64(zip64 + 40, true));
    directoryOffset = Number(view.getBigUint64(zip64 + 48, true));
  }
  if (directoryOffset + directorySize > bytes.length) {
    throw new NpyFormatError(file, 'truncated zip archive (central directory lies past the end of the file)');
  }
  const entries: ZipEntry[] = [];
  let p = directoryOffset;
  for (let e = 0; e < entryCount; e++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL_SIGNATURE) {
      throw new NpyFormatError(file, `corrupt zip central directory at entry ${e}`);
    }
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const entry: ZipEntry = {
      name: new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLength)),
      method: view.getUint16(p + 10, true),
      crc32: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      uncompressedSize: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true),
    };
    readZip64Extra(view, p + 46 + nameLength, extraLength, entry);
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Replaces 0xFFFFFFFF sizes/offsets by the 64-bit values of the zip64 extra field (in its fixed order). */
function readZip64Extra(view: DataView, start: number, length: number, entry: ZipEntry): void {
  let q = start;
  while (q + 4 <= start + length) {
    const id = view.getUint16(q, true);
    const size = view.getUint16(q + 2, true);
    if (id === 0x0001) {
      let r = q + 4;
      const next = () => {
        const v = Number(view.getBigUint64(r, true));
        r += 8;
        return v;
      };
      if (entry.uncompressedSize === 0xffffffff) entry.uncompressedSize = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
    }
    q += 4 + size;
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function extractEntry(bytes: Uint8Array, entry: ZipEntry, file: string): Uint8Array {
  const where = `${file} [${entry.name}]`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = entry.localHeaderOffset;
  if (h + 30 > bytes.length || view.getUint32(h, true) !== LOCAL_SIGNATURE) {
    throw new NpyFormatError(where, 'corrupt zip local header');
  }
  const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) throw new NpyFormatError(where, 'truncated zip member (data runs past the end of the file)');
  const stored = bytes.subarray(start, end);
  let content: Uint8Array;
  if (entry.method === 0) {
    content = stored;
  } else if (entry.method === 8) {
    try {
      content = inflateRawSync(stored);
    } catch (error) {
      throw new NpyFormatError(where, `corrupt deflate data (${(error as Error).message})`);
    }
  } else {
    throw new NpyFormatError(where, `unsupported zip compression method ${entry.method} (only stored and deflate)`);
  }
  if (content.length !== entry.uncompressedSize) {
    throw new NpyFormatError(where, `inflated to ${content.length} bytes, the directory says ${entry.uncompressedSize}`);
  }
  if (crc32(content) !== entry.crc32) throw new NpyFormatError(where, 'CRC-32 mismatch (corrupt member)');
  return content;
}

/**
 * Parses a `.npz` archive held in memory into its arrays, keyed by member name without `.npy`.
 * `file` is used in error messages.
 */
export function parseNpz(bytes: Uint8Array, file: string): Map<string, NpyArray> {
  const arrays = new Map<string, NpyArray>();
  for (const entry of listZipEntries(bytes, file)) {
    if (!entry.name.endsWith('.npy')) continue;
    const key = entry.name.slice(0, -'.npy'.length);
    arrays.set(key, parseNpy(extractEntry(bytes, entry, file), `${file} [${entry.name}]`));
  }
  return arrays;
}
