/**
 * Frozen-prefix tokens kept on disk between training runs. A run whose adapter starts at block k
 * computes blocks 0..k−1 once per image (core/train/prefix-cache.ts); those tokens depend only on the
 * backbone's weights, k, the preprocessing and the image, so the next run on the same labels (plus a
 * few new ones) can read them back instead of running the prefix again.
 *
 * Layout: <root>/<key>/<ab>/<input sha256>.f16, one file per image holding rows × width float16
 * values (little-endian), where <key> is the sha256 of everything the tokens depend on (backbone
 * sha256, start layer, size, aspect, fundus FOV, normalization, token shape); key.json beside the
 * entries says what the key stands for. A change to any of these gives another key, i.e. a miss.
 * float16 halves the disk and read time; tokens of a ViT's residual stream are well within its range.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Normalization } from '../imaging/model-input';
import { halfToFloat } from '../model/safetensors';

export interface PrefixStoreKey {
  backboneSha256: string;
  startLayer: number;
  /** `intensity` absent = 'auto' (the input cache's rule); a change of any field is a miss. */
  preprocessing: { size: number; aspect: string; fundusFov: boolean; intensity?: string; normalization: Normalization };
  rowsPerImage: number;
  width: number;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** number → IEEE 754 binary16 bits, rounded to nearest, ties to even (as numpy's astype(float16)). */
export function floatToHalf(value: number): number {
  scratch[0] = value;
  return halfBitsOfFloat32(scratchBits[0]);
}

function halfBitsOfFloat32(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0); // Inf, quiet NaN
  const e = exponent - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00; // overflow → ±Inf
  if (e <= 0) {
    // Subnormal half (or zero): the implicit bit joins the mantissa, 14 − e bits are dropped.
    if (e < -10) return sign; // below half the smallest subnormal
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let h = mantissa >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa rightly bumps the exponent (up to Inf).
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function float32ToFloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBitsOfFloat32(bits[i]);
  return out;
}

let halfTable: Float32Array | null = null;

export function float16ToFloat32(values: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfTable[values[i]];
  return out;
}

/** The values float16 storage gives back: each rounded to the nearest binary16. */
export function roundToFloat16(values: Float32Array): Float32Array {
  return float16ToFloat32(float32ToFloat16(values));
}

export function prefixStoreKeyHash(key: PrefixStoreKey): string {
  const p = key.preprocessing;
  const canonical = {
    backboneSha256: key.backboneSha256,
    startLayer: key.startLayer,
    size: p.size,
    aspect: p.aspect,
    fundusFov: p.fundusFov,
    intensity: p.intensity ?? 'auto',
    mean: [...p.normalization.mean],
    std: [...p.normalization.std],
    rowsPerImage: key.rowsPerImage,
    width: key.width,
    format: 'f16le',
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** The conventional place in a workspace: <ws>/cache/prefix. */
export function workspacePrefixRoot(workspaceDir: string): string {
  return path.join(workspaceDir, 'cache', 'prefix');
}

export const DEFAULT_PREFIX_STORE_MB = 4096;

/** The disk budget of a workspace's prefix store, in bytes: MEDTUNE_PREFIX_STORE_MB (default 4096 MB). */
export function prefixStoreBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MEDTUNE_PREFIX_STORE_MB;
  if (raw === undefined || raw.trim() === '') return DEFAULT_PREFIX_STORE_MB * 2 ** 20;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`MEDTUNE_PREFIX_STORE_MB must be a number of megabytes ≥ 0, got "${raw}"`);
  return mb * 2 ** 20;
}

/**
 * The workspace's store for a model's frozen prefix, or null when the adapter starts at block 0 (there
 * is nothing frozen to keep). Training runs and predictions share it, so a version scoring the
 * unlabelled cases reads what the previous round wrote for the same backbone and start layer.
 */
export function workspacePrefixStore(
  workspaceDir: string,
  model: { startLayer: number; prefixRowsPerImage: number; backbone: { config: { embedDim: number } } },
  backboneSha256: string,
  preprocessing: { size: number; aspect: string; fundusFov: boolean; intensity?: string },
  normalization: Normalization,
): PrefixStore | null {
  if (model.startLayer === 0 || process.env.MEDTUNE_PREFIX_STORE === 'off') return null;
  const { size, aspect, fundusFov, intensity } = preprocessing;
  return new PrefixStore(workspacePrefixRoot(workspaceDir), {
    backboneSha256,
    startLayer: model.startLayer,
    preprocessing: { size, aspect, fundusFov, ...(intensity !== undefined ? { intensity } : {}), normalization },
    rowsPerImage: model.prefixRowsPerImage,
    width: model.backbone.config.embedDim,
  }, { maxBytes: prefixStoreBudgetBytes() });
}

export class PrefixStore {
  readonly dir: string;
  /** Entries found on disk / written / not written because the store was full, since this store was made. */
  hits = 0;
  writes = 0;
  skipped = 0;
  private readonly root: string;
  private readonly maxBytes: number;
  /** Bytes of entries under the root (every key), counted at the first write. */
  private used: number | null = null;

  /**
   * `maxBytes` bounds the whole root (all keys): once it is full, new entries are computed but not
   * kept (ViT-S at block 8 is 150 kB an image, so a 50,000-case workspace would otherwise take 7.5 GB).
   */
  constructor(
    root: string,
    readonly key: PrefixStoreKey,
    options: { maxBytes?: number } = {},
  ) {
    this.root = root;
    this.dir = path.join(root, prefixStoreKeyHash(key));
    this.maxBytes = options.maxBytes ?? Infinity;
  }

  get valuesPerImage(): number {
    return this.key.rowsPerImage * this.key.width;
  }

  private file(input: Uint8Array): string {
    const hash = createHash('sha256').update(input).digest('hex');
    return path.join(this.dir, hash.slice(0, 2), `${hash}.f16`);
  }

  /** The stored tokens of this input, or null when absent (a truncated or foreign file counts as absent and is removed). */
  read(input: Uint8Array): Float32Array | null {
    const file = this.file(input);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`prefix store: cannot read ${file}: ${(err as Error).message}`);
    }
    if (bytes.byteLength !== this.valuesPerImage * 2) {
      fs.rmSync(file, { force: true });
      return null;
    }
    // Copy into an aligned buffer: a Buffer may sit at an odd offset of Node's pool.
    const halves = new Uint16Array(this.valuesPerImage);
    new Uint8Array(halves.buffer).set(bytes);
    this.hits++;
    return float16ToFloat32(halves);
  }

  /** Stores an input's tokens (rounded to float16); written to a temporary name and renamed, so readers never see half a file. */
  write(input: Uint8Array, tokens: Float32Array): boolean {
    if (tokens.length !== this.valuesPerImage) {
      throw new Error(`prefix store: expected ${this.valuesPerImage} values per image, got ${tokens.length}`);
    }
    const bytes = this.valuesPerImage * 2;
    if (Number.isFinite(this.maxBytes)) {
      this.used ??= storedBytes(this.root);
      if (this.used + bytes > this.maxBytes) {
        this.skipped++;
        return false;
      }
      this.used += bytes;
    }
    const file = this.file(input);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const keyFile = path.join(this.dir, 'key.json');
    if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, JSON.stringify(this.key, null, 2));
    const halves = float32ToFloat16(tokens);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength));
    fs.renameSync(tmp, file);
    this.writes++;
    return true;
  }
}

/** Bytes of the .f16 entries under a store root (0 when it does not exist yet). */
function storedBytes(root: string): number {
  let total = 0;
  let names: string[];
  try {
    names = fs.readdirSync(root, { recursive: true }) as string[];
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.endsWith('.f16')) continue;
    try {
      total += fs.statSync(path.join(root, name)).size;
    } catch {
      // removed meanwhile (a truncated entry replaced by another reader): not stored
    }
  }
  return total;
}
