import { rm } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTrainableParameters, parseAdapterConfig, trainableShapes } from '../../../core/model/adapter-config';
import { loadAdapterVersion, saveAdapterVersion } from '../../../core/model/adapter-file';
import { ADAPTER_PLUGINS, adapterChoiceFromFields, adapterPlugin } from '../../../core/model/adapters/registry';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile, type LoadedBackbone } from '../../../core/model/checkpoint';
import { vitConfigSchema } from '../../../core/model/config';
import { AdaptedViT } from '../../../core/model/model';
import { ViTBackbone } from '../../../core/model/vit';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { parseTrainJob, resolveAdapterChoice } from '../../../core/train/job';
import { predictSamples } from '../../../core/train/evaluation';
import { DEFAULT_TRAIN_CONFIG, trainAdapter } from '../../../core/train/trainer';
import { ADAPTER_METHODS } from '../../../core/vocabulary';
import { PARITY_DIR, TEST_OUTPUT_DIR } from '../../helpers/paths';
import { colourSamples } from '../../helpers/samples';

const vitB16 = vitConfigSchema.parse({ imageSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 });

describe('the adapter registry', () => {
  it('has one plug-in per method of the vocabulary, each under its own name', () => {
    expect(Object.keys(ADAPTER_PLUGINS).sort()).toEqual([...ADAPTER_METHODS].sort());
    for (const method of ADAPTER_METHODS) expect(adapterPlugin(method).method).toBe(method);
  });

  it.each([
    { method: 'linear' },
    { method: 'ept', promptLength: 7, layers: [3, 9] },
    { method: 'ept' },
    { method: 'dvpt', share: 5, startLayer: 2 },
    { method: 'dvpt' },
    { method: 'lora', rank: 3, layers: [0, 11] },
    { method: 'lora' },
  ])('$method: the closed-form parameter count equals the tensor shapes, and the job options exist', (json) => {
    const config = parseAdapterConfig({ ...json, numClasses: 4 }, 'test');
    const plugin = adapterPlugin(config.method);
    const fromShapes = [...plugin.tensorShapes(config, vitB16).values()].reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
    expect(plugin.parameterCount(config, vitB16)).toBe(fromShapes);
    expect(countTrainableParameters(vitB16, config).adapter).toBe(fromShapes);
    const jobKeys = Object.keys(plugin.jobSchema.shape);
    for (const option of plugin.options) expect(jobKeys).toContain(option.key);
  });

  it('builds a job adapter choice from flat fields, keeping only the method\'s own options', () => {
    const fields = { promptLength: 20, bottleneck: 16, rank: 4, lastLayers: 2, epochs: 3 };
    expect(adapterChoiceFromFields('ept', fields)).toEqual({ method: 'ept', promptLength: 20, lastLayers: 2 });
    expect(adapterChoiceFromFields('dvpt', fields)).toEqual({ method: 'dvpt', bottleneck: 16, lastLayers: 2 });
    expect(adapterChoiceFromFields('lora', fields)).toEqual({ method: 'lora', rank: 4, lastLayers: 2 });
    expect(adapterChoiceFromFields('linear', fields)).toEqual({ method: 'linear' });
  });
});

describe('LoRA on the qkv projection', () => {
  let loaded: LoadedBackbone;
  let backbone: ViTBackbone;
  let images: tf.Tensor4D;
  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
    loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    backbone = new ViTBackbone(loaded.config, loaded.weights);
    images = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  });
  afterAll(() => {
    images.dispose();
    backbone.dispose();
  });

  it('defaults to r = 8, alpha = 16 in every block: A [r, D], B [3D, r]', () => {
    const config = parseAdapterConfig({ method: 'lora', numClasses: 5 }, 'test');
    expect(config).toMatchObject({ rank: 8, alpha: 16 });
    const shapes = trainableShapes(vitB16, config);
    expect(shapes.get('lora.blocks.0.qkv.A')).toEqual([8, 768]);
    expect(shapes.get('lora.blocks.11.qkv.B')).toEqual([3 * 768, 8]);
    expect(countTrainableParameters(vitB16, config).adapter).toBe(12 * 4 * 8 * 768);
    expect(() => trainableShapes(vitB16, parseAdapterConfig({ method: 'lora', numClasses: 5, layers: [12] }, 'test'))).toThrow(
      /LoRA layer 12 does not exist in a backbone of depth 12/,
    );
  });

  it('resolves lastLayers in a training job like EPT', () => {
    const resolve = (adapter: unknown) => resolveAdapterChoice(parseTrainJob({ taskId: 1, backboneId: 1, adapter }).adapter, 12);
    expect(resolve({ method: 'lora', lastLayers: 3 })).toEqual({ method: 'lora', rank: 8, alpha: 16, layers: [9, 10, 11] });
    expect(resolve({ method: 'lora', rank: 4, alpha: 4 })).toEqual({ method: 'lora', rank: 4, alpha: 4 });
    expect(() => resolve({ method: 'lora', layers: [1], lastLayers: 2 })).toThrow(/invalid training job: adapter: give either layers or lastLayers/);
    expect(() => resolve({ method: 'lora', lastLayers: 13 })).toThrow(/lastLayers 13 exceeds the backbone's 12 blocks/);
  });

  it('starts at the pretrained function: B = 0, A ~ U(±1/√D); the start layer is its lowest block', () => {
    const lora = AdaptedViT.initialise(backbone, parseAdapterConfig({ method: 'lora', numClasses: 3, layers: [2, 1] }, 'test'), 5);
    expect(lora.startLayer).toBe(1);
    const D = loaded.config.embedDim;
    const A = lora.variables.get('lora.blocks.1.qkv.A')!.dataSync();
    expect(Math.max(...A.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(D));
    expect(Math.max(...A.map(Math.abs))).toBeGreaterThan(0.5 / Math.sqrt(D));
    expect(lora.variables.get('lora.blocks.2.qkv.B')!.dataSync().every((v) => v === 0)).toBe(true);
    const plain = backbone.forward(images);
    const out = lora.forward(images);
    expect(Array.from(out.features.dataSync())).toEqual(Array.from(plain.features.dataSync()));
    // …and a non-zero B changes it.
    lora.variables.get('lora.blocks.2.qkv.B')!.assign(tf.fill([3 * D, 8], 0.1));
    const moved = lora.forward(images);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(moved.features, plain.features))).dataSync()[0])).toBeGreaterThan(1e-4);
    tf.dispose([plain.features, out.features, out.logits, moved.features, moved.logits]);
    lora.dispose();
  });

  it('saves and loads as an adapter version (safetensors + manifest)', async () => {
    const dir = path.join(TEST_OUTPUT_DIR, 'model', 'lora-version');
    await rm(dir, { recursive: true, force: true });
    const config = parseAdapterConfig({ method: 'lora', rank: 2, alpha: 4, numClasses: 2 }, 'test');
    const model = AdaptedViT.initialise(backbone, config, 1);
    const tensors = await model.exportTensors();
    const manifest = await saveAdapterVersion(
      dir,
      { versionId: 'v1', adapter: config, classNames: ['no', 'yes'], backbone: { sha256: loaded.sha256, config: loaded.config } },
      tensors,
    );
    expect(manifest.method).toBe('lora');
    const back = await loadAdapterVersion(dir, { sha256: loaded.sha256, config: loaded.config });
    expect(back.manifest.adapter).toEqual(config);
    expect([...back.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
    expect(Array.from(back.tensors.get('lora.blocks.0.qkv.A')!.data)).toEqual(Array.from(tensors.get('lora.blocks.0.qkv.A')!.data));
    const reloaded = AdaptedViT.fromTensors(backbone, back.manifest.adapter, back.tensors, dir);
    expect(reloaded.trainableParameterCount()).toBe(model.trainableParameterCount());
    reloaded.dispose();
    model.dispose();
  });

  it('trains through the trainer (from the cached prefix before its first block) and the validation loss falls', async () => {
    const options = { task: 'multiclass' as const, numClasses: 3, size: 32, normalization: HALF_NORMALIZATION };
    const train = colourSamples(24, 'lora-train', 32);
    const val = colourSamples(12, 'lora-val', 32);
    const m = AdaptedViT.initialise(backbone, parseAdapterConfig({ method: 'lora', rank: 4, layers: [1, 2], numClasses: 3 }, 'test'), 2);
    const labels = val.map((s) => s.label);
    const before = await predictSamples(m, val.map((s) => s.input), { ...options, labels });
    const result = await trainAdapter(m, train, val, { ...DEFAULT_TRAIN_CONFIG, epochs: 4, batchSize: 8, microBatchSize: 4, lr: 1e-2, patience: 0 }, options);
    expect(result.prefixCache).toMatchObject({ used: true, startLayer: 1 });
    const after = await predictSamples(m, val.map((s) => s.input), { ...options, labels });
    expect(after.loss!).toBeLessThan(before.loss!);
    // B has moved away from zero: the LoRA update itself was trained, not only the head.
    expect(m.variables.get('lora.blocks.2.qkv.B')!.dataSync().some((v) => v !== 0)).toBe(true);
    m.dispose();
  });
});
