import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adapterStartLayer,
  AdapterConfigError,
  countTrainableParameters,
  parseAdapterConfig,
  trainableShapes,
  type AdapterConfig,
} from '../../../core/model/adapter-config';
import { ADAPTER_MANIFEST_FILE, loadAdapterVersion, saveAdapterVersion } from '../../../core/model/adapter-file';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile, type LoadedBackbone } from '../../../core/model/checkpoint';
import { vitConfigSchema } from '../../../core/model/config';
import { AdaptedViT } from '../../../core/model/model';
import { ViTBackbone } from '../../../core/model/vit';
import { PARITY_DIR, TEST_OUTPUT_DIR } from '../../helpers/paths';

// The fixture ViT: depth 3, 32×32 images, 17 tokens of width 48.
let loaded: LoadedBackbone;
let backbone: ViTBackbone;
let images: tf.Tensor4D;
const labels = () => tf.tensor1d([0, 1, 2, 3], 'int32');

function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.norm(tf.sub(a, b)).dataSync()[0] / Math.max(1e-12, tf.norm(b).dataSync()[0]));
}

/** A model whose every trainable tensor matters: DVPT gates non-zero, EPT prompts std 1, LoRA B non-zero. */
function model(config: Record<string, unknown>, seed = 3): AdaptedViT {
  const adapter = parseAdapterConfig({ numClasses: 4, task: 'multiclass', ...config }, 'test');
  const m = AdaptedViT.initialise(backbone, adapter, seed);
  tf.tidy(() => {
    for (const [name, v] of m.variables) {
      if (name.endsWith('.gate')) v.assign(tf.fill(v.shape, 0.7));
      if (name.endsWith('.prompt')) v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', seed));
      if (name.endsWith('.qkv.B')) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', seed)); // LoRA's B starts at 0
    }
  });
  return m;
}

function lossFrom(m: AdaptedViT, logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels(), m.adapter.numClasses), logits) as tf.Scalar);
}

beforeAll(async () => {
  const choice = await initBackend({ force: 'wasm' });
  expect(choice.tfBackend).toBe('wasm');
  loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
  backbone = new ViTBackbone(loaded.config, loaded.weights);
  images = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
});

afterAll(() => {
  images.dispose();
  backbone.dispose();
});

describe('forward from cached prefix tokens equals the full forward', () => {
  const cases: Array<[string, Record<string, unknown>, number]> = [
    ['EPT prompting layers 1 and 2', { method: 'ept', promptLength: 5, layers: [2, 1] }, 1],
    ['EPT prompting the last layer', { method: 'ept', promptLength: 5, layers: [2] }, 2],
    ['DVPT from layer 1 (share 1)', { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 1, startLayer: 1 }, 1],
    ['DVPT from layer 1 (share 2)', { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2, startLayer: 1 }, 1],
    ['DVPT in the last layer', { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 3, startLayer: 2 }, 2],
    ['LoRA in layers 1 and 2', { method: 'lora', rank: 4, layers: [2, 1] }, 1],
    ['a linear probe (the whole backbone is the prefix)', { method: 'linear' }, 3],
  ];

  it.each(cases)('%s: features, logits and gradients', (_name, config, k) => {
    const m = model(config);
    expect(m.startLayer).toBe(k);
    // The backbone's kept transposed weights (made by the first backward pass) are not a leak.
    const live = () => tf.memory().numTensors - m.backbone.gradientCacheTensors();
    const before = live();

    const full = m.forward(images);
    const tokens = m.prefixTokens(images);
    expect(tokens.shape).toEqual(k === 3 ? [4, 48] : [4 * 17, 48]);
    const cached = m.forwardFromTokens(tokens, 4);
    expect(relativeError(cached.features, full.features)).toBeLessThanOrEqual(1e-5);
    expect(relativeError(cached.logits, full.logits)).toBeLessThanOrEqual(1e-5);

    const fullGrads = tf.variableGrads(() => tf.tidy(() => lossFrom(m, m.forward(images).logits)), m.trainableVariables());
    const cachedGrads = tf.variableGrads(() => tf.tidy(() => lossFrom(m, m.forwardFromTokens(tokens, 4).logits)), m.trainableVariables());
    expect(Object.keys(cachedGrads.grads).sort()).toEqual(Object.keys(fullGrads.grads).sort());
    expect(Object.keys(fullGrads.grads)).toHaveLength(m.variables.size);
    for (const [name, g] of Object.entries(fullGrads.grads)) {
      expect(tf.tidy(() => tf.norm(g).dataSync()[0]), name).toBeGreaterThan(0);
      expect(relativeError(cachedGrads.grads[name], g), name).toBeLessThanOrEqual(1e-5);
    }
    expect(relativeError(cachedGrads.value, fullGrads.value)).toBeLessThanOrEqual(1e-5);

    tf.dispose([full.features, full.logits, tokens, cached.features, cached.logits, fullGrads.value, cachedGrads.value]);
    tf.dispose([...Object.values(fullGrads.grads), ...Object.values(cachedGrads.grads)]);
    expect(live()).toBe(before);
    m.dispose();
  });

  it('the backbone splits anywhere: blocks 0..k−1 then k..L−1 give forward (k = 0..3, no adapter)', () => {
    const full = backbone.forward(images);
    for (let k = 0; k <= 3; k++) {
      const tokens = backbone.prefixTokens(images, 'NHWC', k);
      const rest = backbone.forwardFromTokens(tokens, k, 4);
      expect(relativeError(rest.features, full.features), `k = ${k}`).toBeLessThanOrEqual(1e-5);
      tf.dispose([tokens, rest.features]);
    }
    full.features.dispose();
  });

  it('NCHW images give the same prefix as NHWC', () => {
    const nchw = tf.transpose(images, [0, 3, 1, 2]) as tf.Tensor4D;
    const a = backbone.prefixTokens(images, 'NHWC', 2);
    const b = backbone.prefixTokens(nchw, 'NCHW', 2);
    expect(relativeError(b, a)).toBeLessThanOrEqual(1e-6);
    tf.dispose([nchw, a, b]);
  });

  it('refuses tokens of the wrong shape, layers outside the backbone and blocks before the start', () => {
    const tokens = backbone.prefixTokens(images, 'NHWC', 1);
    expect(() => backbone.forwardFromTokens(tokens, 1, 3)).toThrow(/prefix tokens must be \[3·17, 48\], got \[68, 48\]/);
    expect(() => backbone.prefixTokens(images, 'NHWC', 4)).toThrow(/endLayer 4 is outside 0\.\.3/);
    expect(() => backbone.forwardFromTokens(tokens, 1, 4, { collectBlocks: [0] })).toThrow(/block 0 output is not computed/);
    const linear = model({ method: 'linear' });
    expect(() => linear.forwardFromTokens(tokens, 4)).toThrow(/pooled feature \[4, 48\], got \[68, 48\]/);
    linear.dispose();
    tokens.dispose();
  });
});

describe('DVPT startLayer', () => {
  it('leaves layers before it unchanged and counts modules from it', () => {
    // startLayer 1, share 1: modules 0, 1 act on layers 1, 2. The same function is startLayer 0 with
    // module 0 gated off and modules 1, 2 holding those tensors.
    const late = model({ method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 1, startLayer: 1 });
    const early = model({ method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 1 }, 9);
    tf.tidy(() => {
      early.variables.get('dvpt.modules.0.gate')!.assign(tf.zeros([1]));
      for (const [name, v] of late.variables) {
        const target = name.startsWith('dvpt.modules.') ? name.replace(/modules\.(\d+)/, (_m, i) => `modules.${Number(i) + 1}`) : name;
        early.variables.get(target)!.assign(v);
      }
    });
    const a = late.forward(images, { collectBlocks: [0] });
    const b = early.forward(images, { collectBlocks: [0] });
    const plain = backbone.forward(images, { collectBlocks: [0] });
    expect(relativeError(a.logits, b.logits)).toBeLessThanOrEqual(1e-5);
    // Block 0 output is the frozen backbone's own.
    expect(relativeError(a.blockOutputs.get(0)!, plain.blockOutputs.get(0)!)).toBeLessThanOrEqual(1e-6);
    tf.dispose([a.features, a.logits, b.features, b.logits, plain.features, ...a.blockOutputs.values(), ...b.blockOutputs.values(), ...plain.blockOutputs.values()]);
    late.dispose();
    early.dispose();
  });

  it('shapes and parameter counts: ⌈(depth − start) / share⌉ modules', () => {
    const vitB16 = vitConfigSchema.parse({ imageSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 });
    const perModule = 2 * 64 * 768 + 64 + 768 + 10 * 64 + 1;
    const dvpt = (startLayer?: number, share = 3) => parseAdapterConfig({ method: 'dvpt', numClasses: 5, share, startLayer }, 'test');
    expect(countTrainableParameters(vitB16, dvpt()).adapter).toBe(4 * perModule);
    expect(countTrainableParameters(vitB16, dvpt(8)).adapter).toBe(2 * perModule); // layers 8..11
    expect(countTrainableParameters(vitB16, dvpt(7)).adapter).toBe(2 * perModule); // 7..9, 10..11
    expect(countTrainableParameters(vitB16, dvpt(11, 1)).adapter).toBe(perModule);
    expect([...trainableShapes(vitB16, dvpt(9)).keys()].filter((k) => k.endsWith('.gate'))).toEqual(['dvpt.modules.0.gate']);
    expect(adapterStartLayer(dvpt(9), vitB16)).toBe(9);
    expect(adapterStartLayer(dvpt(), vitB16)).toBe(0);
    expect(adapterStartLayer(parseAdapterConfig({ method: 'ept', numClasses: 2, layers: [10, 8, 11] }, 't'), vitB16)).toBe(8);
    expect(adapterStartLayer(parseAdapterConfig({ method: 'ept', numClasses: 2 }, 't'), vitB16)).toBe(0);
    expect(adapterStartLayer(parseAdapterConfig({ method: 'linear', numClasses: 2 }, 't'), vitB16)).toBe(12);
  });

  it('refuses a start layer the backbone does not have, and negative ones', () => {
    const adapter = parseAdapterConfig({ method: 'dvpt', numClasses: 4, startLayer: 3 }, 'test');
    expect(() => trainableShapes(loaded.config, adapter)).toThrow(AdapterConfigError);
    expect(() => trainableShapes(loaded.config, adapter)).toThrow(/DVPT startLayer 3 does not exist in a backbone of depth 3/);
    expect(() => AdaptedViT.initialise(backbone, adapter)).toThrow(/startLayer 3/);
    expect(() => parseAdapterConfig({ method: 'dvpt', numClasses: 4, startLayer: -1 }, 'cfg.json')).toThrow(/cfg\.json.*startLayer/);
  });
});

describe('adapter files with startLayer', () => {
  const outDir = path.join(TEST_OUTPUT_DIR, 'model', 'prefix-adapter-file');
  const classNames = ['a', 'b', 'c', 'd'];

  async function save(dir: string, adapter: AdapterConfig, m: AdaptedViT) {
    return saveAdapterVersion(
      dir,
      { versionId: 'v1', adapter, classNames, backbone: { sha256: loaded.sha256, config: loaded.config } },
      await m.exportTensors(),
    );
  }

  it('round-trips startLayer and the tensors; a manifest without it reads as start 0', async () => {
    await rm(outDir, { recursive: true, force: true });
    const m = model({ method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 1, startLayer: 1 });
    const dir = path.join(outDir, 'late');
    await save(dir, m.adapter, m);
    const back = await loadAdapterVersion(dir, loaded);
    expect(back.manifest.adapter).toMatchObject({ method: 'dvpt', startLayer: 1, share: 1 });
    expect([...back.tensors.keys()].filter((k) => k.endsWith('.gate')).sort()).toEqual(['dvpt.modules.0.gate', 'dvpt.modules.1.gate']);
    const again = AdaptedViT.fromTensors(backbone, back.manifest.adapter, back.tensors, dir);
    expect(again.startLayer).toBe(1);
    const a = m.forward(images).logits;
    const b = again.forward(images).logits;
    expect(relativeError(b, a)).toBeLessThanOrEqual(1e-6);
    tf.dispose([a, b]);
    again.dispose();
    m.dispose();

    // Written before the option existed: no startLayer key, three modules for depth 3 and share 1.
    const old = model({ method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 1 });
    const oldDir = path.join(outDir, 'old');
    await save(oldDir, old.adapter, old);
    const json = JSON.parse(await readFile(path.join(oldDir, ADAPTER_MANIFEST_FILE), 'utf8'));
    expect('startLayer' in json.adapter).toBe(false);
    const oldBack = await loadAdapterVersion(oldDir, loaded);
    expect(AdaptedViT.fromTensors(backbone, oldBack.manifest.adapter, oldBack.tensors, oldDir).startLayer).toBe(0);
    old.dispose();
  });

  it('refuses a manifest whose startLayer does not fit the tensors or the backbone, naming the file', async () => {
    const m = model({ method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 1, startLayer: 1 });
    const dir = path.join(outDir, 'edited');
    await save(dir, m.adapter, m);
    const file = path.join(dir, ADAPTER_MANIFEST_FILE);
    const json = JSON.parse(await readFile(file, 'utf8'));
    json.adapter.startLayer = 0; // three modules expected, two stored
    await writeFile(file, JSON.stringify(json));
    await expect(loadAdapterVersion(dir, loaded)).rejects.toThrow(/adapter_model\.safetensors: missing tensor "dvpt\.modules\.2\.down\.weight"/);
    json.adapter.startLayer = 5;
    await writeFile(file, JSON.stringify(json));
    await expect(loadAdapterVersion(dir, loaded)).rejects.toThrow(/adapter_model\.safetensors: DVPT startLayer 5 does not exist in a backbone of depth 3/);
    m.dispose();
    await mkdir(outDir, { recursive: true });
  });
});
