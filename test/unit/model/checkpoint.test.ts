import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/model/backend';
import { backboneFromContents, loadBackboneFile } from '../../../core/model/checkpoint';
import { parseViTConfigJson, vitConfigSchema, type ViTConfig } from '../../../core/model/config';
import { resizePosEmbed } from '../../../core/model/pos-embed';
import { randomBackboneWeights } from '../../../core/model/random-weights';
import { parseSafetensors, serializeSafetensors, type SafetensorsContents } from '../../../core/model/safetensors';
import { ViTBackbone } from '../../../core/model/vit';
import { PARITY_DIR, TEST_OUTPUT_DIR } from '../../helpers/paths';

const timmFile = path.join(PARITY_DIR, 'backbone-timm.safetensors');
const hfFile = path.join(PARITY_DIR, 'backbone-hf.safetensors');
let fixtureConfig: ViTConfig;

async function contentsOf(file: string): Promise<SafetensorsContents> {
  return parseSafetensors(await readFile(file), file);
}

beforeAll(async () => {
  await initBackend({ force: 'cpu' });
  fixtureConfig = parseViTConfigJson(JSON.parse(await readFile(path.join(PARITY_DIR, 'backbone.json'), 'utf8')), 'backbone.json')!;
});

describe('backbone checkpoints', () => {
  it('reads timm and Hugging Face namings into the same weights (q, k, v → qkv)', async () => {
    const timm = await loadBackboneFile(timmFile);
    const hf = await loadBackboneFile(hfFile);
    expect(timm.naming).toBe('timm');
    expect(hf.naming).toBe('hf');
    expect(timm.configSource).toBe(path.join(PARITY_DIR, 'backbone.json'));
    expect(timm.config).toEqual(fixtureConfig);
    expect([...hf.weights.keys()].sort()).toEqual([...timm.weights.keys()].sort());
    for (const [key, t] of timm.weights) {
      expect(hf.weights.get(key)!.shape, key).toEqual(t.shape);
      expect(Array.from(hf.weights.get(key)!.data), key).toEqual(Array.from(t.data));
    }
    expect(timm.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(timm.sha256).not.toBe(hf.sha256);
  });

  it('names an unknown key, a missing key and a shape mismatch', async () => {
    const choice = { config: fixtureConfig, source: 'given' };
    const extra = await contentsOf(timmFile);
    extra.tensors.set('blocks.0.attn.extra', { shape: [1], data: Float32Array.of(0), storedDtype: 'F32' });
    expect(() => backboneFromContents(extra, 'ckpt', choice)).toThrow(/ckpt: unknown tensor "blocks\.0\.attn\.extra"/);

    const missing = await contentsOf(timmFile);
    missing.tensors.delete('blocks.2.mlp.fc2.bias');
    expect(() => backboneFromContents(missing, 'ckpt', choice)).toThrow(/ckpt: missing tensor "blocks\.2\.mlp\.fc2\.bias"/);

    const wrong = await contentsOf(timmFile);
    wrong.tensors.set('norm.weight', { shape: [47], data: new Float32Array(47), storedDtype: 'F32' });
    expect(() => backboneFromContents(wrong, 'ckpt', choice)).toThrow(/tensor "norm\.weight" has shape \[47\], expected \[48\]/);

    const hfMissing = await contentsOf(hfFile);
    hfMissing.tensors.delete('vit.encoder.layer.1.attention.attention.value.bias');
    expect(() => backboneFromContents(hfMissing, 'hf', choice)).toThrow(/missing tensor "vit\.encoder\.layer\.1\.attention\.attention\.value\.bias"/);

    const hfUnknown = await contentsOf(hfFile);
    hfUnknown.tensors.set('vit.encoder.layer.0.something.weight', { shape: [1], data: Float32Array.of(0), storedDtype: 'F32' });
    expect(() => backboneFromContents(hfUnknown, 'hf', choice)).toThrow(/unknown tensor "vit\.encoder\.layer\.0\.something\.weight"/);
  });

  it('ignores classifier heads (timm head.*, HF classifier.* and pooler)', async () => {
    const withHead = await contentsOf(hfFile);
    withHead.tensors.set('classifier.weight', { shape: [2, 48], data: new Float32Array(96), storedDtype: 'F32' });
    withHead.tensors.set('vit.pooler.dense.bias', { shape: [48], data: new Float32Array(48), storedDtype: 'F32' });
    expect(backboneFromContents(withHead, 'hf', { config: fixtureConfig, source: 'given' }).weights.size).toBe(42);
  });

  it('infers the config from shapes when no JSON is given: heads from --heads or the known ViT widths, else refused', () => {
    const config = vitConfigSchema.parse({ imageSize: 32, patchSize: 8, embedDim: 128, depth: 2, numHeads: 2 });
    const bytes = serializeSafetensors(randomBackboneWeights(config));
    // Width 128 is no published ViT: the head count cannot be read from the weights, so it is not guessed.
    expect(() => backboneFromContents(parseSafetensors(bytes), 'random', null)).toThrow(/random: cannot infer the head count for embedDim 128.*--heads <n>/);
    const given = backboneFromContents(parseSafetensors(bytes), 'random', null, undefined, 2);
    expect(given.configSource).toBe('inferred from shapes');
    expect(given.config).toEqual({ ...config, layerNormEps: 1e-6 });
    expect(given.headsFrom).toBe('given (--heads 2)');
    expect(() => backboneFromContents(parseSafetensors(bytes), 'random', null, undefined, 3)).toThrow(/embedDim 128 is not divisible by numHeads 3/);

    const tiny = vitConfigSchema.parse({ imageSize: 16, patchSize: 8, embedDim: 192, depth: 1, numHeads: 3 });
    const fromTable = backboneFromContents(parseSafetensors(serializeSafetensors(randomBackboneWeights(tiny))), 'vit-ti', null);
    expect(fromTable.config.numHeads).toBe(3);
    expect(fromTable.headsFrom).toMatch(/known architecture table \(width 192 is timm's ViT-Ti: 3 heads\)/);
    expect(fromTable.assumptions.join(' ')).toMatch(/numHeads 3 from the known architecture table/);
  });

  it('cannot guess heads for a width that is not a multiple of 64 and asks for a config', async () => {
    const contents = await contentsOf(timmFile);
    expect(() => backboneFromContents(contents, 'fixture', null)).toThrow(/fixture: cannot infer the head count for embedDim 48.*config JSON/);
  });

  it('reads a Hugging Face config.json beside the weights', async () => {
    const dir = path.join(TEST_OUTPUT_DIR, 'model', 'hf-config');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'model.safetensors'), await readFile(hfFile));
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({ hidden_size: 48, num_attention_heads: 3, num_hidden_layers: 3, intermediate_size: 192, image_size: 32, patch_size: 8, layer_norm_eps: 1e-12, qkv_bias: true }),
    );
    const loaded = await loadBackboneFile(path.join(dir, 'model.safetensors'));
    expect(loaded.configSource).toBe(path.join(dir, 'config.json'));
    expect(loaded.config).toMatchObject({ embedDim: 48, numHeads: 3, depth: 3, mlpRatio: 4, layerNormEps: 1e-12 });
  });
});

describe('position embedding resize', () => {
  it('keeps the CLS row, is the identity at the same size and preserves constants', () => {
    const dim = 3;
    const old = new Float32Array((1 + 16) * dim).map((_, i) => (i < dim ? 100 + i : 2.5));
    expect(Array.from(resizePosEmbed(old, 4, 4, dim))).toEqual(Array.from(old));
    for (const grid of [2, 3, 7, 14]) {
      const resized = resizePosEmbed(old, 4, grid, dim);
      expect(resized).toHaveLength((1 + grid * grid) * dim);
      expect(Array.from(resized.subarray(0, dim))).toEqual([100, 101, 102]);
      for (const v of resized.subarray(dim)) expect(v).toBeCloseTo(2.5, 5);
    }
  });

  it('interpolates smoothly: a monotone ramp stays monotone and within its range', () => {
    const old = new Float32Array(1 + 16).map((_, i) => (i === 0 ? 0 : (i - 1) % 4)); // value = column
    const resized = resizePosEmbed(old, 4, 8, 1);
    const row = Array.from(resized.subarray(1 + 3 * 8, 1 + 4 * 8));
    for (let i = 1; i < row.length; i++) expect(row[i]).toBeGreaterThanOrEqual(row[i - 1] - 1e-6);
    expect(Math.min(...row)).toBeGreaterThanOrEqual(-0.2);
    expect(Math.max(...row)).toBeLessThanOrEqual(3.2);
    // Symmetric kernel: the mirror image of the ramp is the mirrored result.
    expect(row[0] + row[7]).toBeCloseTo(3, 5);
  });

  it('loads the fixture at another image size and runs it', async () => {
    const loaded = await loadBackboneFile(timmFile, { imageSize: 48 });
    expect(loaded.resizedPosEmbedFrom).toBe(4);
    expect(loaded.weights.get('pos_embed')!.shape).toEqual([1, 37, 48]);
    const backbone = new ViTBackbone(loaded.config, loaded.weights);
    const { features } = backbone.forward(tf.ones([2, 48, 48, 3]) as tf.Tensor4D);
    expect(features.shape).toEqual([2, 48]);
    expect(Array.from(features.dataSync()).every(Number.isFinite)).toBe(true);
    features.dispose();
    backbone.dispose();
  });
});
