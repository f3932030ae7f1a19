/**
 * The training loop, independent of the database: cached 8-bit inputs and labels in, the best adapter
 * tensors (by the validation selection metric) and the per-epoch history out. Epochs, the learning
 * rate schedule, validation, early stopping and the best epoch's tensors live here; one step's
 * gradient and update is step.ts, batches are batches.ts, prediction is evaluation.ts. Used by
 * training runs in a workspace and by the MedMNIST evaluation alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Normalization } from '../imaging/model-input';
import type { AdaptedViT } from '../model/model';
import type { NamedTensorData } from '../model/safetensors';
import { seededRandom } from '../util/prng';
import type { AugmentationConfig } from './augment';
import { throwIfAborted } from './cancellation';
import { EarlyStopping } from './early-stopping';
import { evaluateSamples, predictSamples } from './evaluation';
import { fitLinearProbe, probeWeighting, type ProbeScore } from './linear-probe';
import type { MetricsSummary } from './metrics';
import { decidePrefixCache, PrefixCache, type PrefixCacheMode } from './prefix-cache';
import type { PrefixStore } from './prefix-store';
import type { ReplicaPool } from './replica-pool';
import { effectiveNumberWeights, inverseFrequencyWeights, classCounts, makeWarmupCosineSchedule } from './schedule';
import { TrainingStep } from './step';
import { TRAINING_DEFAULTS, type ClassWeighting } from '../vocabulary';
import type { Sample, TrainTaskKind } from './types';

export type { Sample, TrainTaskKind } from './types';

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
  /**
   * Epochs that always run before patience counts (default: the warm-up epochs plus a quarter of
   * `epochs`), so a prompt method whose first epochs score high by chance cannot stop there.
   */
  minEpochs?: number;
  /**
   * Method 'linear' on a frozen backbone: 'probe' (default) fits the head directly on the frozen
   * features by L-BFGS logistic regression, C chosen on validation (linear-probe.ts); 'gradient'
   * trains it with the optimiser like every other method.
   */
  linearSolver?: 'probe' | 'gradient';
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
  prefixCache: { used: boolean; reason: string; startLayer: number; seconds: number; megabytes: number; fromDisk?: number };
  /** Set when the head was fitted by the linear probe: the C chosen and every C's validation score. */
  probe?: { C: number; metric: string; scores: ProbeScore[]; classWeighting: 'none' | 'balanced' };
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
  /** Frozen-prefix tokens on disk across runs (prefix-store.ts): read where present, written where not. */
  prefixStore?: PrefixStore | null;
}


/** Detached copies: a backend may hand out its own buffers, which later steps would overwrite. */
function copyTensors(tensors: Map<string, NamedTensorData>): Map<string, NamedTensorData> {
  const out = new Map<string, NamedTensorData>();
  for (const [name, t] of tensors) out.set(name, { ...t, shape: [...t.shape], data: Float32Array.from(t.data) });
  return out;
}

/** Per-class loss weights from the training labels (none for multi-label or when turned off). */
function classWeights(config: TrainConfig, train: Sample[], task: TrainTaskKind, numClasses: number): Float32Array | undefined {
  if (task === 'multilabel' || config.classWeighting === 'none') return undefined;
  const counts = classCounts(train.map((s) => s.label as number), numClasses);
  return Float32Array.from(config.classWeighting === 'inverse' ? inverseFrequencyWeights(counts) : effectiveNumberWeights(counts));
}

/** Seeded Fisher–Yates order of the training samples for one epoch. */
function shuffledOrder(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Trains the model's adapter and head in place, keeps the best epoch's tensors and restores them into
 * the model at the end. Throws TrainingCancelled when the signal aborts (the model then holds
 * whatever the last step left; callers discard it).
 */
export async function trainAdapter(model: AdaptedViT, train: Sample[], val: Sample[], config: TrainConfig, options: RunOptions): Promise<TrainResult> {
  if (train.length === 0) throw new Error('no training cases: label some cases in the training split first');
  if (usesLinearProbe(model, config, options)) return fitProbeHead(model, train, val, config, options);
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
  // One seeded source for the shuffles and the augmentation, so a run repeats exactly.
  const random = seededRandom(`train:${config.seed}`);
  let step = 0;
  const trainingStep = new TrainingStep(model, {
    task,
    numClasses,
    size,
    normalization,
    microBatchSize: micro,
    optimizer: { kind: config.optimizer, weightDecay: config.weightDecay },
    classWeights: classWeights(config, train, task, numClasses),
    augmentation: config.augmentation,
    random,
    extraVariables: options.extraVariables,
    // Dropped (to one thread) if a replica fails mid-run; the caller still owns and closes the pool.
    replicas: options.replicas,
    signal,
    onReplicasLost: (message) => options.onProgress?.({ phase: 'training', epoch: 0, epochs: config.epochs, step, totalSteps, message }),
  });
  const history: EpochRecord[] = [];
  const minEpochs = minimumEpochs(config);
  let best: { epoch: number; value: number; metrics?: MetricsSummary; tensors: Map<string, NamedTensorData> } | null = null;
  const stopping = new EarlyStopping(config.patience, minEpochs);
  let stoppedEarly = false;
  const evalBatchSize = config.evalBatchSize ?? Math.max(micro, 8);
  const prefixReport: TrainResult['prefixCache'] = { used: false, reason: '', startLayer: model.startLayer, seconds: 0, megabytes: 0 };
  let prefix: PrefixCache | null = null;

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
        replicas: trainingStep.replicas,
        store: options.prefixStore,
        checkCancelled: () => throwIfAborted(signal),
        onProgress: (done, total) => progress(`caching frozen blocks 0..${model.startLayer - 1}: ${done}/${total} images`, done, total),
      });
      trainingStep.prefixCache = prefix;
      Object.assign(prefixReport, { used: true, seconds: prefix.seconds, megabytes: prefix.bytes / 2 ** 20, ...(options.prefixStore ? { fromDisk: prefix.fromDisk } : {}) });
      const disk = options.prefixStore ? `, ${prefix.fromDisk} of ${prefix.size} images read from the workspace's float16 store` : '';
      progress(`prefix cache built in ${prefix.seconds.toFixed(1)} s (${prefixReport.megabytes.toFixed(0)} MB${disk}); epochs compute blocks ${model.startLayer}..${model.backbone.config.depth - 1}`);
    }
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const epochStart = performance.now();
      const order = shuffledOrder(train.length, random);
      let lossSum = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        const batch = order.slice(b * config.batchSize, (b + 1) * config.batchSize).map((i) => train[i]);
        const lr = schedule(step);
        const batchLoss = await trainingStep.run(batch, lr);
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
      let valLoss: number | undefined;
      if (val.length > 0) {
        const pred = await predictSamples(model, val.map((s) => s.input), {
          task,
          size,
          normalization,
          signal,
          batchSize: evalBatchSize,
          labels: val.map((s) => s.label),
          prefixCache: prefix,
          replicas: trainingStep.replicas,
        });
        metrics = evaluateSamples(task, pred.probabilities, val, numClasses);
        valLoss = pred.loss;
        record.valLoss = pred.loss;
        record.selection = { name: metrics.selection.name, value: metrics.selection.value };
        value = Number.isNaN(metrics.selection.value) ? -(pred.loss ?? record.trainLoss) : metrics.selection.value;
      }
      history.push(record);
      const verdict = stopping.update(value, valLoss);
      if (!best || verdict.best) best = { epoch, value, metrics, tensors: copyTensors(await model.exportTensors()) };
      stoppedEarly = verdict.stop;
      // The epoch's last event says so when the run stops here early, for the run log.
      const epochs = `${config.patience} epoch${config.patience === 1 ? '' : 's'}`;
      const what = val.length > 0 ? `no improvement of the validation ${record.selection?.name ?? 'metric'} or loss for ${epochs}` : `no improvement for ${epochs}`;
      const message = stoppedEarly ? `stopped early at epoch ${epoch} (${what}); keeping epoch ${best.epoch}` : undefined;
      if (val.length > 0) {
        options.onProgress?.({ phase: 'validating', epoch, epochs: config.epochs, step, totalSteps, loss: valLoss, metrics, message });
      } else if (message) {
        options.onProgress?.({ phase: 'training', epoch, epochs: config.epochs, step, totalSteps, message });
      }
      if (stoppedEarly) break;
    }
  } finally {
    prefix?.clear();
    trainingStep.dispose();
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

/** Epochs before early stopping may end a run: warm-up plus a quarter of the run, unless given. */
export function minimumEpochs(config: Pick<TrainConfig, 'epochs' | 'warmupFraction' | 'minEpochs'>): number {
  if (config.minEpochs !== undefined) return Math.min(config.epochs, Math.max(0, config.minEpochs));
  return Math.min(config.epochs, Math.ceil(config.warmupFraction * config.epochs) + Math.ceil(config.epochs / 4));
}

function usesLinearProbe(model: AdaptedViT, config: TrainConfig, options: RunOptions): boolean {
  return model.adapter.method === 'linear' && (config.linearSolver ?? 'probe') === 'probe' && options.task !== 'multilabel' && !options.extraVariables?.size;
}

/**
 * Method 'linear' by the closed-form route: frozen features of every image once (no augmentation:
 * the probe sees each image as it is), then L-BFGS logistic regression per C on the training
 * features, the C with the best validation selection metric kept. The result reads like one epoch.
 */
async function fitProbeHead(model: AdaptedViT, train: Sample[], val: Sample[], config: TrainConfig, options: RunOptions): Promise<TrainResult> {
  const started = performance.now();
  const { task, numClasses, size, normalization, signal } = options;
  const batchSize = config.evalBatchSize ?? Math.max(config.microBatchSize ?? config.batchSize, 8);
  const progress = (message: string) => options.onProgress?.({ phase: 'training', epoch: 1, epochs: 1, step: 0, totalSteps: 1, message });
  progress(`linear probe: frozen features of ${train.length + val.length} images`);
  const features = async (samples: Sample[]) =>
    samples.length === 0
      ? new Float32Array(0)
      : (await predictSamples(model, samples.map((s) => s.input), { task, size, normalization, signal, batchSize, replicas: options.replicas })).features;
  const trainFeatures = await features(train);
  const valFeatures = await features(val);
  throwIfAborted(signal);
  const classWeighting = probeWeighting(config.classWeighting);
  const probe = fitLinearProbe(
    { features: trainFeatures, labels: train.map((s) => s.label as number) },
    { features: valFeatures, labels: val.map((s) => s.label as number) },
    { task: task as 'multiclass' | 'ordinal', numClasses, classWeighting },
  );
  tf.tidy(() => {
    for (const [name, t] of Object.entries(probe.tensors)) model.variables.get(name)!.assign(tf.tensor(t.data, t.shape));
  });
  const tensors = copyTensors(await model.exportTensors());
  const record: EpochRecord = { epoch: 1, trainLoss: NaN, seconds: 0 };
  let metrics: MetricsSummary | undefined;
  if (val.length > 0) {
    const pred = await predictSamples(model, val.map((s) => s.input), { task, size, normalization, signal, batchSize, labels: val.map((s) => s.label), replicas: options.replicas });
    metrics = evaluateSamples(task, pred.probabilities, val, numClasses);
    record.valLoss = pred.loss;
    record.selection = { name: metrics.selection.name, value: metrics.selection.value };
  }
  const seconds = (performance.now() - started) / 1000;
  record.seconds = seconds;
  const tried = probe.scores.map((s) => `C=${s.C}: ${Number.isFinite(s.value) ? s.value.toFixed(3) : 'n/a'}`).join(', ');
  const message = `linear probe (L-BFGS logistic regression, class weighting ${classWeighting}): chose C = ${probe.C} by validation ${probe.metric} (${tried})`;
  if (val.length > 0) options.onProgress?.({ phase: 'validating', epoch: 1, epochs: 1, step: 1, totalSteps: 1, loss: record.valLoss, metrics, message });
  else progress(message);
  return {
    bestEpoch: 1,
    bestMetrics: metrics,
    bestTensors: tensors,
    history: [record],
    stoppedEarly: false,
    steps: 0,
    seconds,
    prefixCache: { used: false, reason: 'linear probe: features computed once', startLayer: model.startLayer, seconds: 0, megabytes: 0 },
    probe: { C: probe.C, metric: probe.metric, scores: probe.scores, classWeighting },
  };
}
