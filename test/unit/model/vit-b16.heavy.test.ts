import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { vitConfigSchema } from '../../../core/model/config';
import { AdaptedViT } from '../../../core/model/model';
import { randomBackboneWeights } from '../../../core/model/random-weights';
import { ViTBackbone } from '../../../core/model/vit';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { TrainingStep } from '../../../core/train/step';

// HEAVY: a real-size ViT-B/16 at 224 (85.8M random weights, ~343 MB) on wasm: one forward and one
// DVPT training step (two micro-batches of one image, gradients accumulated) must fit in wasm
// memory. Takes minutes on a 2-core machine; MEDTUNE_SKIP_HEAVY=1 skips it.
describe.skipIf(process.env.MEDTUNE_SKIP_HEAVY === '1')('ViT-B/16 at 224 on wasm (heavy)', () => {
  it('runs a forward pass and a training step without running out of memory', { timeout: 600_000 }, async () => {
    await initBackend({ force: 'wasm' });
    const config = vitConfigSchema.parse({ imageSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 });
    const backbone = new ViTBackbone(config, randomBackboneWeights(config));
    expect(backbone.parameterCount()).toBe(85_798_656);
    const model = AdaptedViT.initialise(backbone, parseAdapterConfig({ method: 'dvpt', numClasses: 5 }, 'test'));
    expect(model.trainableParameterCount()).toBe(4 * 99_777 + 5 * 768 + 5);

    const image = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
    const { features, logits } = model.forward(image);
    expect(features.shape).toEqual([1, 768]);
    expect(Array.from(await logits.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([features, logits]);

    const before = await model.exportTensors();
    // The trainer's own step (core/train/step.ts) on two 8-bit images of class 1 and 3, one per micro-batch.
    const step = new TrainingStep(model, {
      task: 'multiclass',
      numClasses: 5,
      size: 224,
      normalization: HALF_NORMALIZATION,
      microBatchSize: 1,
      optimizer: { kind: 'adamw', weightDecay: 1e-4 },
      augmentation: null,
    });
    const samples = [1, 3].map((label, i) => ({ input: Uint8Array.from({ length: 224 * 224 * 3 }, (_, p) => (p * (i + 7)) % 251), label }));
    const loss = await step.run(samples, 1e-3);
    expect(Number.isFinite(loss)).toBe(true);
    const after = await model.exportTensors();
    // The gate starts at 0 and must have moved: the step really updated the adapter.
    expect(after.get('dvpt.modules.0.gate')!.data[0]).not.toBe(before.get('dvpt.modules.0.gate')!.data[0]);

    step.dispose();
    image.dispose();
    model.dispose();
    backbone.dispose();
  });
});
