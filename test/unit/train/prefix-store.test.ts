import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HALF_NORMALIZATION, IMAGENET_NORMALIZATION } from '../../../core/imaging/model-input';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { loadBackboneFile } from '../../../core/model/checkpoint';
import { AdaptedViT } from '../../../core/model/model';
import { halfToFloat } from '../../../core/model/safetensors';
import { ViTBackbone } from '../../../core/model/vit';
import { PrefixCache } from '../../../core/train/prefix-cache';
import { float16ToFloat32, float32ToFloat16, floatToHalf, PrefixStore, prefixStoreBudgetBytes, roundToFloat16, type PrefixStoreKey } from '../../../core/train/prefix-store';
import { seededRandom } from '../../../core/util/prng';
import { PARITY_DIR } from '../../helpers/paths';
import { colourSamples } from '../../helpers/samples';

describe('float16 conversion', () => {
  it('gives back every binary16 value exactly (all 65536 bit patterns, NaN stays NaN)', () => {
    for (let h = 0; h < 65536; h++) {
      const v = halfToFloat(h);
      if (Number.isNaN(v)) expect(Number.isNaN(halfToFloat(floatToHalf(v)))).toBe(true);
      else expect(floatToHalf(v)).toBe(h);
    }
  });

  it('rounds a value half-way between two halves to the even one, and anything else to the nearer', () => {
    // 1 + 2^-11 lies half-way between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01).
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^-11 lies half-way between 0x3c01 (odd) and 0x3c02 (even).
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalf(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    // Subnormals: half of the smallest goes to 0, a bit more to the smallest; 1.5× the smallest ties to 2×.
    expect(floatToHalf(2 ** -25)).toBe(0);
    expect(floatToHalf(2 ** -25 * 1.0001)).toBe(1);
    expect(floatToHalf(1.5 * 2 ** -24)).toBe(2);
    expect(floatToHalf(-1.5 * 2 ** -24)).toBe(0x8002);
    // Largest finite half is 65504; from 65520 (half-way to 2^16) it rounds to Inf.
    expect(floatToHalf(65519)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(-1e6)).toBe(0xfc00);
    // A mantissa carry moves to the next exponent: just under 2 rounds up to 2.
    expect(floatToHalf(2 - 2 ** -12)).toBe(0x4000);
  });

  it('picks the nearest half for random values over many magnitudes', () => {
    const random = seededRandom('f16');
    const values = Float32Array.from({ length: 20000 }, () => (random() - 0.5) * 2 ** Math.floor(random() * 40 - 26));
    const halves = float32ToFloat16(values);
    const back = float16ToFloat32(halves);
    values.forEach((v, i) => {
      const h = halves[i];
      const err = Math.abs(v - back[i]);
      // Neighbours on either side (same sign) are no nearer.
      for (const n of [h - 1, h + 1]) {
        if ((n & 0x7fff) > 0x7bff || (n & 0x8000) !== (h & 0x8000)) continue;
        expect(err).toBeLessThanOrEqual(Math.abs(v - halfToFloat(n)));
      }
    });
    expect(roundToFloat16(values)).toEqual(back);
  });
});

describe('PrefixStore: frozen-prefix tokens on disk across runs', () => {
  const S = 32;
  let backbone: ViTBackbone;
  let tmp: string;
  const inputs = colourSamples(9, 'store', S).map((s) => s.input);

  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
    const loaded = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    backbone = new ViTBackbone(loaded.config, loaded.weights);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-prefix-store-'));
  });

  afterAll(() => {
    backbone?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const model = (startLayer: number) =>
    AdaptedViT.initialise(backbone, parseAdapterConfig({ method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 1, startLayer, numClasses: 3, task: 'multiclass' }, 'test'), 1);
  const keyOf = (m: AdaptedViT, overrides: Partial<PrefixStoreKey['preprocessing']> & { sha?: string } = {}): PrefixStoreKey => {
    const { sha, ...pre } = overrides;
    return {
      backboneSha256: sha ?? 'a'.repeat(64),
      startLayer: m.startLayer,
      preprocessing: { size: S, aspect: 'letterbox', fundusFov: false, normalization: HALF_NORMALIZATION, ...pre },
      rowsPerImage: m.prefixRowsPerImage,
      width: m.backbone.config.embedDim,
    };
  };
  const build = (m: AdaptedViT, store: PrefixStore | null, list = inputs) => PrefixCache.build(m, list, { size: S, normalization: HALF_NORMALIZATION, batchSize: 4, store });

  it('a second build reads every entry from disk and gives the float16-rounded tokens of the first', async () => {
    const m = model(2);
    const root = path.join(tmp, 'a');
    const plain = await build(m, null);
    const first = await build(m, new PrefixStore(root, keyOf(m)));
    expect(first.fromDisk).toBe(0);
    const second = await build(m, new PrefixStore(root, keyOf(m)));
    expect(second.fromDisk).toBe(inputs.length);
    const exact = plain.tokenData(inputs);
    const rounded = roundToFloat16(exact);
    expect(Array.from(rounded).some((v, i) => v !== exact[i])).toBe(true); // the rounding is real
    expect(first.tokenData(inputs)).toEqual(rounded);
    expect(second.tokenData(inputs)).toEqual(rounded);
    // One file per image, float16: rows × width × 2 bytes.
    const store = new PrefixStore(root, keyOf(m));
    const files = fs.readdirSync(store.dir, { recursive: true }).filter((f) => String(f).endsWith('.f16'));
    expect(files).toHaveLength(inputs.length);
    expect(fs.statSync(path.join(store.dir, String(files[0]))).size).toBe(m.prefixRowsPerImage * 48 * 2);
    m.dispose();
  });

  it('computes only the images not yet stored (a run with a few new labels)', async () => {
    const m = model(2);
    const root = path.join(tmp, 'b');
    await build(m, new PrefixStore(root, keyOf(m)), inputs.slice(0, 6));
    const store = new PrefixStore(root, keyOf(m));
    const cache = await build(m, store);
    expect(cache.fromDisk).toBe(6);
    expect(store.writes).toBe(3);
    expect(cache.size).toBe(inputs.length);
    m.dispose();
  });

  it('misses when the backbone, the start layer or the preprocessing changes', async () => {
    const m = model(2);
    const root = path.join(tmp, 'c');
    await build(m, new PrefixStore(root, keyOf(m)));
    expect((await build(m, new PrefixStore(root, keyOf(m)))).fromDisk).toBe(inputs.length);
    for (const changed of [{ sha: 'b'.repeat(64) }, { size: 64 }, { aspect: 'crop' }, { fundusFov: true }, { intensity: 'stretch' }, { normalization: IMAGENET_NORMALIZATION }]) {
      expect((await build(m, new PrefixStore(root, keyOf(m, changed)))).fromDisk).toBe(0);
    }
    m.dispose();
    const later = model(1);
    expect((await build(later, new PrefixStore(root, keyOf(later)))).fromDisk).toBe(0);
    // A store whose key does not describe the model is refused rather than mixed in.
    await expect(build(later, new PrefixStore(root, keyOf(m)))).rejects.toThrow(/does not match the model/);
    later.dispose();
  });

  it('treats a truncated entry as absent and replaces it', async () => {
    const m = model(2);
    const root = path.join(tmp, 'd');
    await build(m, new PrefixStore(root, keyOf(m)), inputs.slice(0, 2));
    const store = new PrefixStore(root, keyOf(m));
    const file = fs.readdirSync(store.dir, { recursive: true }).map(String).find((f) => f.endsWith('.f16'))!;
    fs.truncateSync(path.join(store.dir, file), 10);
    const cache = await build(m, store, inputs.slice(0, 2));
    expect(cache.fromDisk).toBe(1);
    expect(store.writes).toBe(1);
    expect(fs.statSync(path.join(store.dir, file)).size).toBe(m.prefixRowsPerImage * 48 * 2);
    m.dispose();
  });

  it('keeps no more than its disk budget (over every key): the rest is computed, used, and not stored', async () => {
    const m = model(2);
    const root = path.join(tmp, 'budget');
    const perImage = m.prefixRowsPerImage * 48 * 2;
    // Another key already holds one entry; the budget leaves room for two more.
    await build(m, new PrefixStore(root, keyOf(m, { size: 64 })), inputs.slice(0, 1));
    const store = new PrefixStore(root, keyOf(m), { maxBytes: 3 * perImage });
    const cache = await build(m, store, inputs.slice(0, 4));
    expect(cache.size).toBe(4);
    expect([store.writes, store.skipped]).toEqual([2, 2]);
    expect((await build(m, new PrefixStore(root, keyOf(m), { maxBytes: 3 * perImage }), inputs.slice(0, 4))).fromDisk).toBe(2);
    expect(prefixStoreBudgetBytes({ MEDTUNE_PREFIX_STORE_MB: '10' })).toBe(10 * 2 ** 20);
    expect(prefixStoreBudgetBytes({})).toBe(4096 * 2 ** 20);
    expect(() => prefixStoreBudgetBytes({ MEDTUNE_PREFIX_STORE_MB: 'lots' })).toThrow(/MEDTUNE_PREFIX_STORE_MB/);
    m.dispose();
  });
});
