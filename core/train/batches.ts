/**
 * Samples into what the model takes: NCHW image batches (augmented when a random source is given),
 * label tensors, the same as plain arrays for the replicas, and a micro-batch's forward pass from
 * cached frozen-prefix tokens when the cache holds every sample.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Normalization } from '../imaging/model-input';
import type { AdaptedViT, ForwardResult } from '../model/model';
import { augmentToChw, type AugmentationConfig } from './augment';
import type { PrefixCache } from './prefix-cache';
import type { ReplicaInput } from './replica-protocol';
import type { Sample, TrainTaskKind } from './types';

/** Stacks samples into one NCHW batch, augmenting when a random source is given. */
export function batchTensor(
  samples: Sample[],
  size: number,
  normalization: Normalization,
  augmentation: AugmentationConfig | null,
  random?: () => number,
): tf.Tensor4D {
  return tf.tensor4d(batchData(samples, size, normalization, augmentation, random), [samples.length, 3, size, size]);
}

/** The NCHW float data of batchTensor, without making a tensor (what replicas receive). */
export function batchData(samples: Sample[], size: number, normalization: Normalization, augmentation: AugmentationConfig | null, random?: () => number): Float32Array {
  const plane = 3 * size * size;
  const data = new Float32Array(samples.length * plane);
  samples.forEach((s, i) => data.set(augmentToChw(s.input, size, normalization, augmentation, random), i * plane));
  return data;
}

/** Labels as replicas take them: class ids, or 0/1 rows for multi-label. */
export function labelData(samples: Sample[], task: TrainTaskKind, numClasses: number): Float32Array {
  if (task !== 'multilabel') return Float32Array.from(samples.map((s) => s.label as number));
  const data = new Float32Array(samples.length * numClasses);
  samples.forEach((s, i) => (s.label as number[]).forEach((v, c) => (data[i * numClasses + c] = v)));
  return data;
}

/** Labels as the loss takes them: int32 class ids, or a float [n × C] 0/1 matrix for multi-label. */
export function labelTensor(samples: Sample[], task: TrainTaskKind, numClasses: number): tf.Tensor {
  if (task === 'multilabel') {
    const data = new Float32Array(samples.length * numClasses);
    samples.forEach((s, i) => (s.label as number[]).forEach((v, c) => (data[i * numClasses + c] = v)));
    return tf.tensor2d(data, [samples.length, numClasses]);
  }
  return tf.tensor1d(samples.map((s) => s.label as number), 'int32');
}

/** Whether the cache, built for this model, holds every sample's tokens. */
function cacheCovers(model: AdaptedViT, samples: Sample[], cache: PrefixCache | null): cache is PrefixCache {
  return !!cache && cache.startLayer === model.startLayer && cache.hasAll(samples.map((s) => s.input));
}

/** A batch as replica input: cached prefix tokens when the cache holds every sample, else (augmented) images. */
export function replicaInput(model: AdaptedViT, samples: Sample[], cache: PrefixCache | null, makeImages: () => Float32Array, size: number): ReplicaInput {
  if (cacheCovers(model, samples, cache)) {
    return { kind: 'tokens', data: cache.tokenData(samples.map((s) => s.input)), count: samples.length, startLayer: cache.startLayer };
  }
  return { kind: 'images', data: makeImages(), count: samples.length, size };
}

/**
 * A micro-batch through the model: from cached prefix tokens when the cache holds every sample,
 * else from the images `makeImages` builds. Call inside tf.tidy / variableGrads (inputs are freed there).
 */
export function forwardMicroBatch(model: AdaptedViT, samples: Sample[], cache: PrefixCache | null, makeImages: () => tf.Tensor4D): ForwardResult {
  if (cacheCovers(model, samples, cache)) return model.forwardFromTokens(cache.tokens(samples.map((s) => s.input)), samples.length);
  return model.forward(makeImages(), { layout: 'NCHW' });
}
