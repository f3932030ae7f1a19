/**
 * The training loop, independent of the database: cached 8-bit inputs and labels in, the best adapter
 * tensors (by the validation selection metric) and the per-epoch history out. Used by training runs
 * in a workspace and by the MedMNIST evaluation alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Normalization } from '../imaging/model-input';
import { taskLoss } from '../model/heads';
import type { AdaptedViT, ForwardResult } from '../model/model';
import type { NamedTensorData } from '../model/safetensors';
import { seededRandom } from '../active/prng';
import { augmentToChw, type AugmentationConfig } from './augment';
import { summarizeMetrics, type MetricsSummary } from './metrics';
import { AdapterOptimizer, GradientAccumulator } from './optimizer';
import { decidePrefixCache, PrefixCache, type PrefixCacheMode } from './prefix-cache';
import type { ReplicaPool } from './replica-pool';
import type { ReplicaInput } from './replica-protocol';
import { effectiveNumberWeights, inverseFrequencyWeights, classCounts, makeWarmupCosineSchedule } from './schedule';
import { TRAINING_DEFAULTS, type ClassificationKind, type ClassWeighting } from '../vocabulary';

export type TrainTaskKind = ClassificationKind;

export interface Sample {
  /** Cached model input, Uint8 [S, S, 3]. */
  input: Uint8Array;
  /** Class id (multiclass/ordinal) or 0/1 per class (multilabel). */
  label: number | number[];
}

export interface TrainConfig {
  epochs: number;
  /** Effective batch: gradients of micro-batches are accumulated up to it. */
  batchSize: number;
  /** Images per forward/backward pass (memory bound); defaults to batchSize. */
  microBatchSize?: number;
  lr: number;
  minLr?: number;
  /** Fraction of all steps spent warming up linearly. */
  warmupFraction: number;
  optimizer: 'adamw' | 'sgd';
  weightDecay: number;
  /** Epochs without improvement of the validation metric before stopping (0 = never stop early). */
  patience: number;
  classWeighting: ClassWeighting;
  augmentation: AugmentationConfig | null;
  seed: number;
  evalBatchSize?: number;
  /**
   * 'auto' (default): without augmentation and with an adapter starting at block k > 0, blocks
   * 0..k−1 run once per image before epoch 1 and epochs start from their cached output (exact).
   */
  prefixCache?: PrefixCacheMode;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: TRAINING_DEFAULTS.epochs,
  batchSize: TRAINING_DEFAULTS.batchSize,
  lr: TRAINING_DEFAULTS.lr,
  minLr: TRAINING_DEFAULTS.minLr,
  warmupFraction: TRAINING_DEFAULTS.warmupFraction,
  optimizer: TRAINING_DEFAULTS.optimizer,
  weightDecay: TRAINING_DEFAULTS.weightDecay,
  patience: TRAINING_DEFAULTS.patience,
  classWeighting: TRAINING_DEFAULTS.classWeighting,
  augmentation: null,
  seed: TRAINING_DEFAULTS.seed,
};

export interface TrainProgress {
  /** 'caching': running the frozen prefix once per image before epoch 1 (step counts images then). */
  phase: 'caching' | 'training' | 'validating';
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  loss?: number;
  lr?: number;
  /** Validation metrics after an epoch. */
  metrics?: MetricsSummary;
  etaSeconds?: number;
  message?: string;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  selection?: { name: string; value: number };
  seconds: number;
}

export interface TrainResult {
  bestEpoch: number;
  /** Validation metrics of the best epoch (undefined without validation cases). */
  bestMetrics?: MetricsSummary;
  bestTensors: Map<string, NamedTensorData>;
  history: EpochRecord[];
  stoppedEarly: boolean;
  steps: number;
  seconds: number;
  /** Whether epochs started from cached frozen-prefix tokens, why, and what building them cost. */
  prefixCache: { used: boolean; reason: string; startLayer: number; seconds: number; megabytes: number };
}

export interface RunOptions {
  /**
   * Further variables trained with the adapter, e.g. a backbone's own weights when a small ViT is
   * trained from scratch as a stand-in foundation model (eval:medmnist). Not part of bestTensors.
   */
  extraVariables?: Map<string, tf.Variable>;
  task: TrainTaskKind;
  numClasses: number;
  size: number;
  normalization: Normalization;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /**
   * Data-parallel replicas of this model (replica-pool.ts): each step's batch is split over them and
   * their gradients summed. Not used with extraVariables (replicas hold a frozen backbone).
   */
  replicas?: ReplicaPool | null;
}

export class TrainingCancelled extends Error {
  constructor() {
    super('training was cancelled');
    this.name = 'TrainingCancelled';
  }
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new TrainingCancelled();
}

/**
 * Work on the replicas, given up at once when the signal aborts (the owner then closes the pool,
 * which stops the busy threads): a replica cannot read a cancel message in the middle of a step.
 */
function unlessAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TrainingCancelled());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? new TrainingCancelled() : e);
      },
    );
  });
}

/** Yields to the event loop so cancellation messages and progress get through between steps. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

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
function labelData(samples: Sample[], task: TrainTaskKind, numClasses: number): Float32Array {
  if (task !== 'multilabel') return Float32Array.from(samples.map((s) => s.label as number));
  const data = new Float32Array(samples.length * numClasses);
  samples.forEach((s, i) => (s.label as number[]).forEach((v, c) => (data[i * numClasses + c] = v)));
  return data;
}

/** A batch as replica input: cached prefix tokens when the cache holds every sample, else (augmented) images. */
function replicaInput(model: AdaptedViT, samples: Sample[], cache: PrefixCache | null, makeImages: () => Float32Array, size: number): ReplicaInput {
  const inputs = samples.map((s) => s.input);
  if (cache && cache.startLayer === model.startLayer && cache.hasAll(inputs)) {
    return { kind: 'tokens', data: cache.tokenData(inputs), count: samples.length, startLayer: cache.startLayer };
  }
  return { kind: 'images', data: makeImages(), count: samples.length, size };
}

function labelTensor(samples: Sample[], task: TrainTaskKind, numClasses: number): tf.Tensor {
  if (task === 'multilabel') {
    const data = new Float32Array(samples.length * numClasses);
    samples.forEach((s, i) => (s.label as number[]).forEach((v, c) => (data[i * numClasses + c] = v)));
    return tf.tensor2d(data, [samples.length, numClasses]);
  }
  return tf.tensor1d(samples.map((s) => s.label as number), 'int32');
}

export interface Predictions {
  /** [n × C] probabilities (softmax, or sigmoid for multilabel). */
  probabilities: Float32Array;
  /** [n × D] pre-logits features (the embedding used for diversity sampling). */
  features: Float32Array;
  /** Mean loss when labels were given. */
  loss?: number;
}

/** Forward passes in batches without gradients; probabilities and features come back as plain arrays. */
export async function predictSamples(
  model: AdaptedViT,
  inputs: Uint8Array[],
  options: Pick<RunOptions, 'task' | 'size' | 'normalization' | 'signal'> & {
    batchSize?: number;
    labels?: Sample['label'][];
    numClasses?: number;
    onProgress?: (done: number, total: number) => void;
    /** Cached frozen-prefix tokens of (some of) these inputs, built for this model. */
    prefixCache?: PrefixCache | null;
    /** Data-parallel replicas of this model: each round gives every replica one batch. */
    replicas?: ReplicaPool | null;
  },
): Promise<Predictions> {
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

/**
 * A micro-batch through the model: from cached prefix tokens when the cache holds every sample,
 * else from the images `makeImages` builds. Call inside tf.tidy / variableGrads (inputs are freed there).
 */
export function forwardMicroBatch(model: AdaptedViT, samples: Sample[], cache: PrefixCache | null, makeImages: () => tf.Tensor4D): ForwardResult {
  const inputs = samples.map((s) => s.input);
  if (cache && cache.startLayer === model.startLayer && cache.hasAll(inputs)) return model.forwardFromTokens(cache.tokens(inputs), samples.length);
  return model.forward(makeImages(), { layout: 'NCHW' });
}

/** Detached copies: a backend may hand out its own buffers, which later steps would overwrite. */
function copyTensors(tensors: Map<string, NamedTensorData>): Map<string, NamedTensorData> {
  const out = new Map<string, NamedTensorData>();
  for (const [name, t] of tensors) out.set(name, { ...t, shape: [...t.shape], data: Float32Array.from(t.data) });
  return out;
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

function classWeightTensor(config: TrainConfig, train: Sample[], task: TrainTaskKind, numClasses: number): tf.Tensor1D | undefined {
  if (task === 'multilabel' || config.classWeighting === 'none') return undefined;
  const counts = classCounts(train.map((s) => s.label as number), numClasses);
  const weights = config.classWeighting === 'inverse' ? inverseFrequencyWeights(counts) : effectiveNumberWeights(counts);
  return tf.tensor1d(weights);
}

/**
 * Trains the model's adapter and head in place, keeps the best epoch's tensors and restores them into
 * the model at the end. Throws TrainingCancelled when the signal aborts (the model then holds
 * whatever the last step left; callers discard it).
 */
export async function trainAdapter(model: AdaptedViT, train: Sample[], val: Sample[], config: TrainConfig, options: RunOptions): Promise<TrainResult> {
  if (train.length === 0) throw new Error('no training cases: label some cases in the training split first');
  const started = performance.now();
  const { task, numClasses, size, normalization, signal } = options;
  const micro = Math.max(1, Math.min(config.microBatchSize ?? config.batchSize, config.batchSize));
  const stepsPerEpoch = Math.ceil(train.length / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const schedule = makeWarmupCosineSchedule({
    baseLr: config.lr,
    minLr: Math.min(config.minLr ?? 0, config.lr),
    totalSteps,
    warmupSteps: Math.min(totalSteps, Math.round(config.warmupFraction * totalSteps)),
  });
  const random = seededRandom(`train:${config.seed}`);
  const variables = new Map([...model.variables, ...(options.extraVariables ?? [])]);
  const optimizer = new AdapterOptimizer(variables, { kind: config.optimizer, weightDecay: config.weightDecay });
  const accumulator = new GradientAccumulator();
  const weights = classWeightTensor(config, train, task, numClasses);
  const classWeightArray = weights ? (weights.dataSync() as Float32Array).slice() : undefined;
  if (options.replicas && options.extraVariables?.size) throw new Error('data-parallel replicas train adapters on a frozen backbone only (extraVariables given)');
  // Dropped (to one thread) if a replica fails mid-run; the caller still owns and closes the pool.
  let replicas = options.replicas ?? null;
  const history: EpochRecord[] = [];
  let best: { epoch: number; value: number; metrics?: MetricsSummary; tensors: Map<string, NamedTensorData> } | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;
  let step = 0;
  const evalBatchSize = config.evalBatchSize ?? Math.max(micro, 8);
  const prefixReport: TrainResult['prefixCache'] = { used: false, reason: '', startLayer: model.startLayer, seconds: 0, megabytes: 0 };
  let prefix: PrefixCache | null = null;

  /**
   * Loss and gradient of one effective batch: split over the replicas when there are any, else
   * micro-batches in this thread accumulated with each weighted by its share of the batch.
   */
  const batchGradients = async (batch: Sample[]): Promise<{ loss: number; grads: Map<string, tf.Tensor> }> => {
    if (replicas) {
      throwIfAborted(signal);
      const input = replicaInput(model, batch, prefix, () => batchData(batch, size, normalization, config.augmentation, random), size);
      try {
        const out = await unlessAborted(replicas.gradients(input, labelData(batch, task, numClasses), { microBatch: micro, classWeights: classWeightArray }), signal);
        return { loss: out.loss, grads: new Map([...out.grads].map(([name, g]) => [name, tf.tensor(g.data, g.shape)])) };
      } catch (err) {
        if (err instanceof TrainingCancelled) throw err;
        // A replica died (e.g. out of memory): this thread holds the same model, so the run goes on here.
        replicas = null;
        options.onProgress?.({ phase: 'training', epoch: 0, epochs: config.epochs, step, totalSteps, message: `${(err as Error).message}; continuing in one thread` });
      }
    }
    let loss = 0;
    for (let m = 0; m < batch.length; m += micro) {
      throwIfAborted(signal);
      const part = batch.slice(m, m + micro);
      const labels = labelTensor(part, task, numClasses);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() =>
            taskLoss(task, forwardMicroBatch(model, part, prefix, () => batchTensor(part, size, normalization, config.augmentation, random)).logits, labels, weights),
          ),
        [...variables.values()],
      );
      const named = new Map<string, tf.Tensor>();
      for (const [name, v] of variables) if (grads[v.name]) named.set(name, grads[v.name]);
      accumulator.add(named, part.length / batch.length);
      loss += (await value.data())[0] * (part.length / batch.length);
      tf.dispose([labels, value]);
      await tick();
    }
    return { loss, grads: accumulator.take() };
  };

  try {
    // Frozen prefix once per image (exact: no trainable tensor acts before model.startLayer).
    const decision = decidePrefixCache(model, new Set([...train, ...val].map((s) => s.input)).size, {
      mode: config.prefixCache,
      augmentation: config.augmentation,
      extraVariables: options.extraVariables?.size,
    });
    prefixReport.reason = decision.reason;
    const progress = (message: string, done = 0, total = 0) =>
      options.onProgress?.({ phase: 'caching', epoch: 0, epochs: config.epochs, step: done, totalSteps: total, message });
    progress(decision.reason);
    if (decision.use) {
      prefix = await PrefixCache.build(model, [...train, ...val].map((s) => s.input), {
        size,
        normalization,
        batchSize: evalBatchSize,
        replicas,
        checkCancelled: () => throwIfAborted(signal),
        onProgress: (done, total) => progress(`caching frozen blocks 0..${model.startLayer - 1}: ${done}/${total} images`, done, total),
      });
      Object.assign(prefixReport, { used: true, seconds: prefix.seconds, megabytes: prefix.bytes / 2 ** 20 });
      progress(`prefix cache built in ${prefix.seconds.toFixed(1)} s (${prefixReport.megabytes.toFixed(0)} MB); epochs compute blocks ${model.startLayer}..${model.backbone.config.depth - 1}`);
    }
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const epochStart = performance.now();
      // Seeded shuffle per epoch.
      const order = train.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      let lossSum = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        const batch = order.slice(b * config.batchSize, (b + 1) * config.batchSize).map((i) => train[i]);
        const { loss: batchLoss, grads: summed } = await batchGradients(batch);
        const lr = schedule(step);
        optimizer.apply(summed, lr);
        tf.dispose([...summed.values()]);
        step++;
        lossSum += batchLoss * batch.length;
        const elapsed = (performance.now() - started) / 1000;
        options.onProgress?.({
          phase: 'training',
          epoch,
          epochs: config.epochs,
          step,
          totalSteps,
          loss: batchLoss,
          lr,
          etaSeconds: (elapsed / step) * (totalSteps - step),
        });
      }
      const record: EpochRecord = { epoch, trainLoss: lossSum / train.length, seconds: (performance.now() - epochStart) / 1000 };
      let value = -record.trainLoss; // without validation cases, keep the lowest training loss
      let metrics: MetricsSummary | undefined;
      if (val.length > 0) {
        const pred = await predictSamples(model, val.map((s) => s.input), {
          task,
          size,
          normalization,
          signal,
          batchSize: evalBatchSize,
          labels: val.map((s) => s.label),
          prefixCache: prefix,
          replicas,
        });
        metrics = evaluateSamples(task, pred.probabilities, val, numClasses);
        record.valLoss = pred.loss;
        record.selection = { name: metrics.selection.name, value: metrics.selection.value };
        value = Number.isNaN(metrics.selection.value) ? -(pred.loss ?? record.trainLoss) : metrics.selection.value;
        options.onProgress?.({ phase: 'validating', epoch, epochs: config.epochs, step, totalSteps, loss: pred.loss, metrics });
      }
      history.push(record);
      if (!best || value > best.value) {
        best = { epoch, value, metrics, tensors: copyTensors(await model.exportTensors()) };
        sinceBest = 0;
      } else if (config.patience > 0 && ++sinceBest >= config.patience) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    prefix?.clear();
    accumulator.reset();
    optimizer.dispose();
    weights?.dispose();
  }
  // Restore the best epoch's values into the model.
  tf.tidy(() => {
    for (const [name, t] of best!.tensors) model.variables.get(name)!.assign(tf.tensor(t.data, t.shape));
  });
  return {
    bestEpoch: best!.epoch,
    bestMetrics: best!.metrics,
    bestTensors: best!.tensors,
    history,
    stoppedEarly,
    steps: step,
    seconds: (performance.now() - started) / 1000,
    prefixCache: prefixReport,
  };
}
