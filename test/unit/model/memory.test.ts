import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile } from '../../../core/model/checkpoint';
import { AdaptedViT } from '../../../core/model/model';
import { readSafetensorsFile } from '../../../core/model/safetensors';
import { ViTBackbone } from '../../../core/model/vit';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { TrainingStep } from '../../../core/train/step';
import { PARITY_DIR } from '../../helpers/paths';
import { colourSamples } from '../../helpers/samples';

// Training must not leak tensors: numTensors and bytes stay flat after the optimiser's warm-up.
describe('memory during training on the fixture model (wasm)', () => {
  let backbone: ViTBackbone;
  let images: tf.Tensor4D;
  let labels: tf.Tensor1D;

  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
    const loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    backbone = new ViTBackbone(loaded.config, loaded.weights);
    const expected = (await readSafetensorsFile(path.join(PARITY_DIR, 'expected-dvpt.safetensors'))).tensors;
    const x = expected.get('input.images_nchw')!;
    images = tf.tensor4d(x.data, x.shape as [number, number, number, number]);
    labels = tf.tensor1d(expected.get('input.labels')!.data);
  });
  afterAll(() => {
    tf.dispose([images, labels]);
    backbone.dispose();
  });

  it.each([
    { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2 },
    { method: 'ept', promptLength: 6 },
    { method: 'linear' },
  ])('50 AdamW steps of $method keep tensors and bytes flat', async (hyper) => {
    // Tensors owned by the model's users, not the backbone's kept transposed weights (made on the first backward pass).
    const live = () => tf.memory().numTensors - backbone.gradientCacheTensors();
    const before = live();
    const model = AdaptedViT.initialise(backbone, parseAdapterConfig({ ...hyper, numClasses: 5 }, 'test'), 3);
    // The trainer's own step (core/train/step.ts); two micro-batches of two images exercise gradient accumulation too.
    const size = backbone.config.imageSize;
    const batch = colourSamples(4, 'memory', size);
    const step = new TrainingStep(model, {
      task: 'multiclass',
      numClasses: 5,
      size,
      normalization: HALF_NORMALIZATION,
      microBatchSize: 2,
      optimizer: { kind: 'adamw', weightDecay: 1e-4 },
      augmentation: null,
    });
    const losses: number[] = [];
    const snapshots: Array<{ numTensors: number; numBytes: number }> = [];
    for (let i = 0; i < 50; i++) {
      losses.push(await step.run(batch, 1e-2));
      const { numTensors, numBytes } = tf.memory();
      snapshots.push({ numTensors: numTensors - backbone.gradientCacheTensors(), numBytes });
    }
    // From the second step on nothing may grow.
    for (const s of snapshots.slice(2)) expect(s).toEqual(snapshots[1]);
    expect(losses[49]).toBeLessThan(losses[0]);
    step.dispose();
    model.dispose();
    expect(live()).toBe(before);
  });

  it('makes each frozen weight\'s transposed copy once, on the first backward pass, never for inference', async () => {
    const loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    const fresh = new ViTBackbone(loaded.config, loaded.weights);
    const model = AdaptedViT.initialise(fresh, parseAdapterConfig({ method: 'ept', promptLength: 4, numClasses: 5 }, 'test'), 1);
    tf.tidy(() => model.forward(images, { layout: 'NCHW' }).logits.dataSync());
    expect(fresh.gradientCacheTensors()).toBe(0);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(labels, 'int32'), 5), model.forward(images, { layout: 'NCHW' }).logits)) as tf.Scalar, model.trainableVariables());
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    // qkv, proj, fc1, fc2 of every block the gradient passes through — except block 0's qkv: its
    // input is the patch embedding, which no trainable tensor feeds (EPT's prompt enters after it).
    const expected = 4 * loaded.config.depth - 1;
    expect(fresh.gradientCacheTensors()).toBe(expected);
    step();
    expect(fresh.gradientCacheTensors()).toBe(expected);
    model.dispose();
    fresh.dispose();
  });
});
