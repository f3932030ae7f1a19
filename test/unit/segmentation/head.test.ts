import { spawnSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import type { ViTConfig } from '../../../core/model/config';
import { relativeError } from '../../../core/model/ops';
import { randomBackboneWeights } from '../../../core/model/random-weights';
import { readSafetensorsFile, writeSafetensorsFile, type NamedTensorData } from '../../../core/model/safetensors';
import { conv3x3, diceCrossEntropyLoss, segmentationHeadShapes, segmentationLogits, SegmentationModel, upsampleStages } from '../../../core/model/segmentation-head';
import { ViTBackbone } from '../../../core/model/vit';
import { REPO_ROOT, TEST_OUTPUT_DIR } from '../../helpers/paths';

const CONFIG: ViTConfig = {
  architecture: 'vit', imageSize: 16, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, mlpRatio: 2,
  qkvBias: true, layerNormEps: 1e-6, gelu: 'erf', classToken: true, pool: 'token', finalNorm: true,
};
const outDir = path.join(TEST_OUTPUT_DIR, 'segmentation', 'head');
let backbone: ViTBackbone;

const data = async (t: tf.Tensor) => Float32Array.from((await t.data()) as Float32Array);

beforeAll(async () => {
  await initBackend({ force: 'wasm' });
  backbone = new ViTBackbone(CONFIG, randomBackboneWeights(CONFIG, 3));
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
});
afterAll(() => backbone.dispose());

describe('segmentation head', () => {
  it('refuses a patch size that is not a power of two', () => {
    expect(upsampleStages(16)).toBe(4);
    expect(() => upsampleStages(14)).toThrow(/power-of-two patch size/);
  });

  it('has the written-out filter gradient of tfjs’s own conv2d (cpu kernels: wasm has no filter gradient)', async () => {
    await initBackend({ force: 'cpu' });
    const x = tf.randomNormal([2, 7, 5, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const b = tf.randomNormal([4], 0, 1, 'float32', 3) as tf.Tensor1D;
    const probe = tf.randomNormal([2, 7, 5, 4], 0, 1, 'float32', 4);
    const ours = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(conv3x3(xi as tf.Tensor4D, wi as tf.Tensor4D, b), probe)))([x, w]);
    const theirs = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, 1, 'same'), b), probe)))([x, w]);
    expect(relativeError(await data(ours[0]), await data(theirs[0]))).toBeLessThan(1e-5);
    expect(relativeError(await data(ours[1]), await data(theirs[1]))).toBeLessThan(1e-5);
    await initBackend({ force: 'wasm' });
  });

  it('gives full-resolution logits and trains with every adapter method; the adapter classifier is not trained', () => {
    for (const spec of [
      { method: 'dvpt', bottleneck: 4, numPrompts: 3, share: 1 },
      { method: 'ept', promptLength: 3 },
      { method: 'lora', rank: 2 },
      { method: 'linear' },
    ]) {
      const adapter = parseAdapterConfig({ ...spec, numClasses: 3, task: 'multiclass' }, 'test');
      const model = new SegmentationModel(backbone, adapter, { numClasses: 3, channels: 8 }, 1);
      const images = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const labels = tf.tensor3d(Int32Array.from({ length: 2 * 16 * 16 }, (_, i) => i % 3), [2, 16, 16], 'int32');
      const logits = model.logits(images);
      expect(logits.shape).toEqual([2, 16, 16, 3]);
      const vars = model.trainableVariables();
      const adapterVars = [...model.adapted.variables].filter(([n]) => !n.startsWith('head.'));
      expect(vars.length).toBe(adapterVars.length + segmentationHeadShapes(model.head, CONFIG.embedDim, CONFIG.patchSize).size);
      expect(vars).not.toContain(model.adapted.variables.get('head.weight'));
      const { grads } = tf.variableGrads(() => model.loss(images, labels), vars);
      // Every trainable tensor is reached by the loss (DVPT's down/up only through its gate, zero at start).
      for (const v of vars) expect(grads[v.name], `${spec.method}: ${v.name}`).toBeDefined();
      const gateGrad = adapter.method === 'dvpt' ? grads[model.adapted.variables.get('dvpt.modules.0.gate')!.name].dataSync()[0] : 1;
      expect(Math.abs(gateGrad)).toBeGreaterThan(0);
      tf.dispose([logits, images, labels, ...Object.values(grads)]);
      model.dispose();
    }
  });

  it('learns a synthetic mask (bright squares) within a region', () => {
    const adapter = parseAdapterConfig({ method: 'lora', rank: 2, numClasses: 2, task: 'multiclass' }, 'test');
    const model = new SegmentationModel(backbone, adapter, { numClasses: 2, channels: 8 }, 2);
    const n = 8;
    const img = new Float32Array(n * 16 * 16 * 3);
    const lab = new Int32Array(n * 16 * 16);
    for (let b = 0; b < n; b++) {
      const y0 = (b * 3) % 9;
      const x0 = (b * 5) % 9;
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
        const on = y >= y0 && y < y0 + 6 && x >= x0 && x < x0 + 6 ? 1 : 0;
        lab[(b * 16 + y) * 16 + x] = on;
        for (let c = 0; c < 3; c++) img[((b * 16 + y) * 16 + x) * 3 + c] = on ? 0.8 : -0.8;
      }
    }
    const images = tf.tensor4d(img, [n, 16, 16, 3]);
    const labels = tf.tensor3d(lab, [n, 16, 16], 'int32');
    const optimizer = tf.train.adam(1e-2);
    const first = model.loss(images, labels).dataSync()[0];
    for (let i = 0; i < 40; i++) tf.tidy(() => {
      optimizer.minimize(() => model.loss(images, labels), false, model.trainableVariables());
    });
    const last = model.loss(images, labels).dataSync()[0];
    const predicted = tf.tidy(() => tf.argMax(model.logits(images), 3)).dataSync();
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < lab.length; i++) {
      if (predicted[i] && lab[i]) tp++;
      else if (predicted[i]) fp++;
      else if (lab[i]) fn++;
    }
    expect(last).toBeLessThan(first * 0.5);
    expect((2 * tp) / (2 * tp + fp + fn)).toBeGreaterThan(0.9);
    tf.dispose([images, labels]);
    optimizer.dispose();
    model.dispose();
  });

  it('ignores pixels outside the weight mask in the loss', () => {
    const logits = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 7) as tf.Tensor4D;
    const labels = tf.tensor3d(Int32Array.from({ length: 16 }, (_, i) => (i < 8 ? 1 : 0)), [1, 4, 4], 'int32');
    const weights = tf.tensor3d(Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 1 : 0)), [1, 4, 4]);
    const changed = tf.tidy(() => tf.where(tf.cast(weights, 'bool').expandDims(3).tile([1, 1, 1, 2]), logits, tf.mul(logits, -5)) as tf.Tensor4D);
    expect(diceCrossEntropyLoss(changed, labels, weights).dataSync()[0]).toBeCloseTo(diceCrossEntropyLoss(logits, labels, weights).dataSync()[0], 5);
    expect(diceCrossEntropyLoss(changed, labels).dataSync()[0]).not.toBeCloseTo(diceCrossEntropyLoss(logits, labels).dataSync()[0], 3);
  });

  it('matches the PyTorch reference (bench/reference/segmentation.py): logits, loss and head gradients', async () => {
    const tokens = tf.randomNormal([2, 17, CONFIG.embedDim], 0, 1, 'float32', 11) as tf.Tensor3D;
    const head = { numClasses: 3, channels: 6 };
    const vars = new Map<string, tf.Variable>();
    let s = 20;
    for (const [name, shape] of segmentationHeadShapes(head, CONFIG.embedDim, CONFIG.patchSize)) vars.set(name, tf.variable(tf.randomNormal(shape, 0, 0.3, 'float32', s++)));
    const labels = tf.tensor3d(Int32Array.from({ length: 2 * 256 }, (_, i) => (i * 7) % 3), [2, 16, 16], 'int32');
    const weights = tf.tensor3d(Float32Array.from({ length: 2 * 256 }, (_, i) => (i % 5 ? 1 : 0)), [2, 16, 16]);
    const logits = segmentationLogits(tokens, vars, CONFIG.patchSize);
    const { value, grads } = tf.variableGrads(() => diceCrossEntropyLoss(segmentationLogits(tokens, vars, CONFIG.patchSize), labels, weights), [...vars.values()]);
    const inputs: Array<[string, NamedTensorData]> = [
      ['tokens', { shape: tokens.shape, data: await data(tokens) }],
      ['labels', { shape: labels.shape, data: Float32Array.from(await labels.data()) }],
      ['weights', { shape: weights.shape, data: await data(weights) }],
    ];
    for (const [name, v] of vars) inputs.push([name, { shape: v.shape, data: await data(v) }]);
    const inFile = path.join(outDir, 'inputs.safetensors');
    const outFile = path.join(outDir, 'outputs.safetensors');
    await writeSafetensorsFile(inFile, inputs);
    const script = `
import sys, torch
sys.path.insert(0, ${JSON.stringify(path.join(REPO_ROOT, 'bench', 'reference'))})
from segmentation import head_logits, dice_ce
from vit_adapters import read_safetensors, write_safetensors
t, _ = read_safetensors(sys.argv[1])
head = {k: v.double().requires_grad_(True) for k, v in t.items() if k.startswith('seg.')}
logits = head_logits(t['tokens'].double(), head, ${CONFIG.patchSize}, 1e-6)
loss = dice_ce(logits, t['labels'].long(), t['weights'])
loss.backward()
out = {'logits': logits.permute(0, 2, 3, 1).detach().float(), 'loss': loss.detach().reshape(1).float()}
out.update({'grad.' + k: v.grad.float() for k, v in head.items()})
write_safetensors(sys.argv[2], out, {})
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, inFile, outFile], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const ref = (await readSafetensorsFile(outFile)).tensors;
    expect(relativeError(await data(logits), ref.get('logits')!.data)).toBeLessThan(1e-4);
    expect(value.dataSync()[0]).toBeCloseTo(ref.get('loss')!.data[0], 4);
    for (const [name, v] of vars) expect(relativeError(await data(grads[v.name]), ref.get(`grad.${name}`)!.data), name).toBeLessThan(1e-3);
  });
});
