import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_VERSION } from '../../../core/app-info';
import { parseAdapterConfig } from '../../../core/model/adapter-config';
import {
  ADAPTER_MANIFEST_FILE,
  ADAPTER_WEIGHTS_FILE,
  loadAdapterVersion,
  readAdapterManifest,
  saveAdapterVersion,
} from '../../../core/model/adapter-file';
import { loadBackboneFile, type LoadedBackbone } from '../../../core/model/checkpoint';
import { readSafetensorsFile, type NamedTensorData } from '../../../core/model/safetensors';
import { PARITY_DIR, TEST_OUTPUT_DIR } from '../../helpers/paths';

const outDir = path.join(TEST_OUTPUT_DIR, 'model', 'adapter-file');
let backbone: LoadedBackbone;
let tensors: Map<string, NamedTensorData>;
const adapter = parseAdapterConfig({ method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2, numClasses: 5, task: 'ordinal' }, 'test');
const classNames = ['none', 'mild', 'moderate', 'severe', 'proliferative'];

beforeAll(async () => {
  await rm(outDir, { recursive: true, force: true });
  backbone = await loadBackboneFile(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
  tensors = (await readSafetensorsFile(path.join(PARITY_DIR, 'adapter-dvpt.safetensors'))).tensors;
});

async function saveVersion(dir: string) {
  return saveAdapterVersion(
    dir,
    {
      versionId: 'v2',
      parentVersionId: 'v1',
      adapter,
      classNames,
      backbone: { sha256: backbone.sha256, config: backbone.config },
      metrics: { kappa: 0.71, accuracy: 0.64 },
      trainingSet: { items: 120, labelRevision: 7 },
      createdAt: new Date('2026-01-02T03:04:05Z'),
    },
    tensors,
  );
}

describe('adapter files', () => {
  it('round-trips tensors and the manifest', async () => {
    const dir = path.join(outDir, 'roundtrip');
    const saved = await saveVersion(dir);
    expect(saved).toMatchObject({ method: 'dvpt', parentVersionId: 'v1', appVersion: APP_VERSION, createdAt: '2026-01-02T03:04:05.000Z' });
    const json = JSON.parse(await readFile(path.join(dir, ADAPTER_MANIFEST_FILE), 'utf8'));
    expect(json.labelSchema).toEqual({ task: 'ordinal', classNames });
    expect(json.backbone).toMatchObject({ sha256: backbone.sha256, tokens: 17, config: { embedDim: 48 } });

    const loaded = await loadAdapterVersion(dir, backbone);
    expect(loaded.manifest).toEqual(saved);
    expect([...loaded.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) {
      expect(loaded.tensors.get(name)!.shape, name).toEqual(t.shape);
      expect(Array.from(loaded.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
    }
  });

  it('refuses another backbone, naming the hash', async () => {
    const dir = path.join(outDir, 'hash');
    await saveVersion(dir);
    const other = { sha256: 'f'.repeat(64), config: backbone.config };
    await expect(loadAdapterVersion(dir, other)).rejects.toThrow(/backbone hash mismatch/);
    await expect(loadAdapterVersion(dir, other)).rejects.not.toThrow(/token count/);
  });

  it('refuses another token count, naming it', async () => {
    const dir = path.join(outDir, 'tokens');
    await saveVersion(dir);
    const resized = { sha256: backbone.sha256, config: { ...backbone.config, imageSize: 48 } };
    await expect(loadAdapterVersion(dir, resized)).rejects.toThrow(/token count mismatch: the adapter expects 17 tokens .* the backbone gives 37/);
    await expect(loadAdapterVersion(dir, resized)).rejects.not.toThrow(/hash/);
  });

  it('refuses inconsistent input and damaged files with the file named', async () => {
    await expect(
      saveAdapterVersion(
        path.join(outDir, 'bad'),
        { versionId: 'x', adapter, classNames: ['a', 'b'], backbone: { sha256: backbone.sha256, config: backbone.config } },
        tensors,
      ),
    ).rejects.toThrow(/2 class names but the head has 5 classes/);

    const missingTensor = new Map(tensors);
    missingTensor.delete('dvpt.modules.1.gate');
    await expect(
      saveAdapterVersion(path.join(outDir, 'bad'), { versionId: 'x', adapter, classNames, backbone }, missingTensor),
    ).rejects.toThrow(/missing tensor "dvpt\.modules\.1\.gate"/);

    const dir = path.join(outDir, 'damaged');
    await saveVersion(dir);
    await writeFile(path.join(dir, ADAPTER_WEIGHTS_FILE), new Uint8Array(3));
    await expect(loadAdapterVersion(dir, backbone)).rejects.toThrow(new RegExp(`${ADAPTER_WEIGHTS_FILE}: file is shorter`));
    await writeFile(path.join(dir, ADAPTER_MANIFEST_FILE), '{"format": "medtune-adapter"');
    await expect(readAdapterManifest(dir)).rejects.toThrow(/adapter_config\.json: not valid JSON/);
    await mkdir(path.join(outDir, 'empty'), { recursive: true });
    await expect(readAdapterManifest(path.join(outDir, 'empty'))).rejects.toThrow(/adapter_config\.json: cannot read \(ENOENT\)/);
  });
});
