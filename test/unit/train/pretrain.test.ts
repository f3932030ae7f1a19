import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile } from '../../../core/model/checkpoint';
import { AdaptedViT } from '../../../core/model/model';
import { ViTBackbone } from '../../../core/model/vit';
import { predictSamples } from '../../../core/train/evaluation';
import { DEFAULT_TRAIN_CONFIG, trainAdapter } from '../../../core/train/trainer';
import { PARITY_DIR } from '../../helpers/paths';
import type { ViTConfig } from '../../../core/model/config';

const config = JSON.parse(fs.readFileSync(path.join(PARITY_DIR, 'backbone.json'), 'utf8')) as ViTConfig;

beforeAll(async () => {
  await initBackend();
});

describe('trainable backbone (stand-in foundation model for eval:medmnist)', () => {
  it('exports exactly the timm weights it was built from', async () => {
    const loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    const trainable = new ViTBackbone(loaded.config, loaded.weights, { trainable: true });
    const exported = trainable.exportWeights();
    expect([...exported.keys()].sort()).toEqual([...loaded.weights.keys()].sort());
    for (const [k, t] of loaded.weights) {
      expect(exported.get(k)!.shape).toEqual(t.shape);
      expect(Array.from(exported.get(k)!.data)).toEqual(Array.from(t.data));
    }
    expect(trainable.trainableVariables().size).toBe(loaded.weights.size);
    trainable.dispose();
  });

  it('trains every weight, and the frozen copy computes the same features', async () => {
    const backbone = ViTBackbone.createTrainable(config, 3);
    const before = backbone.exportWeights();
    const model = AdaptedViT.initialise(backbone, parseAdapterConfig({ method: 'linear', numClasses: 2, task: 'multiclass' }, 't'), 1);
    const samples = Array.from({ length: 16 }, (_, i) => ({ input: new Uint8Array(32 * 32 * 3).fill(i % 2 ? 200 : 30), label: i % 2 }));
    const opts = { task: 'multiclass' as const, numClasses: 2, size: 32, normalization: HALF_NORMALIZATION };
    await trainAdapter(model, samples, [], { ...DEFAULT_TRAIN_CONFIG, epochs: 2, batchSize: 8, patience: 0 }, {
      ...opts,
      extraVariables: backbone.trainableVariables(),
    });
    const after = backbone.exportWeights();
    for (const key of ['blocks.0.attn.qkv.weight', 'patch_embed.proj.weight', 'pos_embed', 'norm.weight']) {
      expect(Array.from(after.get(key)!.data)).not.toEqual(Array.from(before.get(key)!.data));
    }
    const frozen = new ViTBackbone(config, after);
    const x = tf.randomNormal([2, 3, 32, 32]) as tf.Tensor4D;
    const a = backbone.forward(x, { layout: 'NCHW' }).features;
    const b = frozen.forward(x, { layout: 'NCHW' }).features;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    const pred = await predictSamples(model, samples.map((s) => s.input), opts);
    expect(pred.probabilities.length).toBe(32);
    tf.dispose([x, a, b]);
    model.dispose();
    frozen.dispose();
    backbone.dispose();
  });
});
