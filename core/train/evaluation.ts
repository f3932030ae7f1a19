/**
 * Prediction and evaluation without gradients: probabilities, pre-logits features and the mean loss
 * of inputs (in this thread or split over the replicas, from cached prefix tokens where there are
 * some), and the metrics of probabilities against labels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Normalization } from '../imaging/model-input';
import type { AdaptedViT } from '../model/model';
import { batchData, batchTensor, forwardMicroBatch, labelTensor, replicaInput } from './batches';
import { throwIfAborted, tick, unlessAborted } from './cancellation';
import { summarizeMetrics, type MetricsSummary } from './metrics';
import type { PrefixCache } from './prefix-cache';
import type { ReplicaPool } from './replica-pool';
import { taskLoss } from '../model/heads';
import type { Sample, TrainTaskKind } from './types';

export interface Predictions {
  /** [n × C] probabilities (softmax, or sigmoid for multilabel). */
  probabilities: Float32Array;
  /** [n × D] pre-logits features (the embedding used for diversity sampling). */
  features: Float32Array;
  /** Mean loss when labels were given. */
  loss?: number;
}

export interface PredictOptions {
  task: TrainTaskKind;
  size: number;
  normalization: Normalization;
  signal?: AbortSignal;
  batchSize?: number;
  labels?: Sample['label'][];
  numClasses?: number;
  onProgress?: (done: number, total: number) => void;
  /** Cached frozen-prefix tokens of (some of) these inputs, built for this model. */
  prefixCache?: PrefixCache | null;
  /** Data-parallel replicas of this model: each round gives every replica one batch. */
  replicas?: ReplicaPool | null;
}

/** Forward passes in batches without gradients; probabilities and features come back as plain arrays. */
export async function predictSamples(model: AdaptedViT, inputs: Uint8Array[], options: PredictOptions): Promise<Predictions> {
  const perReplica = options.batchSize ?? 16;
  const replicas = options.replicas ?? null;
  const batchSize = replicas ? perReplica * replicas.size : perReplica;
  const C = model.adapter.numClasses;
  const D = model.backbone.config.embedDim;
  const probabilities = new Float32Array(inputs.length * C);
  const features = new Float32Array(inputs.length * D);
  let lossSum = 0;
  for (let start = 0; start < inputs.length; start += batchSize) {
    throwIfAborted(options.signal);
    const chunk = inputs.slice(start, start + batchSize).map((input, i) => ({ input, label: options.labels?.[start + i] ?? 0 }));
    const fromReplicas = replicas
      ? await unlessAborted(
          replicas.predict(replicaInput(model, chunk, options.prefixCache ?? null, () => batchData(chunk, options.size, options.normalization, null), options.size), perReplica),
          options.signal,
        )
      : null;
    const [probs, feats, loss] = tf.tidy(() => {
      const out = fromReplicas
        ? { logits: tf.tensor2d(fromReplicas.logits, [chunk.length, C]), features: tf.tensor2d(fromReplicas.features, [chunk.length, D]) }
        : forwardMicroBatch(model, chunk, options.prefixCache ?? null, () => batchTensor(chunk, options.size, options.normalization, null));
      const p = options.task === 'multilabel' ? tf.sigmoid(out.logits) : tf.softmax(out.logits);
      const l = options.labels ? taskLoss(options.task, out.logits, labelTensor(chunk, options.task, C)) : tf.scalar(0);
      return [p, out.features, l];
    });
    probabilities.set(await probs.data(), start * C);
    features.set(await feats.data(), start * D);
    lossSum += (await loss.data())[0] * chunk.length;
    tf.dispose([probs, feats, loss]);
    options.onProgress?.(Math.min(start + batchSize, inputs.length), inputs.length);
    await tick();
  }
  return { probabilities, features, loss: options.labels ? lossSum / Math.max(1, inputs.length) : undefined };
}

/** Metrics of predictions against the samples' labels. */
export function evaluateSamples(task: TrainTaskKind, probabilities: Float32Array, samples: Sample[], numClasses: number): MetricsSummary {
  if (task === 'multilabel') {
    const rows = samples.map((s) => s.label as number[]);
    const probs = Array.from({ length: samples.length }, (_, i) => Array.from(probabilities.subarray(i * numClasses, (i + 1) * numClasses)));
    return summarizeMetrics('multilabel', probs, rows);
  }
  return summarizeMetrics(task, probabilities, samples.map((s) => s.label as number));
}
