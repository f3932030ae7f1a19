import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAdapterConfig, trainableShapes } from '../../../core/model/adapter-config';
import { initBackend } from '../../../core/model/backend';
import { vitConfigSchema } from '../../../core/model/config';
import { runParityCheck, type ParityRow } from '../../../core/model/parity';
import { randomBackboneWeights } from '../../../core/model/random-weights';
import { readSafetensorsFile, serializeSafetensors, type NamedTensorData } from '../../../core/model/safetensors';
import { REPO_ROOT, TEST_OUTPUT_DIR } from '../../helpers/paths';
import { webgpuOrReason } from '../model/webgpu-swiftshader';

// LoRA against the PyTorch reference: a small random backbone and a LoRA adapter whose B is non-zero
// (at B = 0 the adapter would be invisible in the outputs and A would get no gradient). The
// reference writes expected-lora.safetensors in float64; MedTune's parity check then compares.
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(REPO_ROOT, 'bench', 'reference', 'vit_adapters.py');
const torchAvailable = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const dir = path.join(TEST_OUTPUT_DIR, 'bench-reference', 'lora-fixture');
// WebGPU too where Dawn finds an adapter (SwiftShader here and in CI): issue 20 asks LoRA's parity there as well.
const webgpu = torchAvailable ? await webgpuOrReason() : 'no torch';
const BACKENDS = ['cpu', 'wasm', ...(typeof webgpu === 'string' ? [] : ['webgpu'])];

// Depth 4, width 32, 2 heads, 17 tokens; LoRA in blocks 0 and 2 only, so block 1 and 3 must stay plain.
const backboneConfig = vitConfigSchema.parse({ imageSize: 32, patchSize: 8, embedDim: 32, depth: 4, numHeads: 2, qkvBias: true });
const adapterJson = { method: 'lora', rank: 4, alpha: 6, layers: [0, 2], numClasses: 3, task: 'multiclass' };
const OUTPUTS = ['features', 'logits', 'loss', 'block0_output', 'last_block_output'];

async function writeFixture(): Promise<string[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // Weights ×10 (std 0.2): attention far from uniform, so the qkv update really changes the outputs.
  const weights = randomBackboneWeights(backboneConfig, 7);
  for (const [name, t] of weights) if (!/norm\d?\./.test(name)) t.data.forEach((v, i) => (t.data[i] = v * 10));
  await writeFile(path.join(dir, 'backbone-timm.safetensors'), serializeSafetensors(weights));
  await writeFile(path.join(dir, 'backbone.json'), JSON.stringify(backboneConfig));
  const adapter = parseAdapterConfig(adapterJson, 'lora fixture');
  const tensors = new Map<string, NamedTensorData>();
  let seed = 11;
  for (const [name, shape] of trainableShapes(backboneConfig, adapter)) {
    const values = tf.tidy(() => tf.randomUniform(shape, -0.5, 0.5, 'float32', seed++).dataSync() as Float32Array);
    tensors.set(name, { shape, data: Float32Array.from(values) });
  }
  await writeFile(path.join(dir, 'adapter-lora.safetensors'), serializeSafetensors(tensors));
  await writeFile(path.join(dir, 'adapter-lora.json'), JSON.stringify(adapterJson));
  return [...tensors.keys()].map((n) => `grad.${n}`);
}

describe.skipIf(!torchAvailable)('LoRA matches the PyTorch reference', () => {
  let gradNames: string[];
  beforeAll(async () => {
    await initBackend({ force: 'cpu' });
    gradNames = await writeFixture();
    const made = spawnSync(PYTHON, [SCRIPT, 'make-expected', dir, '--method', 'lora', '--batch', '3', '--seed', '5'], { encoding: 'utf8', timeout: 120_000 });
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
  });

  it('the fixture exercises LoRA: A, B and the head all have gradients; only blocks 0 and 2 are adapted', async () => {
    expect(gradNames.sort()).toEqual(
      ['grad.head.bias', 'grad.head.weight', 'grad.lora.blocks.0.qkv.A', 'grad.lora.blocks.0.qkv.B', 'grad.lora.blocks.2.qkv.A', 'grad.lora.blocks.2.qkv.B'],
    );
    const expected = (await readSafetensorsFile(path.join(dir, 'expected-lora.safetensors'))).tensors;
    for (const name of gradNames) {
      const g = expected.get(name)!;
      expect(Math.hypot(...g.data), name).toBeGreaterThan(1e-6);
    }
  });

  it('the reference reproduces its own fixture in float32 (check-fixtures)', () => {
    const { status, stdout } = spawnSync(PYTHON, [SCRIPT, 'check-fixtures', dir], { encoding: 'utf8', timeout: 120_000 });
    expect(stdout).toContain('PASS: 0 mismatch(es)');
    expect(stdout.split('\n').filter((l) => /^lora .* ok$/.test(l))).toHaveLength(OUTPUTS.length + gradNames.length);
    expect(status).toBe(0);
  });

  it.each(BACKENDS)('MedTune on %s: outputs ≤ 1e-4, gradients ≤ 1e-3 (relative)', async (backend) => {
    await initBackend({ force: backend });
    const rows: ParityRow[] = await runParityCheck(dir);
    expect(rows.map((r) => r.tensor).sort()).toEqual([...OUTPUTS, ...gradNames].sort());
    for (const row of rows) {
      expect(row.method).toBe('lora');
      expect(row.relativeError, `${row.tensor}${row.note ? ` (${row.note})` : ''}`).toBeLessThanOrEqual(row.tensor.startsWith('grad.') ? 1e-3 : 1e-4);
      expect(row.pass).toBe(true);
    }
  });
});
