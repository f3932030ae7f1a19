import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile } from '../../../core/model/checkpoint';
import { parseViTConfigJson } from '../../../core/model/config';
import { AdaptedViT } from '../../../core/model/model';
import { relativeError } from '../../../core/model/ops';
import { compareMethod, discoverParityFixtures, GRADIENT_TOLERANCE, OUTPUT_TOLERANCE } from '../../../core/model/parity';
import { randomBackboneWeights } from '../../../core/model/random-weights';
import { ViTBackbone } from '../../../core/model/vit';
import { DEFAULT_TRAIN_CONFIG, trainAdapter, type TrainResult } from '../../../core/train/trainer';
import { PARITY_DIR } from '../../helpers/paths';
import { colourSamples } from '../../helpers/samples';
import { webgpuOrReason } from './webgpu-swiftshader';

// tfjs's WebGPU kernels through Dawn, on SwiftShader (a CPU Vulkan driver) where there is no GPU:
// correct but slow, so one backbone naming (the cpu/wasm parity test covers both) and a training
// run on the same tiny shapes and batch of 4 (compiled shaders are reused).
const webgpu = await webgpuOrReason();

describe.runIf(typeof webgpu !== 'string')('the webgpu backend', async () => {
  const fixtures = await discoverParityFixtures(PARITY_DIR);

  // Every method in the fixtures, so an adapter plug-in added there is checked on webgpu too.
  it.each(fixtures.methods.map((m) => [m.method, m] as const))('matches the PyTorch reference with %s: outputs ≤ 1e-4, gradients ≤ 1e-3', async (_method, fixture) => {
    await initBackend({ force: 'webgpu' });
    const loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    const backbone = new ViTBackbone(loaded.config, loaded.weights);
    try {
      const rows = await compareMethod(loaded, backbone, fixture);
      expect(rows.length).toBeGreaterThanOrEqual(7);
      expect(rows.some((r) => r.tensor.startsWith('grad.'))).toBe(true);
      for (const row of rows) {
        expect(row.tolerance).toBe(row.tensor.startsWith('grad.') ? GRADIENT_TOLERANCE : OUTPUT_TOLERANCE);
        expect(row.relativeError, `${row.tensor}${row.note ? ` (${row.note})` : ''}`).toBeLessThanOrEqual(row.tolerance);
      }
    } finally {
      backbone.dispose();
    }
  });

  it('trains a tiny random backbone with the trainer as the cpu backend does (loss and adapter within 1e-3)', async () => {
    const config = parseViTConfigJson(JSON.parse(await readFile(path.join(PARITY_DIR, 'backbone.json'), 'utf8')), 'backbone.json')!;
    const adapter = parseAdapterConfig(JSON.parse(await readFile(path.join(PARITY_DIR, 'adapter-dvpt.json'), 'utf8')), 'adapter-dvpt.json');
    const size = config.imageSize;
    const train = colourSamples(8, 'webgpu-train', size).map((s) => ({ ...s, label: (s.label as number) % adapter.numClasses }));
    const val = colourSamples(4, 'webgpu-val', size);
    const trainConfig = { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: 4, microBatchSize: 4, evalBatchSize: 4, lr: 1e-2, patience: 0, classWeighting: 'none' as const };
    const run = async (backend: string): Promise<{ result: TrainResult; tensors: Map<string, Float32Array> }> => {
      await initBackend({ force: backend });
      expect(tf.getBackend()).toBe(backend);
      const backbone = new ViTBackbone(config, randomBackboneWeights(config, 7));
      const model = AdaptedViT.initialise(backbone, adapter, 3);
      try {
        const result = await trainAdapter(model, train, val, trainConfig, { task: 'multiclass', numClasses: adapter.numClasses, size, normalization: HALF_NORMALIZATION });
        const tensors = new Map([...(await model.exportTensors())].map(([name, t]) => [name, Float32Array.from(t.data)]));
        return { result, tensors };
      } finally {
        model.dispose();
        backbone.dispose();
      }
    };
    const gpu = await run('webgpu');
    const cpu = await run('cpu');
    expect(gpu.result.steps).toBe(2);
    expect(cpu.result.steps).toBe(2);
    const [g, c] = [gpu.result.history[0], cpu.result.history[0]];
    expect(Math.abs(g.trainLoss - c.trainLoss) / c.trainLoss).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(g.valLoss! - c.valLoss!) / c.valLoss!).toBeLessThanOrEqual(1e-3);
    expect([...gpu.tensors.keys()].sort()).toEqual([...cpu.tensors.keys()].sort());
    // The adapter after two AdamW steps: the gradients of both steps agree, or these would not.
    for (const [name, data] of cpu.tensors) expect(relativeError(gpu.tensors.get(name)!, data), name).toBeLessThanOrEqual(1e-3);
  });
});
if (typeof webgpu === 'string') it.skip(`webgpu parity and training skipped: no WebGPU adapter here (${webgpu})`, () => {});
