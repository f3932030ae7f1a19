import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile } from '../../../core/model/checkpoint';
import { AdaptedViT } from '../../../core/model/model';
import { ViTBackbone } from '../../../core/model/vit';
import { AUGMENTATION_PRESETS } from '../../../core/train/augment';
import { parseTrainJob, resolveAdapterChoice } from '../../../core/train/job';
import { decidePrefixCache, PrefixCache, prefixCacheBudgetBytes, prefixCacheBytes } from '../../../core/train/prefix-cache';
import { TrainingCancelled } from '../../../core/train/cancellation';
import { predictSamples } from '../../../core/train/evaluation';
import { DEFAULT_TRAIN_CONFIG, trainAdapter, type TrainConfig, type TrainProgress } from '../../../core/train/trainer';
import type { Sample } from '../../../core/train/types';
import { PARITY_DIR } from '../../helpers/paths';
import { colourSamples as colourSamplesOf } from '../../helpers/samples';

// The fixture ViT (depth 3, 32², 17 tokens × 48) on colour-coded samples, as in trainer.test.ts.
const S = 32;
let backbone: ViTBackbone;
/** Tensors not counting the backbone's kept transposed weights (made by its first backward passes). */
const liveTensors = () => tf.memory().numTensors - backbone.gradientCacheTensors();

const colourSamples = (n: number, seed: string): Sample[] => colourSamplesOf(n, seed, S);

const options = { task: 'multiclass' as const, numClasses: 3, size: S, normalization: HALF_NORMALIZATION };
const train = colourSamples(24, 'train');
const val = colourSamples(12, 'val');
const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, epochs: 3, batchSize: 8, microBatchSize: 4, lr: 1e-2, patience: 0 };

function model(extra: Record<string, unknown>, seed = 1): AdaptedViT {
  return AdaptedViT.initialise(backbone, parseAdapterConfig({ numClasses: 3, task: 'multiclass', ...extra }, 'test'), seed);
}

const LATE = {
  ept: { method: 'ept', promptLength: 4, layers: [1, 2] },
  dvpt: { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 1, startLayer: 1 },
  linear: { method: 'linear' },
} as const;

beforeAll(async () => {
  await initBackend({ force: 'wasm' });
  const loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
  backbone = new ViTBackbone(loaded.config, loaded.weights);
});

afterAll(() => backbone.dispose());

describe('training from the cached frozen prefix', () => {
  it.each(['ept', 'dvpt', 'linear'] as const)('%s: the same run as without the cache, step for step', async (method) => {
    const runs = [];
    for (const prefixCache of ['off', 'auto'] as const) {
      const m = model(LATE[method]);
      const progress: TrainProgress[] = [];
      const baseline = liveTensors();
      // Linear by gradient steps: the probe solver computes the features once and has no prefix to cache.
      const result = await trainAdapter(m, train, val, { ...config, prefixCache, linearSolver: 'gradient' }, { ...options, onProgress: (p) => progress.push(p) });
      expect(liveTensors()).toBe(baseline);
      runs.push({ result, progress, tensors: result.bestTensors });
      m.dispose();
    }
    const [off, on] = runs;
    expect(off.result.prefixCache).toMatchObject({ used: false, reason: 'prefix cache off: turned off for this run' });
    const k = method === 'linear' ? 3 : 1;
    expect(on.result.prefixCache).toMatchObject({ used: true, startLayer: k });
    // 36 images × rows × 48 floats: 17 token rows, or 1 pooled feature for the linear probe.
    expect(on.result.prefixCache.megabytes * 2 ** 20).toBe(36 * (k === 3 ? 1 : 17) * 48 * 4);
    const messages = on.progress.filter((p) => p.phase === 'caching').map((p) => p.message);
    expect(messages[0]).toMatch(/^prefix cache on: /);
    expect(messages).toContain(method === 'linear' ? 'caching frozen blocks 0..2: 36/36 images' : 'caching frozen blocks 0..0: 36/36 images');
    expect(messages.at(-1)).toMatch(/^prefix cache built in \d+\.\d s/);
    // Exact: the same losses, metrics and tensors as the full forward every step.
    expect(on.result.history.length).toBe(off.result.history.length);
    on.result.history.forEach((h, i) => {
      expect(h.trainLoss).toBeCloseTo(off.result.history[i].trainLoss, 4);
      expect(h.valLoss!).toBeCloseTo(off.result.history[i].valLoss!, 4);
    });
    expect(on.result.bestEpoch).toBe(off.result.bestEpoch);
    for (const [name, t] of off.tensors) {
      const mine = on.tensors.get(name)!;
      let diff = 0;
      let norm = 0;
      t.data.forEach((v, i) => {
        diff += (v - mine.data[i]) ** 2;
        norm += v * v;
      });
      expect(Math.sqrt(diff / norm), name).toBeLessThan(1e-4);
    }
  });

  it('is off with augmentation, with an adapter at block 0, with backbone variables, and over the budget', async () => {
    const late = model(LATE.dvpt);
    const early = model({ method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 1 });
    expect(decidePrefixCache(late, 10, { augmentation: AUGMENTATION_PRESETS.fundus })).toMatchObject({ use: false, reason: expect.stringMatching(/augmentation/) });
    expect(decidePrefixCache(early, 10, { augmentation: null })).toMatchObject({ use: false, reason: expect.stringMatching(/starts at block 0/) });
    expect(decidePrefixCache(late, 10, { augmentation: null, extraVariables: 5 })).toMatchObject({ use: false, reason: expect.stringMatching(/backbone weights/) });
    expect(decidePrefixCache(late, 10, { augmentation: null, budgetBytes: 10_000 })).toMatchObject({
      use: false,
      reason: expect.stringMatching(/over the 0 MB budget \(MEDTUNE_PREFIX_CACHE_MB\)/),
    });
    expect(decidePrefixCache(late, 10, { augmentation: null })).toMatchObject({ use: true, bytes: 10 * 17 * 48 * 4 });
    const linear = model(LATE.linear);
    expect(prefixCacheBytes(linear, 10)).toBe(10 * 48 * 4);
    linear.dispose();

    // The budget from the environment: a run over it trains from the images and says so.
    const saved = process.env.MEDTUNE_PREFIX_CACHE_MB;
    try {
      process.env.MEDTUNE_PREFIX_CACHE_MB = '0.01';
      const progress: TrainProgress[] = [];
      const result = await trainAdapter(late, train, val, { ...config, epochs: 1 }, { ...options, onProgress: (p) => progress.push(p) });
      expect(result.prefixCache.used).toBe(false);
      expect(progress[0]).toMatchObject({ phase: 'caching', message: expect.stringMatching(/36 images would take 0 MB, over the 0 MB budget.*full backbone/) });
      process.env.MEDTUNE_PREFIX_CACHE_MB = 'lots';
      expect(() => prefixCacheBudgetBytes()).toThrow(/MEDTUNE_PREFIX_CACHE_MB must be a number of megabytes ≥ 0, got "lots"/);
      delete process.env.MEDTUNE_PREFIX_CACHE_MB;
      expect(prefixCacheBudgetBytes()).toBe(3072 * 2 ** 20);
    } finally {
      if (saved === undefined) delete process.env.MEDTUNE_PREFIX_CACHE_MB;
      else process.env.MEDTUNE_PREFIX_CACHE_MB = saved;
    }

    // Augmented runs draw new pixels every epoch: no cache, and the reason is reported.
    const augmented = await trainAdapter(late, train, val, { ...config, epochs: 1, augmentation: AUGMENTATION_PRESETS.fundus }, options);
    expect(augmented.prefixCache).toMatchObject({ used: false, reason: expect.stringMatching(/augmentation/) });
    late.dispose();
    early.dispose();
  });

  it('can be cancelled while caching and leaks no tensors', async () => {
    const m = model(LATE.ept);
    const baseline = liveTensors();
    const controller = new AbortController();
    const phases: string[] = [];
    await expect(
      trainAdapter(m, train, val, { ...config, evalBatchSize: 4 }, {
        ...options,
        signal: controller.signal,
        onProgress: (p) => {
          phases.push(p.phase);
          if (p.phase === 'caching' && p.step === 8) controller.abort();
        },
      }),
    ).rejects.toBeInstanceOf(TrainingCancelled);
    expect(phases).not.toContain('training');
    expect(liveTensors()).toBe(baseline);
    m.dispose();
  });

  it('predictSamples gives the same predictions from cached tokens', async () => {
    const m = model(LATE.dvpt);
    tf.tidy(() => m.variables.get('dvpt.modules.0.gate')!.assign(tf.fill([1], 0.5)));
    const inputs = val.map((s) => s.input);
    const cache = await PrefixCache.build(m, inputs, { size: S, normalization: HALF_NORMALIZATION, batchSize: 5 });
    expect(cache.size).toBe(12);
    expect(cache.bytes).toBe(12 * 17 * 48 * 4);
    const direct = await predictSamples(m, inputs, { ...options, labels: val.map((s) => s.label) });
    const cached = await predictSamples(m, inputs, { ...options, labels: val.map((s) => s.label), prefixCache: cache });
    direct.probabilities.forEach((p, i) => expect(cached.probabilities[i]).toBeCloseTo(p, 5));
    direct.features.forEach((f, i) => expect(cached.features[i]).toBeCloseTo(f, 4));
    expect(cached.loss!).toBeCloseTo(direct.loss!, 5);
    // An input that was not cached: its batch runs the full forward, the cache itself refuses it.
    const other = train[0].input;
    expect(cache.has(other)).toBe(false);
    expect(() => cache.tokens([other])).toThrow(/an input was not cached/);
    const mixed = await predictSamples(m, [other, ...inputs.slice(0, 3)], { ...options, prefixCache: cache });
    const plain = await predictSamples(m, [other, ...inputs.slice(0, 3)], options);
    plain.probabilities.forEach((p, i) => expect(mixed.probabilities[i]).toBeCloseTo(p, 5));
    m.dispose();
  });
});

describe('training jobs: lastLayers and startLayer', () => {
  const resolve = (adapter: unknown, depth = 12) => resolveAdapterChoice(parseTrainJob({ taskId: 1, backboneId: 1, adapter }).adapter, depth);

  it('turns lastLayers into EPT layers or a DVPT startLayer', () => {
    expect(resolve({ method: 'ept', promptLength: 10, lastLayers: 4 })).toEqual({ method: 'ept', promptLength: 10, layers: [8, 9, 10, 11] });
    expect(resolve({ method: 'dvpt', lastLayers: 4 })).toEqual({ method: 'dvpt', bottleneck: 64, numPrompts: 10, share: 3, startLayer: 8 });
    expect(resolve({ method: 'dvpt', startLayer: 6 })).toMatchObject({ startLayer: 6 });
    // Start 0 is left out: the config equals one from before the option (warm starts compare configs).
    expect(resolve({ method: 'dvpt', lastLayers: 12 })).toEqual({ method: 'dvpt', bottleneck: 64, numPrompts: 10, share: 3 });
    expect(resolve({ method: 'dvpt' })).toEqual({ method: 'dvpt', bottleneck: 64, numPrompts: 10, share: 3 });
    expect(resolve({ method: 'linear' })).toEqual({ method: 'linear' });
    expect(parseTrainJob({ taskId: 1, backboneId: 1 }).prefixCache).toBe('auto');
  });

  it('refuses contradictions and layers the backbone lacks', () => {
    expect(() => resolve({ method: 'ept', layers: [1], lastLayers: 2 })).toThrow(/either layers or lastLayers/);
    expect(() => resolve({ method: 'dvpt', startLayer: 1, lastLayers: 2 })).toThrow(/either startLayer or lastLayers/);
    expect(() => resolve({ method: 'dvpt', lastLayers: 13 })).toThrow(/lastLayers 13 exceeds the backbone's 12 blocks/);
    expect(() => resolve({ method: 'dvpt', startLayer: 12 })).toThrow(/startLayer 12 does not exist in a backbone of depth 12/);
    expect(() => parseTrainJob({ taskId: 1, backboneId: 1, adapter: { method: 'dvpt', lastLayers: 0 } })).toThrow(/invalid training job: adapter\.lastLayers/);
    expect(() => parseTrainJob({ taskId: 1, backboneId: 1, prefixCache: 'always' })).toThrow(/prefixCache/);
  });
});
