import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile } from '../../../core/model/checkpoint';
import { AdaptedViT } from '../../../core/model/model';
import { readSafetensorsFile } from '../../../core/model/safetensors';
import { ViTBackbone } from '../../../core/model/vit';
import { AdapterOptimizer, GradientAccumulator } from '../../../core/train/optimizer';
import { PARITY_DIR } from '../../helpers/paths';

/** One training step as the trainer takes it: gradients of each micro-batch accumulated by their share, then one update. */
function trainStep(model: AdaptedViT, optimizer: AdapterOptimizer, microBatches: Array<{ images: tf.Tensor4D; labels: tf.Tensor }>): number {
  const accumulator = new GradientAccumulator();
  let loss = 0;
  for (const { images, labels } of microBatches) {
    const { loss: value, grads } = model.lossAndGradients(images, labels, 'NCHW');
    loss += value.dataSync()[0] / microBatches.length;
    value.dispose();
    accumulator.add(grads, 1 / microBatches.length);
  }
  const grads = accumulator.take();
  optimizer.apply(grads, 1e-2);
  tf.dispose([...grads.values()]);
  return loss;
}

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
  ])('50 adam steps of $method keep tensors and bytes flat', (hyper) => {
    // Tensors owned by the model's users, not the backbone's kept transposed weights (made on the first backward pass).
    const live = () => tf.memory().numTensors - backbone.gradientCacheTensors();
    const before = live();
    const model = AdaptedViT.initialise(backbone, parseAdapterConfig({ ...hyper, numClasses: 5 }, 'test'), 3);
    const optimizer = new AdapterOptimizer(model.variables, { kind: 'adamw', weightDecay: 0 });
    const losses: number[] = [];
    const snapshots: Array<{ numTensors: number; numBytes: number }> = [];
    for (let step = 0; step < 50; step++) {
      // Two micro-batches of two images: exercises gradient accumulation too.
      const halves = [0, 2].map((start) => ({
        images: tf.slice(images, [start, 0, 0, 0], [2, -1, -1, -1]),
        labels: tf.slice(labels, [start], [2]),
      }));
      losses.push(trainStep(model, optimizer, halves));
      tf.dispose(halves.flatMap((h) => [h.images, h.labels]));
      const { numTensors, numBytes } = tf.memory();
      snapshots.push({ numTensors: numTensors - backbone.gradientCacheTensors(), numBytes });
    }
    // The optimiser's moments exist from its construction; from the first step on nothing may grow.
    for (const s of snapshots.slice(2)) expect(s).toEqual(snapshots[1]);
    expect(losses[49]).toBeLessThan(losses[0]);
    optimizer.dispose();
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
