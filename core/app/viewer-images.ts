import { DecodePool } from '../imaging/decode-pool';
import { renderFrame } from '../imaging/display';
import { ImagingError, type DecodedImage } from '../imaging/types';
import { ApiFailure } from '../api/errors';
import type { ThumbnailT, ViewerImageT } from '../api/contract';

/** Transfer syntaxes with a reduced-resolution path (JPEG 2000 and HTJ2K, OpenJPEG's decodeSubResolution). */
export const REDUCIBLE_SYNTAXES: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.202',
  '1.2.840.10008.1.2.4.203',
]);

/** Decoded images kept for slice requests and re-opening the case just left (each can be tens of MB). */
const IMAGE_CACHE_SIZE = 4;
/** Thumbnails are small (64² RGBA = 16 KB): keep a few thousand so scrolling back costs nothing. */
const THUMBNAIL_CACHE_SIZE = 3000;

/** A tiny least-recently-used map. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
  delete(key: K): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
}

/**
 * Pixels for the viewer and the worklist: decodes case files through the worker pool (never on the
 * thread that answers the UI), caches recent results and shrinks thumbnails.
 */
export class ViewerImages {
  private pool: DecodePool | null = null;
  private readonly images = new Lru<number, Promise<DecodedImage>>(IMAGE_CACHE_SIZE);
  private readonly thumbnails = new Lru<string, ThumbnailT>(THUMBNAIL_CACHE_SIZE);

  /** Forget everything (another workspace was opened: case ids mean other images). */
  reset(): void {
    this.images.clear();
    this.thumbnails.clear();
  }

  async image(caseId: number, file: string, firstFrame: number, frameCount?: number): Promise<ViewerImageT> {
    const image = await this.decoded(caseId, file);
    if (firstFrame >= image.numberOfFrames) {
      throw new ApiFailure('invalid-request', `${image.source}: frame ${firstFrame + 1} does not exist (${image.numberOfFrames} frames)`);
    }
    const end = frameCount === undefined ? image.frames.length : Math.min(image.frames.length, firstFrame + frameCount);
    return toViewerImage(caseId, image, firstFrame, end);
  }

  /**
   * A JPEG 2000 case's reduced-resolution first view, decoded by the pool ahead of the full image (asked for just
   * before it, so it is decoded first); null for other files. Not cached: the full image replaces it at once.
   */
  async preview(caseId: number, file: string, maxSide: number, full: { rows: number; columns: number }): Promise<ViewerImageT | null> {
    this.pool ??= new DecodePool();
    const image = await this.pool.previewFile(file, maxSide).catch(() => null);
    return image ? { ...toViewerImage(caseId, image, 0, image.frames.length), preview: full } : null;
  }

  /**
   * A small preview. `reducible` (JPEG 2000): from a reduced-resolution decode, a fraction of the full one's cost, so
   * a worklist row never holds the pool for a full 1024² decode while the viewer waits.
   */
  async thumbnail(caseId: number, file: string, size: number, reducible = false): Promise<ThumbnailT> {
    const key = `${caseId}:${size}`;
    const cached = this.thumbnails.get(key);
    if (cached) return cached;
    this.pool ??= new DecodePool();
    const reduced = reducible ? await this.pool.previewFile(file, size * 2).catch(() => null) : null;
    const image = reduced ?? (await this.decoded(caseId, file, false));
    const frame = renderFrame(image, 0);
    const thumb = { caseId, ...shrink(frame.rgba, frame.width, frame.height, size) };
    this.thumbnails.set(key, thumb);
    return thumb;
  }

  async close(): Promise<void> {
    this.reset();
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  /** The decoded case; `keep` false for thumbnails so scrolling the worklist does not evict the viewer's images. */
  private decoded(caseId: number, file: string, keep = true): Promise<DecodedImage> {
    const cached = this.images.get(caseId);
    if (cached) return cached;
    this.pool ??= new DecodePool();
    const pending = this.pool.decodeFile(file).catch((err: unknown) => {
      this.images.delete(caseId);
      if (err instanceof ImagingError) throw new ApiFailure('decode-failed', `Cannot show this image: ${err.message}`);
      throw err;
    });
    if (keep) this.images.set(caseId, pending);
    return pending;
  }
}

/** A decoded image (frames firstFrame…end−1) as the contract's ViewerImage. */
function toViewerImage(caseId: number, image: DecodedImage, firstFrame: number, end: number): ViewerImageT {
  return {
    caseId,
    source: image.source,
    kind: image.kind,
    rows: image.rows,
    columns: image.columns,
    samplesPerPixel: image.samplesPerPixel,
    numberOfFrames: image.numberOfFrames,
    firstFrame,
    frames: image.frames.slice(firstFrame, end),
    photometric: image.photometric,
    bitsAllocated: image.bitsAllocated,
    bitsStored: image.bitsStored,
    signed: image.signed,
    lossy: image.lossy,
    modality: image.modality,
    voi: image.voi,
    ...(image.palette ? { palette: image.palette } : {}),
    metadata: image.metadata,
  };
}

/** Box-filter downscale of RGBA pixels so the longer side is at most `size` (never enlarges). */
export function shrink(rgba: Uint8ClampedArray, width: number, height: number, size: number) {
  const scale = Math.min(1, size / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / w));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0, i = (sy * width + x0) * 4; sx < x1; sx++, i += 4) {
          r += rgba[i];
          g += rgba[i + 1];
          b += rgba[i + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * w + x) * 4;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
      out[o + 3] = 255;
    }
  }
  return { width: w, height: h, rgba: out };
}
