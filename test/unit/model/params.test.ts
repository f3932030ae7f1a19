import { describe, expect, it } from 'vitest';
import { countTrainableParameters, parseAdapterConfig, trainableShapes } from '../../../core/model/adapter-config';
import { countBackboneParameters } from '../../../core/model/checkpoint';
import { vitConfigSchema } from '../../../core/model/config';

// Counts come from the configs alone: no ViT-B weights are allocated here.
const vitB16 = vitConfigSchema.parse({ imageSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 });
const head = (classes: number) => classes * 768 + classes;

describe('trainable parameter counts (METHODS.md)', () => {
  it('ViT-B/16 backbone has the 85.8M parameters of timm vit_base_patch16_224 without its head', () => {
    expect(countBackboneParameters(vitB16)).toBe(85_798_656);
  });

  it('linear probe trains only the head', () => {
    const adapter = parseAdapterConfig({ method: 'linear', numClasses: 5 }, 'test');
    expect(countTrainableParameters(vitB16, adapter)).toEqual({ total: head(5), adapter: 0, head: head(5) });
  });

  it('EPT-deep at 224 with P = 100: 12 · 197 · 100 = 236,400 + head', () => {
    const adapter = parseAdapterConfig({ method: 'ept', numClasses: 5, promptLength: 100 }, 'test');
    const counts = countTrainableParameters(vitB16, adapter);
    expect(counts.adapter).toBe(236_400);
    expect(counts.total).toBe(236_400 + head(5));
    expect(trainableShapes(vitB16, adapter).get('ept.layers.11.prompt')).toEqual([197, 100]);
  });

  it('EPT on chosen layers counts only those layers', () => {
    const adapter = parseAdapterConfig({ method: 'ept', numClasses: 2, promptLength: 10, layers: [0, 5] }, 'test');
    expect(countTrainableParameters(vitB16, adapter).adapter).toBe(2 * 197 * 10);
  });

  it('DVPT r = 64, M = 10, share = 3: 4 modules of 2rD + r + D + Mr + 1 = 99,777 each', () => {
    // METHODS.md prints 99,841 per module, 64 (= r) more than the tensors it lists
    // (down [r,D]+[r], prompts [M,r], up [D,r]+[D], gate [1]) and than the fixture files hold.
    const adapter = parseAdapterConfig({ method: 'dvpt', numClasses: 5 }, 'test');
    const shapes = trainableShapes(vitB16, adapter);
    expect([...shapes.keys()].filter((k) => k.endsWith('.gate'))).toEqual([0, 1, 2, 3].map((m) => `dvpt.modules.${m}.gate`));
    const counts = countTrainableParameters(vitB16, adapter);
    expect(counts.adapter).toBe(4 * (2 * 64 * 768 + 64 + 768 + 10 * 64 + 1));
    expect(counts.adapter).toBe(4 * 99_777);
    expect(counts.total).toBe(4 * 99_777 + head(5));
  });

  it('DVPT module count is ⌈depth / share⌉', () => {
    const adapter = parseAdapterConfig({ method: 'dvpt', numClasses: 3, share: 5 }, 'test');
    const modules = [...trainableShapes(vitB16, adapter).keys()].filter((k) => k.endsWith('.gate'));
    expect(modules).toHaveLength(3);
  });

  it('rejects a bad adapter config with the offending key', () => {
    expect(() => parseAdapterConfig({ method: 'ept', numClasses: 0 }, 'cfg.json')).toThrow(/cfg\.json.*numClasses/);
    expect(() => parseAdapterConfig({ method: 'ia3', numClasses: 2 }, 'cfg.json')).toThrow(/cfg\.json.*method/);
  });
});
