/**
 * The frozen-prefix cache: when an adapter first changes block k, blocks 0..k−1 compute the same
 * tokens for an image in every epoch (they depend on the image and the frozen weights only). They
 * run once per image here; epochs then start from the stored tokens and compute blocks k..L−1.
 * Entries are plain Float32Arrays outside the backend's memory (wasm's heap is capped near 2 GB),
 * keyed by the cached input buffer itself, so training and validation samples find theirs by identity.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Normalization } from '../imaging/model-input';
import type { AdaptedViT } from '../model/model';
import type { ReplicaPool } from './replica-pool';
import { augmentToChw } from './augment';
import { tick } from './cancellation';
import { roundToFloat16, type PrefixStore } from './prefix-store';

export const DEFAULT_PREFIX_CACHE_MB = 3072;
export type PrefixCacheMode = 'auto' | 'off';

/** Budget in bytes: MEDTUNE_PREFIX_CACHE_MB (default 3072 MB). */
export function prefixCacheBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MEDTUNE_PREFIX_CACHE_MB;
  if (raw === undefined || raw.trim() === '') return DEFAULT_PREFIX_CACHE_MB * 2 ** 20;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`MEDTUNE_PREFIX_CACHE_MB must be a number of megabytes ≥ 0, got "${raw}"`);
  return mb * 2 ** 20;
}

/** Bytes the cache needs for `images` distinct images of this model. */
export function prefixCacheBytes(model: AdaptedViT, images: number): number {
  return images * model.prefixRowsPerImage * model.backbone.config.embedDim * Float32Array.BYTES_PER_ELEMENT;
}

export interface PrefixCacheDecision {
  use: boolean;
  /** One line for the run log: why the cache is (not) used. */
  reason: string;
  bytes: number;
}

/**
 * Whether caching is exact and worth it: only when every epoch sees the same pixels (no
 * augmentation), nothing before the start layer trains (no extra variables such as a trainable
 * backbone) and there is a prefix to skip (start layer > 0); and only within the memory budget.
 */
export function decidePrefixCache(
  model: AdaptedViT,
  images: number,
  options: { mode?: PrefixCacheMode; augmentation: unknown; extraVariables?: number; budgetBytes?: number },
): PrefixCacheDecision {
  const bytes = prefixCacheBytes(model, images);
  const k = model.startLayer;
  const no = (reason: string): PrefixCacheDecision => ({ use: false, reason: `prefix cache off: ${reason}`, bytes });
  if (options.mode === 'off') return no('turned off for this run');
  if (options.augmentation) return no('augmentation changes the images every epoch');
  if ((options.extraVariables ?? 0) > 0) return no('backbone weights are trained too');
  if (k === 0) return no('the adapter starts at block 0, there is no frozen prefix');
  const budget = options.budgetBytes ?? prefixCacheBudgetBytes();
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  if (bytes > budget) {
    return no(`${images} images would take ${mb(bytes)} MB, over the ${mb(budget)} MB budget (MEDTUNE_PREFIX_CACHE_MB); every epoch runs the full backbone`);
  }
  const what = k >= model.backbone.config.depth ? 'the whole frozen backbone (pooled features)' : `frozen blocks 0..${k - 1}`;
  return { use: true, reason: `prefix cache on: ${what} run once per image (${images} images, ${mb(bytes)} MB)`, bytes };
}

export interface BuildPrefixCacheOptions {
  size: number;
  normalization: Normalization;
  batchSize?: number;
  /** Throws to cancel (called before every batch). */
  checkCancelled?: () => void;
  onProgress?: (done: number, total: number) => void;
  /** Data-parallel replicas of the model: each round gives every replica one batch. */
  replicas?: ReplicaPool | null;
  /**
   * Tokens kept on disk across runs (off by default): entries found there are read instead of
   * computed, new ones are written. With a store every entry holds float16-rounded values, so a
   * run gives the same numbers whether its tokens were just computed or read back.
   */
  store?: PrefixStore | null;
}

export class PrefixCache {
  private readonly entries = new Map<Uint8Array, Float32Array>();
  /** Seconds spent building (set by `build`). */
  seconds = 0;
  /** Entries read from the disk store rather than computed (set by `build`). */
  fromDisk = 0;

  constructor(
    readonly startLayer: number,
    readonly rowsPerImage: number,
    readonly width: number,
  ) {}

  /** Runs the model's frozen prefix once for every distinct input, in batches. */
  static async build(model: AdaptedViT, inputs: Uint8Array[], options: BuildPrefixCacheOptions): Promise<PrefixCache> {
    const started = performance.now();
    const cache = new PrefixCache(model.startLayer, model.prefixRowsPerImage, model.backbone.config.embedDim);
    const store = options.store ?? null;
    if (store && (store.key.startLayer !== cache.startLayer || store.key.rowsPerImage !== cache.rowsPerImage || store.key.width !== cache.width)) {
      throw new Error(`prefix store: its key (start layer ${store.key.startLayer}, ${store.key.rowsPerImage}×${store.key.width}) does not match the model (start layer ${cache.startLayer}, ${cache.rowsPerImage}×${cache.width})`);
    }
    let distinct = [...new Set(inputs)];
    if (store) {
      distinct = distinct.filter((input) => {
        const stored = store.read(input);
        if (stored) cache.entries.set(input, stored);
        return !stored;
      });
      cache.fromDisk = cache.entries.size;
    }
    const perReplica = Math.max(1, options.batchSize ?? 16);
    const batchSize = options.replicas ? perReplica * options.replicas.size : perReplica;
    const { size, normalization } = options;
    const plane = 3 * size * size;
    const perImage = cache.rowsPerImage * cache.width;
    for (let start = 0; start < distinct.length; start += batchSize) {
      options.checkCancelled?.();
      const chunk = distinct.slice(start, start + batchSize);
      const pixels = new Float32Array(chunk.length * plane);
      chunk.forEach((input, i) => pixels.set(augmentToChw(input, size, normalization, null), i * plane));
      let data: Float32Array;
      if (options.replicas) {
        data = await options.replicas.prefixTokens({ kind: 'images', data: pixels, count: chunk.length, size }, perReplica);
      } else {
        const tokens = tf.tidy(() => model.prefixTokens(tf.tensor4d(pixels, [chunk.length, 3, size, size]), 'NCHW'));
        data = (await tokens.data()) as Float32Array;
        tokens.dispose();
      }
      // One copy per image: a backend may reuse the buffer it handed out.
      chunk.forEach((input, i) => {
        const tokens = data.slice(i * perImage, (i + 1) * perImage);
        if (store) store.write(input, tokens);
        cache.entries.set(input, store ? roundToFloat16(tokens) : tokens);
      });
      options.onProgress?.(Math.min(start + batchSize, distinct.length), distinct.length);
      await tick();
    }
    cache.seconds = (performance.now() - started) / 1000;
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.entries.size * this.rowsPerImage * this.width * Float32Array.BYTES_PER_ELEMENT;
  }

  has(input: Uint8Array): boolean {
    return this.entries.has(input);
  }

  hasAll(inputs: Uint8Array[]): boolean {
    return inputs.every((input) => this.entries.has(input));
  }

  /** Stacked prefixes of these inputs, [n·rows, D], for `AdaptedViT.forwardFromTokens`. */
  tokens(inputs: Uint8Array[]): tf.Tensor2D {
    return tf.tensor2d(this.tokenData(inputs), [inputs.length * this.rowsPerImage, this.width]);
  }

  /** The same rows as a plain array (what data-parallel replicas receive). */
  tokenData(inputs: Uint8Array[]): Float32Array {
    const perImage = this.rowsPerImage * this.width;
    const data = new Float32Array(inputs.length * perImage);
    inputs.forEach((input, i) => {
      const entry = this.entries.get(input);
      if (!entry) throw new Error('prefix cache: an input was not cached (build the cache from every training and validation input)');
      data.set(entry, i * perImage);
    });
    return data;
  }

  clear(): void {
    this.entries.clear();
  }
}
