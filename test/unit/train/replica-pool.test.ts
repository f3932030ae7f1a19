import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../core/util/prng';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile } from '../../../core/model/checkpoint';
import { AdaptedViT } from '../../../core/model/model';
import { relativeError } from '../../../core/model/ops';
import { ViTBackbone } from '../../../core/model/vit';
import { ReplicaPool, replicasThatFit } from '../../../core/train/replica-pool';
import { batchTensor } from '../../../core/train/batches';
import { TrainingCancelled } from '../../../core/train/cancellation';
import { predictSamples } from '../../../core/train/evaluation';
import { taskLoss } from '../../../core/model/heads';
import { DEFAULT_TRAIN_CONFIG, trainAdapter } from '../../../core/train/trainer';
import type { Sample } from '../../../core/train/types';
import { PARITY_DIR } from '../../helpers/paths';

let backbone: ViTBackbone;
let S = 0;

function samples(n: number, seed: string): Sample[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = i % 3;
    const input = new Uint8Array(S * S * 3);
    for (let p = 0; p < input.length; p++) input[p] = Math.round(random() * 120 + (p % 3 === label ? 110 : 0));
    return { input, label };
  });
}

function model(method: 'ept' | 'dvpt' | 'linear', seed = 3): AdaptedViT {
  const extra = method === 'ept' ? { promptLength: 4 } : method === 'dvpt' ? { bottleneck: 8, numPrompts: 4, share: 2 } : {};
  return AdaptedViT.initialise(backbone, parseAdapterConfig({ method, numClasses: 3, task: 'multiclass', ...extra }, 'test'), seed);
}

const options = () => ({ task: 'multiclass' as const, numClasses: 3, size: S, normalization: HALF_NORMALIZATION });

beforeAll(async () => {
  const choice = await initBackend();
  void choice;
  const loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
  backbone = new ViTBackbone(loaded.config, loaded.weights);
  S = loaded.config.imageSize;
});

afterAll(() => backbone.dispose());

describe('data-parallel replicas', () => {
  it.each(['ept', 'dvpt'] as const)('%s: the summed replica gradients equal the whole batch gradient computed in one place', async (method) => {
    const m = model(method);
    const batch = samples(5, `grads-${method}`);
    const pool = await ReplicaPool.start(m, { replicas: 2, ...options() });
    try {
      const input = { kind: 'images' as const, data: batchTensor(batch, S, HALF_NORMALIZATION, null).dataSync() as Float32Array, count: 5, size: S };
      const fromReplicas = await pool.gradients(input, Float32Array.from(batch.map((s) => s.label as number)), { microBatch: 2 });
      const images = batchTensor(batch, S, HALF_NORMALIZATION, null);
      const labels = tf.tensor1d(batch.map((s) => s.label as number), 'int32');
      const { value, grads } = tf.variableGrads(() => taskLoss('multiclass', m.forward(images, { layout: 'NCHW' }).logits, labels), m.trainableVariables());
      expect(fromReplicas.loss).toBeCloseTo(value.dataSync()[0], 4);
      expect([...fromReplicas.grads.keys()].sort()).toEqual([...m.variables.keys()].sort());
      for (const [name, v] of m.variables) {
        expect(relativeError(fromReplicas.grads.get(name)!.data, grads[v.name].dataSync()), name).toBeLessThan(1e-4);
      }
      tf.dispose([images, labels, value, ...Object.values(grads)]);
    } finally {
      await pool.close();
      m.dispose();
    }
  });

  it('trains to the same adapter and predicts the same probabilities as a single process', async () => {
    const train = samples(12, 'train');
    const val = samples(6, 'val');
    const config = { ...DEFAULT_TRAIN_CONFIG, epochs: 2, batchSize: 6, microBatchSize: 2, lr: 1e-2, patience: 0 };
    const single = model('dvpt');
    const parallel = model('dvpt');
    const pool = await ReplicaPool.start(parallel, { replicas: 2, ...options() });
    try {
      const a = await trainAdapter(single, train, val, config, options());
      const b = await trainAdapter(parallel, train, val, config, { ...options(), replicas: pool });
      expect(b.history.map((h) => h.trainLoss)[1]).toBeCloseTo(a.history[1].trainLoss, 4);
      for (const [name, t] of a.bestTensors) expect(relativeError(b.bestTensors.get(name)!.data, t.data), name).toBeLessThan(1e-3);
      const inputs = val.map((s) => s.input);
      const p1 = await predictSamples(single, inputs, { ...options(), batchSize: 2 });
      const p2 = await predictSamples(parallel, inputs, { ...options(), batchSize: 2, replicas: pool });
      expect(relativeError(p2.probabilities, p1.probabilities)).toBeLessThan(1e-4);
      expect(relativeError(p2.features, p1.features)).toBeLessThan(1e-4);
    } finally {
      await pool.close();
      single.dispose();
      parallel.dispose();
    }
  });

  it('computes the frozen prefix of images for the prefix cache, as the model does', async () => {
    const adapter = parseAdapterConfig({ method: 'dvpt', numClasses: 3, bottleneck: 8, numPrompts: 4, share: 1, startLayer: 1 }, 'test');
    const m = AdaptedViT.initialise(backbone, adapter, 4);
    const batch = samples(3, 'prefix');
    const pool = await ReplicaPool.start(m, { replicas: 2, ...options() });
    try {
      const images = batchTensor(batch, S, HALF_NORMALIZATION, null);
      const tokens = await pool.prefixTokens({ kind: 'images', data: images.dataSync() as Float32Array, count: 3, size: S }, 2);
      const expected = tf.tidy(() => m.prefixTokens(images, 'NCHW'));
      expect(tokens.length).toBe(expected.size);
      expect(relativeError(tokens, expected.dataSync())).toBeLessThan(1e-5);
      tf.dispose([images, expected]);
    } finally {
      await pool.close();
      m.dispose();
    }
  });

  it('builds the prefix cache on the replicas and trains from it like a single process', async () => {
    const adapter = parseAdapterConfig({ method: 'dvpt', numClasses: 3, bottleneck: 8, numPrompts: 4, share: 1, startLayer: 1 }, 'test');
    const train = samples(8, 'train-prefix');
    const val = samples(4, 'val-prefix');
    const config = { ...DEFAULT_TRAIN_CONFIG, epochs: 2, batchSize: 4, microBatchSize: 2, lr: 1e-2, patience: 0 };
    const single = AdaptedViT.initialise(backbone, adapter, 5);
    const parallel = AdaptedViT.initialise(backbone, adapter, 5);
    const pool = await ReplicaPool.start(parallel, { replicas: 2, ...options() });
    try {
      const a = await trainAdapter(single, train, val, config, options());
      const b = await trainAdapter(parallel, train, val, config, { ...options(), replicas: pool });
      expect(a.prefixCache.used && b.prefixCache.used).toBe(true);
      expect(b.history[1].trainLoss).toBeCloseTo(a.history[1].trainLoss, 4);
      for (const [name, t] of a.bestTensors) expect(relativeError(b.bestTensors.get(name)!.data, t.data), name).toBeLessThan(1e-3);
    } finally {
      await pool.close();
      single.dispose();
      parallel.dispose();
    }
  });

  it('starts no more replicas than half the memory holds, and at most 8', () => {
    const m = model('linear');
    expect(replicasThatFit(m, 64 * 2 ** 30)).toBe(8);
    expect(replicasThatFit(m, 5 * 2 ** 30)).toBe(2); // 2.5 GiB over ≈ 1 GiB per replica of this tiny backbone
    expect(replicasThatFit(m, 2 ** 30)).toBe(1);
    m.dispose();
  });

  it('cancels while the replicas are busy with a step, without waiting for it', async () => {
    const m = model('ept');
    const pool = await ReplicaPool.start(m, { replicas: 2, ...options() });
    const controller = new AbortController();
    let gradientsStarted = false;
    let stepSettled = false;
    const gradients = pool.gradients.bind(pool);
    pool.gradients = (...args) => {
      gradientsStarted = true;
      // The abort arrives while this step is still running on the replicas (16 images, one at a time).
      setImmediate(() => controller.abort());
      const step = gradients(...args);
      step.then(
        () => (stepSettled = true),
        () => (stepSettled = true),
      );
      return step;
    };
    try {
      const run = trainAdapter(m, samples(32, 'cancel'), [], { ...DEFAULT_TRAIN_CONFIG, epochs: 50, batchSize: 16, microBatchSize: 1, patience: 0 }, {
        ...options(),
        replicas: pool,
        signal: controller.signal,
      });
      await expect(run).rejects.toBeInstanceOf(TrainingCancelled);
      expect(gradientsStarted).toBe(true);
      // Given up at once, not after the step finished.
      expect(stepSettled).toBe(false);
    } finally {
      await pool.close();
      m.dispose();
    }
  });

  it('goes on in one thread when a replica dies mid-run, with the same result', async () => {
    const train = samples(12, 'train-crash');
    const config = { ...DEFAULT_TRAIN_CONFIG, epochs: 2, batchSize: 6, microBatchSize: 2, lr: 1e-2, patience: 0 };
    const single = model('dvpt');
    const parallel = model('dvpt');
    const pool = await ReplicaPool.start(parallel, { replicas: 2, ...options() });
    let calls = 0;
    const gradients = pool.gradients.bind(pool);
    pool.gradients = (...args) => (++calls === 1 ? gradients(...args) : Promise.reject(new Error('a training replica crashed: out of memory')));
    const messages: string[] = [];
    try {
      const a = await trainAdapter(single, train, [], config, options());
      const b = await trainAdapter(parallel, train, [], config, { ...options(), replicas: pool, onProgress: (p) => p.message && messages.push(p.message) });
      expect(calls).toBe(2);
      expect(messages).toContain('a training replica crashed: out of memory; continuing in one thread');
      for (const [name, t] of a.bestTensors) expect(relativeError(b.bestTensors.get(name)!.data, t.data), name).toBeLessThan(1e-3);
    } finally {
      await pool.close();
      single.dispose();
      parallel.dispose();
    }
  });

  it('refuses work once closed', async () => {
    const m = model('linear');
    const pool = await ReplicaPool.start(m, { replicas: 1, ...options() });
    await pool.close();
    await expect(pool.predict({ kind: 'images', data: new Float32Array(3 * S * S), count: 1, size: S }, 1)).rejects.toThrow(/closed/);
    m.dispose();
  });
});
