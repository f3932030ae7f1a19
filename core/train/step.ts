/**
 * The training step: the loss and gradient of one effective batch — split over the data-parallel
 * replicas when there are any, else micro-batches in this thread, each weighted by its share of the
 * batch (of its class-weight sum when the loss is class-weighted, see loss-share.ts) — and the optimiser update with it. The training loop, the speed bench and the tests all
 * train through this one class, so what they measure and check is what a run does.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Normalization } from '../imaging/model-input';
import { taskLoss } from '../model/heads';
import type { AdaptedViT } from '../model/model';
import type { AugmentationConfig } from './augment';
import { batchData, batchTensor, forwardMicroBatch, labelData, labelTensor, replicaInput } from './batches';
import { throwIfAborted, tick, TrainingCancelled, unlessAborted } from './cancellation';
import { classWeightSum, lossShare } from './loss-share';
import { AdapterOptimizer, GradientAccumulator, type OptimizerConfig } from './optimizer';
import type { PrefixCache } from './prefix-cache';
import type { ReplicaPool } from './replica-pool';
import type { Sample, TrainTaskKind } from './types';

export interface TrainingStepOptions {
  task: TrainTaskKind;
  numClasses: number;
  size: number;
  normalization: Normalization;
  /** Images per forward/backward pass (memory bound); the effective batch is whatever a step is given. */
  microBatchSize: number;
  optimizer: OptimizerConfig;
  /** Per-class loss weights (multi-class and ordinal tasks). */
  classWeights?: Float32Array;
  augmentation: AugmentationConfig | null;
  /** The augmentation's random source (the loop shares its seeded one, so runs repeat exactly). */
  random?: () => number;
  /** Variables trained along with the adapter (e.g. a stand-in backbone's own weights); not with replicas. */
  extraVariables?: Map<string, tf.Variable>;
  /** Data-parallel replicas of the model; the caller owns and closes the pool. */
  replicas?: ReplicaPool | null;
  signal?: AbortSignal;
  /** Told why the replicas were given up (a replica died); the step goes on in this thread. */
  onReplicasLost?: (message: string) => void;
}

export interface StepGradients {
  /** The batch's mean loss (the training loss of the whole batch). */
  loss: number;
  /** Gradient of the batch's loss per variable name; the caller disposes them. */
  grads: Map<string, tf.Tensor>;
}

export class TrainingStep {
  /** Frozen-prefix tokens to start from, when built for this model (else every step runs the full backbone). */
  prefixCache: PrefixCache | null = null;
  private replicaPool: ReplicaPool | null;
  private readonly variables: Map<string, tf.Variable>;
  private readonly optimizer: AdapterOptimizer;
  private readonly accumulator = new GradientAccumulator();
  private readonly weights?: tf.Tensor1D;

  constructor(
    readonly model: AdaptedViT,
    private readonly options: TrainingStepOptions,
  ) {
    if (options.replicas && options.extraVariables?.size) throw new Error('data-parallel replicas train adapters on a frozen backbone only (extraVariables given)');
    this.replicaPool = options.replicas ?? null;
    this.variables = new Map([...model.variables, ...(options.extraVariables ?? [])]);
    this.optimizer = new AdapterOptimizer(this.variables, options.optimizer);
    this.weights = options.classWeights ? tf.tensor1d(options.classWeights) : undefined;
  }

  /** The replicas still in use: null once one failed (the caller still owns and closes the pool). */
  get replicas(): ReplicaPool | null {
    return this.replicaPool;
  }

  /** Optimiser updates applied so far. */
  get steps(): number {
    return this.optimizer.steps;
  }

  /** Loss and gradient of one effective batch at the model's current values (nothing is updated). */
  async gradients(batch: Sample[]): Promise<StepGradients> {
    if (batch.length === 0) throw new Error('a training step needs at least one sample');
    if (this.replicaPool) {
      const fromReplicas = await this.replicaGradients(batch, this.replicaPool);
      if (fromReplicas) return fromReplicas;
    }
    return this.inThreadGradients(batch);
  }

  /** One update: the batch's gradient applied at learning rate `lr`. Returns the batch's loss. */
  async run(batch: Sample[], lr: number): Promise<number> {
    const { loss, grads } = await this.gradients(batch);
    try {
      this.optimizer.apply(grads, lr);
    } finally {
      tf.dispose([...grads.values()]);
    }
    return loss;
  }

  /** Frees the optimiser's state and the class weights (the model and the replicas stay). */
  dispose(): void {
    this.accumulator.reset();
    this.optimizer.dispose();
    this.weights?.dispose();
  }

  /** The batch's gradient summed over the replicas; null when a replica failed and the pool was given up. */
  private async replicaGradients(batch: Sample[], pool: ReplicaPool): Promise<StepGradients | null> {
    const { task, numClasses, size, normalization, augmentation, random, signal } = this.options;
    throwIfAborted(signal);
    const input = replicaInput(this.model, batch, this.prefixCache, () => batchData(batch, size, normalization, augmentation, random), size);
    try {
      const out = await unlessAborted(
        pool.gradients(input, labelData(batch, task, numClasses), { microBatch: this.microBatch(batch), classWeights: this.options.classWeights }),
        signal,
      );
      return { loss: out.loss, grads: new Map([...out.grads].map(([name, g]) => [name, tf.tensor(g.data, g.shape)])) };
    } catch (err) {
      if (err instanceof TrainingCancelled) throw err;
      // A replica died (e.g. out of memory): this thread holds the same model, so the run goes on here.
      this.replicaPool = null;
      this.options.onReplicasLost?.(`${(err as Error).message}; continuing in one thread`);
      return null;
    }
  }

  /** Micro-batches in this thread, each gradient weighted by its share of the batch and summed. */
  private async inThreadGradients(batch: Sample[]): Promise<StepGradients> {
    const { task, numClasses, size, normalization, augmentation, random, signal } = this.options;
    const micro = this.microBatch(batch);
    const ids = (samples: Sample[]) => samples.map((s) => s.label as number);
    const weighting = this.weighting(ids(batch));
    let loss = 0;
    for (let m = 0; m < batch.length; m += micro) {
      throwIfAborted(signal);
      const part = batch.slice(m, m + micro);
      const labels = labelTensor(part, task, numClasses);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() =>
            taskLoss(task, forwardMicroBatch(this.model, part, this.prefixCache, () => batchTensor(part, size, normalization, augmentation, random)).logits, labels, this.weights),
          ),
        [...this.variables.values()],
      );
      const named = new Map<string, tf.Tensor>();
      for (const [name, v] of this.variables) if (grads[v.name]) named.set(name, grads[v.name]);
      const share = task === 'multilabel' ? part.length / batch.length : lossShare(ids(part), batch.length, weighting);
      this.accumulator.add(named, share);
      loss += (await value.data())[0] * share;
      tf.dispose([labels, value]);
      await tick();
    }
    return { loss, grads: this.accumulator.take() };
  }

  /** The class weighting of a single-label batch (its weight sum), or undefined when the loss is unweighted. */
  private weighting(ids: number[]): { classWeights: Float32Array; batchWeight: number } | undefined {
    const classWeights = this.options.classWeights;
    if (!classWeights || this.options.task === 'multilabel') return undefined;
    return { classWeights, batchWeight: classWeightSum(ids, classWeights) };
  }

  private microBatch(batch: Sample[]): number {
    return Math.max(1, Math.min(this.options.microBatchSize, batch.length));
  }
}
