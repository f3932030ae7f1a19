/**
 * Decoded-once model inputs. Each case's image is decoded and preprocessed a single time per
 * preprocessing configuration and kept as Uint8 [S,S,3] under `<workspace>/cache/inputs/<key>/`, so
 * later epochs and later runs never touch DICOM again. The key hashes every setting that changes the
 * bytes (and a format version), so a changed configuration simply uses a fresh folder.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeImageFile } from '../imaging/decode-file';
import { prepareModelInput, type AspectMode, type IntensityMode } from '../imaging/model-input';

/** Bump when prepareModelInput's output for the same settings changes. */
const INPUT_FORMAT_VERSION = 2; // 2: grey photos/PNGs keep raw 8-bit values unless 'stretch' is chosen

export interface Preprocessing {
  size: number;
  aspect: AspectMode;
  fundusFov: boolean;
  /** Grey-value mapping before the model (model-input.ts); absent = 'auto' (versions written before it existed). */
  intensity?: IntensityMode;
}

export function preprocessingKey(p: Preprocessing): string {
  const canonical = JSON.stringify({ v: INPUT_FORMAT_VERSION, size: p.size, aspect: p.aspect, fundusFov: p.fundusFov, intensity: p.intensity ?? 'auto' });
  return crypto.createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** The case fields the cache needs: which bytes, which frame. */
export interface CacheableCase {
  id: number;
  blobSha256: string;
  blobPath: string;
  frameCount: number;
}

/** Multi-frame cases are represented by their middle frame. */
export const representativeFrame = (frameCount: number) => Math.floor(Math.max(1, frameCount) / 2);

export class InputCache {
  readonly dir: string;

  constructor(
    workspaceDir: string,
    readonly preprocessing: Preprocessing,
  ) {
    this.dir = path.join(workspaceDir, 'cache', 'inputs', preprocessingKey(preprocessing));
  }

  private file(c: CacheableCase): string {
    return path.join(this.dir, c.blobSha256.slice(0, 2), `${c.blobSha256}-${representativeFrame(c.frameCount)}.u8`);
  }

  get(c: CacheableCase): Uint8Array | undefined {
    const expected = this.preprocessing.size * this.preprocessing.size * 3;
    try {
      const bytes = fs.readFileSync(this.file(c));
      // A short file (e.g. a crash mid-write on a filesystem without atomic rename) is a miss.
      return bytes.byteLength === expected ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
    } catch {
      return undefined;
    }
  }

  put(c: CacheableCase, hwc: Uint8Array): void {
    const file = this.file(c);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, hwc);
    fs.renameSync(tmp, file);
  }

  /** Decodes and preprocesses one case (no cache lookup). */
  async compute(c: CacheableCase): Promise<Uint8Array> {
    const image = await decodeImageFile(c.blobPath);
    const frame = Math.min(representativeFrame(c.frameCount), image.numberOfFrames - 1);
    return prepareModelInput(image, frame, {
      size: this.preprocessing.size,
      aspect: this.preprocessing.aspect,
      fundusFov: this.preprocessing.fundusFov,
      intensity: this.preprocessing.intensity ?? 'auto',
    }).hwc;
  }
}

export interface EnsureResult {
  inputs: Map<number, Uint8Array>;
  failures: { caseId: number; reason: string }[];
  decoded: number;
  fromCache: number;
}

/** Every case's input, decoding only those not cached yet. A case that fails is reported, not fatal. */
export async function ensureInputs(
  cache: InputCache,
  cases: CacheableCase[],
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<EnsureResult> {
  const result: EnsureResult = { inputs: new Map(), failures: [], decoded: 0, fromCache: 0 };
  let done = 0;
  for (const c of cases) {
    if (options.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    let input = cache.get(c);
    if (input) result.fromCache++;
    else {
      try {
        input = await cache.compute(c);
        cache.put(c, input);
        result.decoded++;
      } catch (err) {
        result.failures.push({ caseId: c.id, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    if (input) result.inputs.set(c.id, input);
    options.onProgress?.(++done, cases.length);
  }
  return result;
}
