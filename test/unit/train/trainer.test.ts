import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile } from '../../../core/model/checkpoint';
import { AdaptedViT } from '../../../core/model/model';
import { ViTBackbone } from '../../../core/model/vit';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { TrainingCancelled } from '../../../core/train/cancellation';
import { predictSamples } from '../../../core/train/evaluation';
import { DEFAULT_TRAIN_CONFIG, minimumEpochs, trainAdapter, type TrainProgress } from '../../../core/train/trainer';
import type { Sample } from '../../../core/train/types';
import { AUGMENTATION_PRESETS } from '../../../core/train/augment';
import { PARITY_DIR } from '../../helpers/paths';
import { colourSamples as colourSamplesOf } from '../../helpers/samples';

const S = 32;
let backbone: ViTBackbone;
/** Tensors not counting the backbone's kept transposed weights (made by its first backward passes). */
const liveTensors = () => tf.memory().numTensors - backbone.gradientCacheTensors();

const colourSamples = (n: number, seed: string): Sample[] => colourSamplesOf(n, seed, S);

const options = { task: 'multiclass' as const, numClasses: 3, size: S, normalization: HALF_NORMALIZATION };

function model(method: 'linear' | 'ept' | 'dvpt', seed = 1): AdaptedViT {
  const extra = method === 'ept' ? { promptLength: 4, layers: [0, 1, 2] } : method === 'dvpt' ? { bottleneck: 8, numPrompts: 4, share: 2 } : {};
  const adapter = parseAdapterConfig({ method, numClasses: 3, task: 'multiclass', ...extra }, 'test');
  return AdaptedViT.initialise(backbone, adapter, seed);
}

beforeAll(async () => {
  await initBackend();
  const loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
  backbone = new ViTBackbone(loaded.config, loaded.weights);
});

describe('trainAdapter', () => {
  const train = colourSamples(48, 'train');
  const val = colourSamples(24, 'val');

  it.each(['linear', 'ept', 'dvpt'] as const)('learns a separable task with %s and keeps the best epoch', async (method) => {
    const m = model(method);
    const before = await predictSamples(m, val.map((s) => s.input), { ...options, labels: val.map((s) => s.label) });
    const progress: string[] = [];
    const result = await trainAdapter(m, train, val, { ...DEFAULT_TRAIN_CONFIG, epochs: 6, batchSize: 8, microBatchSize: 4, lr: 1e-2, patience: 0, linearSolver: 'gradient' }, {
      ...options,
      onProgress: (p) => progress.push(p.phase),
    });
    expect(result.history).toHaveLength(6);
    expect(result.steps).toBe(36);
    expect(progress.filter((p) => p === 'validating')).toHaveLength(6);
    expect(result.history.at(-1)!.trainLoss).toBeLessThan(result.history[0].trainLoss);
    expect(result.bestMetrics!.selection.name).toBe('macroAuc');
    expect(result.bestMetrics!.selection.value).toBeGreaterThan(0.95);
    const bestValue = Math.max(...result.history.map((h) => h.selection!.value));
    expect(result.history[result.bestEpoch - 1].selection!.value).toBe(bestValue);
    // The model now holds the best epoch's tensors.
    const after = await predictSamples(m, val.map((s) => s.input), { ...options, labels: val.map((s) => s.label) });
    expect(after.loss!).toBeLessThan(before.loss!);
    m.dispose();
  });

  it('stops early once neither the validation metric nor the validation loss has improved for `patience` epochs', async () => {
    const m = model('linear');
    const result = await trainAdapter(m, train, val, { ...DEFAULT_TRAIN_CONFIG, epochs: 30, batchSize: 16, lr: 5e-2, patience: 2, minEpochs: 0, linearSolver: 'gradient' }, options);
    expect(result.stoppedEarly).toBe(true);
    expect(result.history.length).toBeLessThan(30);
    const h = result.history;
    const bestBefore = (key: 'valLoss' | 'selection', upTo: number) =>
      key === 'valLoss' ? Math.min(...h.slice(0, upTo).map((e) => e.valLoss!)) : Math.max(...h.slice(0, upTo).map((e) => e.selection!.value));
    // The last two epochs improved neither; every earlier stretch of two had an improvement of one of them.
    const stalled = (i: number) => h[i].valLoss! >= bestBefore('valLoss', i) && h[i].selection!.value <= bestBefore('selection', i);
    expect(stalled(h.length - 1) && stalled(h.length - 2)).toBe(true);
    for (let i = 2; i < h.length - 1; i++) expect(stalled(i) && stalled(i - 1)).toBe(false);
    expect(result.bestEpoch).toBe(h.findIndex((e) => e.selection!.value === bestBefore('selection', h.length)) + 1);
    m.dispose();
  });

  it('says on its last progress event that it stopped early, after how long without improvement, and which epoch it keeps', async () => {
    const m = model('linear');
    const events: TrainProgress[] = [];
    const result = await trainAdapter(m, train, val, { ...DEFAULT_TRAIN_CONFIG, epochs: 30, batchSize: 16, lr: 5e-2, patience: 2, minEpochs: 0, linearSolver: 'gradient' }, { ...options, onProgress: (p) => events.push(p) });
    expect(result.stoppedEarly).toBe(true);
    const last = events.at(-1)!;
    expect(last.phase).toBe('validating');
    expect(last.epoch).toBe(result.history.length);
    expect(last.message).toMatch(new RegExp(`^stopped early at epoch ${result.history.length} \\(no improvement of the validation \\S+ or loss for 2 epochs\\); keeping epoch ${result.bestEpoch}$`));
    // Only that event says so.
    expect(events.filter((e) => e.message?.startsWith('stopped early'))).toHaveLength(1);
    m.dispose();
  });

  it('says so without validation cases too (early stopping on the training loss)', async () => {
    const m = model('linear');
    const events: TrainProgress[] = [];
    // A learning rate this high makes the training loss bounce, so it stops improving within a few epochs.
    const result = await trainAdapter(m, train, [], { ...DEFAULT_TRAIN_CONFIG, epochs: 40, batchSize: 48, lr: 5, optimizer: 'sgd', warmupFraction: 0, patience: 1, minEpochs: 0, linearSolver: 'gradient' }, {
      ...options,
      onProgress: (p) => events.push(p),
    });
    expect(result.stoppedEarly).toBe(true);
    expect(events.at(-1)!.message).toBe(`stopped early at epoch ${result.history.length} (no improvement for 1 epoch); keeping epoch ${result.bestEpoch}`);
    m.dispose();
  });

  it('fits method linear as a probe on the frozen features, C chosen on validation, and says which C', async () => {
    const m = model('linear');
    const events: TrainProgress[] = [];
    const result = await trainAdapter(m, train, val, { ...DEFAULT_TRAIN_CONFIG, epochs: 6 }, { ...options, onProgress: (p) => events.push(p) });
    expect(result.probe).toBeDefined();
    expect([0.01, 0.1, 1, 10, 100]).toContain(result.probe!.C);
    expect(result.probe!.scores).toHaveLength(5);
    expect(result.probe!.classWeighting).toBe('balanced');
    expect(result.history).toHaveLength(1);
    expect(result.steps).toBe(0);
    expect(result.bestMetrics!.selection.value).toBeGreaterThan(0.95);
    expect(events.at(-1)!.message).toContain(`chose C = ${result.probe!.C} by validation macroAuc`);
    // The model holds the probe's head: its validation predictions give the reported metric.
    const after = await predictSamples(m, val.map((s) => s.input), options);
    const head = result.bestTensors.get('head.weight')!;
    expect(Array.from((m.variables.get('head.weight')!.dataSync() as Float32Array))).toEqual(Array.from(head.data));
    expect(after.probabilities.length).toBe(val.length * 3);
    m.dispose();
  });

  it('does not stop before the minimum number of epochs, however early the best epoch was', async () => {
    const m = model('linear');
    const result = await trainAdapter(m, train, [], { ...DEFAULT_TRAIN_CONFIG, epochs: 12, batchSize: 48, lr: 5, optimizer: 'sgd', warmupFraction: 0, patience: 1, minEpochs: 8, linearSolver: 'gradient' }, options);
    expect(result.history.length).toBeGreaterThanOrEqual(8);
    m.dispose();
  });

  it('defaults the minimum epochs to the warm-up plus a quarter of the run', () => {
    expect(minimumEpochs({ epochs: 20, warmupFraction: 0.1 })).toBe(7);
    expect(minimumEpochs({ epochs: 40, warmupFraction: 0.1 })).toBe(14);
    expect(minimumEpochs({ epochs: 3, warmupFraction: 0.1, minEpochs: 10 })).toBe(3);
  });

  it('can be cancelled mid-run and leaks no tensors', async () => {
    const m = model('dvpt');
    const baseline = liveTensors();
    const controller = new AbortController();
    let steps = 0;
    await expect(
      trainAdapter(m, train, val, { ...DEFAULT_TRAIN_CONFIG, epochs: 5, batchSize: 8, augmentation: AUGMENTATION_PRESETS.fundus }, {
        ...options,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'training' && ++steps === 3) controller.abort();
        },
      }),
    ).rejects.toBeInstanceOf(TrainingCancelled);
    expect(steps).toBe(3);
    expect(liveTensors()).toBe(baseline);
    m.dispose();
  });

  it('keeps tensor count flat across a whole run', async () => {
    const m = model('ept');
    const baseline = liveTensors();
    await trainAdapter(m, train.slice(0, 16), val.slice(0, 6), { ...DEFAULT_TRAIN_CONFIG, epochs: 3, batchSize: 4, augmentation: AUGMENTATION_PRESETS.fundus }, options);
    expect(liveTensors()).toBe(baseline);
    m.dispose();
  });

  it('refuses to train without training cases', async () => {
    const m = model('linear');
    await expect(trainAdapter(m, [], val, DEFAULT_TRAIN_CONFIG, options)).rejects.toThrow(/no training cases/);
    m.dispose();
  });
});
