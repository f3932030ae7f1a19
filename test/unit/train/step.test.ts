import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile } from '../../../core/model/checkpoint';
import { AdaptedViT } from '../../../core/model/model';
import { relativeError } from '../../../core/model/ops';
import { ViTBackbone } from '../../../core/model/vit';
import { batchTensor, labelTensor } from '../../../core/train/batches';
import { TrainingCancelled } from '../../../core/train/cancellation';
import { PrefixCache } from '../../../core/train/prefix-cache';
import { ReplicaPool } from '../../../core/train/replica-pool';
import { taskLoss } from '../../../core/model/heads';
import { TrainingStep, type TrainingStepOptions } from '../../../core/train/step';
import type { Sample } from '../../../core/train/types';
import { PARITY_DIR } from '../../helpers/paths';
import { colourSamples } from '../../helpers/samples';

// The fixture ViT (depth 3, 32²) on colour-coded samples, as in trainer.test.ts and replica-pool.test.ts.
let backbone: ViTBackbone;
let S = 0;
/** Tensors not counting the backbone's kept transposed weights (made by its first backward passes). */
const liveTensors = () => tf.memory().numTensors - backbone.gradientCacheTensors();

function model(method: 'ept' | 'dvpt', seed = 3, startLayer?: number): AdaptedViT {
  const extra = method === 'ept' ? { promptLength: 4 } : { bottleneck: 8, numPrompts: 4, share: 1, ...(startLayer ? { startLayer } : {}) };
  return AdaptedViT.initialise(backbone, parseAdapterConfig({ method, numClasses: 3, task: 'multiclass', ...extra }, 'test'), seed);
}

const stepOptions = (over: Partial<TrainingStepOptions> = {}): TrainingStepOptions => ({
  task: 'multiclass',
  numClasses: 3,
  size: S,
  normalization: HALF_NORMALIZATION,
  microBatchSize: 2,
  optimizer: { kind: 'adamw', weightDecay: 1e-4 },
  augmentation: null,
  ...over,
});

/** The whole batch's loss and gradient in one forward/backward pass, keyed by variable name. */
function fullBatchGradient(m: AdaptedViT, batch: Sample[], classWeights?: Float32Array): { loss: number; grads: Map<string, Float32Array> } {
  const images = batchTensor(batch, S, HALF_NORMALIZATION, null);
  const labels = labelTensor(batch, 'multiclass', 3);
  const weights = classWeights ? tf.tensor1d(classWeights) : undefined;
  const { value, grads } = tf.variableGrads(() => taskLoss('multiclass', m.forward(images, { layout: 'NCHW' }).logits, labels, weights), m.trainableVariables());
  weights?.dispose();
  const named = new Map<string, Float32Array>();
  for (const [name, v] of m.variables) named.set(name, grads[v.name].dataSync() as Float32Array);
  const loss = value.dataSync()[0];
  tf.dispose([images, labels, value, ...Object.values(grads)]);
  return { loss, grads: named };
}

async function stepGradient(step: TrainingStep, batch: Sample[]): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const { loss, grads } = await step.gradients(batch);
  const out = new Map([...grads].map(([name, g]) => [name, g.dataSync() as Float32Array]));
  tf.dispose([...grads.values()]);
  return { loss, grads: out };
}

beforeAll(async () => {
  await initBackend();
  const loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
  backbone = new ViTBackbone(loaded.config, loaded.weights);
  S = loaded.config.imageSize;
});

afterAll(() => backbone.dispose());

describe('TrainingStep', () => {
  it.each(['ept', 'dvpt'] as const)('%s: micro-batches of 2 give the gradient and loss of the whole batch of 5 at once', async (method) => {
    const m = model(method);
    const batch = colourSamples(5, `micro-${method}`, S);
    const step = new TrainingStep(m, stepOptions({ microBatchSize: 2 }));
    try {
      const expected = fullBatchGradient(m, batch);
      const got = await stepGradient(step, batch);
      expect(got.loss).toBeCloseTo(expected.loss, 5);
      expect([...got.grads.keys()].sort()).toEqual([...m.variables.keys()].sort());
      for (const [name, g] of expected.grads) expect(relativeError(got.grads.get(name)!, g), name).toBeLessThan(1e-4);
      // A gradient that did not move anything would pass the comparison trivially.
      expect(Math.max(...[...expected.grads.values()].map((g) => Math.max(...g.map(Math.abs))))).toBeGreaterThan(1e-6);
    } finally {
      step.dispose();
      m.dispose();
    }
  });

  it('class-weighted: a batch cut into micro-batches or replica shares gives the loss and gradient of the whole batch', async () => {
    const m = model('dvpt', 6);
    // Uneven classes and weights, so that each part's own weight sum differs from its share of the batch's size.
    const batch = colourSamples(7, 'weighted', S);
    const classWeights = Float32Array.from([0.5, 3, 1.25]);
    expect(new Set(batch.map((b) => b.label)).size).toBeGreaterThan(1);
    const pool = await ReplicaPool.start(m, { replicas: 2, task: 'multiclass', numClasses: 3 });
    const steps = [1, 2, 3, 7].map((micro) => new TrainingStep(m, stepOptions({ microBatchSize: micro, classWeights })));
    const replicated = new TrainingStep(m, stepOptions({ microBatchSize: 2, classWeights, replicas: pool }));
    try {
      const expected = fullBatchGradient(m, batch, classWeights);
      for (const step of [...steps, replicated]) {
        const got = await stepGradient(step, batch);
        expect(got.loss).toBeCloseTo(expected.loss, 5);
        for (const [name, g] of expected.grads) expect(relativeError(got.grads.get(name)!, g), name).toBeLessThan(1e-4);
      }
      expect(replicated.replicas).toBe(pool);
      // Cut by size instead, the same parts give another loss: the check above can fail.
      const unweightedShares = [batch.slice(0, 2), batch.slice(2, 4), batch.slice(4, 6), batch.slice(6)].map((part) => fullBatchGradient(m, part, classWeights).loss * (part.length / batch.length));
      expect(Math.abs(unweightedShares.reduce((a, b) => a + b, 0) - expected.loss)).toBeGreaterThan(1e-3);
    } finally {
      for (const step of [...steps, replicated]) step.dispose();
      await pool.close();
      m.dispose();
    }
  });

  it('steps the same adapter with replicas as in this thread, step for step', async () => {
    const single = model('dvpt', 5);
    const parallel = model('dvpt', 5);
    const batches = [colourSamples(6, 'replicas-a', S), colourSamples(5, 'replicas-b', S)];
    const pool = await ReplicaPool.start(parallel, { replicas: 2, task: 'multiclass', numClasses: 3 });
    const a = new TrainingStep(single, stepOptions());
    const b = new TrainingStep(parallel, stepOptions({ replicas: pool }));
    try {
      const before = await single.exportTensors();
      for (const batch of batches) {
        const lossA = await a.run(batch, 1e-2);
        const lossB = await b.run(batch, 1e-2);
        expect(lossB).toBeCloseTo(lossA, 5);
      }
      expect(b.replicas).toBe(pool);
      expect(a.steps).toBe(2);
      expect(b.steps).toBe(2);
      const afterA = await single.exportTensors();
      const afterB = await parallel.exportTensors();
      for (const [name, t] of afterA) expect(relativeError(afterB.get(name)!.data, t.data), name).toBeLessThan(1e-4);
      // The steps really updated the adapter.
      expect(relativeError(afterA.get('head.weight')!.data, before.get('head.weight')!.data)).toBeGreaterThan(1e-3);
    } finally {
      a.dispose();
      b.dispose();
      await pool.close();
      single.dispose();
      parallel.dispose();
    }
  });

  it('takes cached frozen-prefix tokens for the same gradient as the images', async () => {
    const m = model('dvpt', 4, 1);
    const batch = colourSamples(4, 'prefix', S);
    const step = new TrainingStep(m, stepOptions());
    try {
      const fromImages = await stepGradient(step, batch);
      step.prefixCache = await PrefixCache.build(m, batch.map((s) => s.input), { size: S, normalization: HALF_NORMALIZATION });
      const fromTokens = await stepGradient(step, batch);
      expect(fromTokens.loss).toBeCloseTo(fromImages.loss, 5);
      for (const [name, g] of fromImages.grads) expect(relativeError(fromTokens.grads.get(name)!, g), name).toBeLessThan(1e-4);
    } finally {
      step.prefixCache?.clear();
      step.dispose();
      m.dispose();
    }
  });

  it('gives up replicas that fail, says why and computes the step in this thread', async () => {
    const m = model('ept');
    const batch = colourSamples(4, 'lost', S);
    const pool = await ReplicaPool.start(m, { replicas: 1, task: 'multiclass', numClasses: 3 });
    pool.gradients = () => Promise.reject(new Error('a training replica crashed: out of memory'));
    const messages: string[] = [];
    const step = new TrainingStep(m, stepOptions({ replicas: pool, onReplicasLost: (message) => messages.push(message) }));
    try {
      const got = await stepGradient(step, batch);
      expect(messages).toEqual(['a training replica crashed: out of memory; continuing in one thread']);
      expect(step.replicas).toBeNull();
      expect(got.loss).toBeCloseTo(fullBatchGradient(m, batch).loss, 5);
    } finally {
      step.dispose();
      await pool.close();
      m.dispose();
    }
  });

  it('refuses replicas together with trained backbone variables', () => {
    const m = model('ept');
    const extra = new Map([['backbone.x', tf.variable(tf.zeros([1]))]]);
    const fakePool = { size: 2 } as unknown as ReplicaPool;
    expect(() => new TrainingStep(m, stepOptions({ replicas: fakePool, extraVariables: extra }))).toThrow(/frozen backbone only/);
    tf.dispose([...extra.values()]);
    m.dispose();
  });

  it('stops at an aborted signal and leaks no tensors over steps', async () => {
    const m = model('ept');
    const batch = colourSamples(4, 'abort', S);
    const controller = new AbortController();
    const baseline = liveTensors();
    const step = new TrainingStep(m, stepOptions({ signal: controller.signal }));
    await step.run(batch, 1e-3);
    const afterFirst = liveTensors(); // AdamW's moments exist from construction; nothing else may stay
    await step.run(batch, 1e-3);
    expect(liveTensors()).toBe(afterFirst);
    controller.abort();
    await expect(step.run(batch, 1e-3)).rejects.toBeInstanceOf(TrainingCancelled);
    step.dispose();
    expect(liveTensors()).toBe(baseline);
    m.dispose();
  });
});
