import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { vitConfigSchema } from '../../../core/model/config';
import { AdaptedViT } from '../../../core/model/model';
import { randomBackboneWeights } from '../../../core/model/random-weights';
import { ViTBackbone } from '../../../core/model/vit';
import { AdapterOptimizer, GradientAccumulator } from '../../../core/train/optimizer';

// HEAVY: a real-size ViT-B/16 at 224 (85.8M random weights, ~343 MB) on wasm: one forward and one
// DVPT training step (two micro-batches of one image, gradients accumulated as the trainer does) must fit in wasm
// memory. Takes minutes on a 2-core machine; MEDTUNE_SKIP_HEAVY=1 skips it.
describe.skipIf(process.env.MEDTUNE_SKIP_HEAVY === '1')('ViT-B/16 at 224 on wasm (heavy)', () => {
  it('runs a forward pass and a training step without running out of memory', { timeout: 600_000 }, async () => {
    await initBackend({ force: 'wasm' });
    const config = vitConfigSchema.parse({ imageSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 });
    const backbone = new ViTBackbone(config, randomBackboneWeights(config));
    expect(backbone.parameterCount()).toBe(85_798_656);
    const model = AdaptedViT.initialise(backbone, parseAdapterConfig({ method: 'dvpt', numClasses: 5 }, 'test'));
    expect(model.trainableParameterCount()).toBe(4 * 99_777 + 5 * 768 + 5);

    const images = [0, 1].map((i) => tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', i) as tf.Tensor4D);
    const labels = [tf.tensor1d([1]), tf.tensor1d([3])];
    const { features, logits } = model.forward(images[0]);
    expect(features.shape).toEqual([1, 768]);
    expect(Array.from(await logits.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([features, logits]);

    const before = await model.exportTensors();
    // One step as the trainer takes it: two micro-batches' gradients accumulated, then one AdamW update.
    const optimizer = new AdapterOptimizer(model.variables, { kind: 'adamw', weightDecay: 0 });
    const accumulator = new GradientAccumulator();
    for (const i of [0, 1]) {
      const { loss, grads } = model.lossAndGradients(images[i], labels[i]);
      expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
      loss.dispose();
      accumulator.add(grads, 0.5);
    }
    const grads = accumulator.take();
    optimizer.apply(grads, 1e-3);
    tf.dispose([...grads.values()]);
    const after = await model.exportTensors();
    // The gate starts at 0 and must have moved: the step really updated the adapter.
    expect(after.get('dvpt.modules.0.gate')!.data[0]).not.toBe(before.get('dvpt.modules.0.gate')!.data[0]);

    optimizer.dispose();
    tf.dispose([...images, ...labels]);
    model.dispose();
    backbone.dispose();
  });
});
