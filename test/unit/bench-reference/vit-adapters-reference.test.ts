import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PARITY_DIR, REPO_ROOT, TEST_OUTPUT_DIR } from '../../helpers/paths';

// The PyTorch reference runs under Debian's interpreter (python3-torch); where it is not installed
// the later `npm run bench:train` reports PyTorch as missing, so these tests are skipped too.
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(REPO_ROOT, 'bench', 'reference', 'vit_adapters.py');
const torchAvailable = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const outDir = path.join(TEST_OUTPUT_DIR, 'bench-reference');

interface PhaseTiming {
  medianMs: number;
  imagesPerSec: number;
}
interface BenchResult {
  framework: string;
  threads: number;
  tokens: number;
  adaptedLayers: number[];
  trainableParams: number;
  peakRssMb: number;
  prefix: PhaseTiming;
  train: PhaseTiming;
  inference: PhaseTiming;
}

function runReference(args: string[]) {
  const result = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function copyFixtures(name: string): Promise<string> {
  const dir = path.join(outDir, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await cp(PARITY_DIR, dir, { recursive: true });
  return dir;
}

describe.skipIf(!torchAvailable)('PyTorch reference (bench/reference/vit_adapters.py)', () => {
  beforeAll(async () => {
    await mkdir(outDir, { recursive: true });
  });

  it('reproduces every tensor of the parity fixtures', () => {
    const { status, stdout } = runReference(['check-fixtures', PARITY_DIR]);
    expect(stdout).toContain('PASS: 0 mismatch(es)');
    expect(status).toBe(0);
    // 7 outputs per method plus the gradient of every trainable tensor (2 head + 3 EPT + 12 DVPT).
    const checked = stdout.split('\n').filter((line) => / (ok|MISMATCH)$/.test(line));
    expect(checked.filter((line) => line.startsWith('linear '))).toHaveLength(7);
    expect(checked.filter((line) => line.startsWith('ept '))).toHaveLength(10);
    expect(checked.filter((line) => line.startsWith('dvpt '))).toHaveLength(19);
  });

  it('reports a mismatch when the backbone config is wrong (tfjs default LayerNorm eps)', async () => {
    const dir = await copyFixtures('wrong-eps');
    const configPath = path.join(dir, 'backbone.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    await writeFile(configPath, JSON.stringify({ ...config, layerNormEps: 1e-3 }));
    const { status, stdout } = runReference(['check-fixtures', dir]);
    expect(status).toBe(1);
    expect(stdout).toMatch(/^ept features .* MISMATCH$/m);
    expect(stdout).toContain('FAIL:');
  });

  it('names the file and the reason for a truncated safetensors file', async () => {
    const dir = await copyFixtures('truncated');
    const adapterPath = path.join(dir, 'adapter-ept.safetensors');
    const bytes = await readFile(adapterPath);
    await writeFile(adapterPath, bytes.subarray(0, bytes.length - 100));
    const { status, stderr } = runReference(['check-fixtures', dir]);
    expect(status).toBe(2);
    expect(stderr).toContain(adapterPath);
    expect(stderr).toContain('data_offsets');
  });

  it('bench prints one JSON object with timings and the adapter size', () => {
    // A 32-pixel image keeps this to seconds; the numbers themselves are not asserted.
    const { status, stdout, stderr } = runReference([
      'bench', '--model', 'vit-tiny', '--method', 'ept', '--image-size', '32', '--batch', '2',
      '--steps', '1', '--warmup', '0', '--threads', '1', '--prefix-cache', '10', '--json',
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const result = JSON.parse(stdout) as BenchResult;
    expect(result.framework).toBe('pytorch');
    expect(result.threads).toBe(1);
    expect(result.tokens).toBe(5);
    expect(result.adaptedLayers).toEqual([10, 11]);
    // 2 prompted layers x 5 tokens x 100 prompts + head 5 x 192 + 5
    expect(result.trainableParams).toBe(2 * 5 * 100 + 965);
    for (const phase of [result.prefix, result.train, result.inference]) {
      expect(phase.medianMs).toBeGreaterThan(0);
      expect(phase.imagesPerSec).toBeGreaterThan(0);
    }
    expect(result.peakRssMb).toBeGreaterThan(0);
  });

  it('rejects a prefix cache beyond the depth with a clear message', () => {
    const { status, stderr } = runReference(['bench', '--image-size', '32', '--prefix-cache', '13', '--steps', '1']);
    expect(status).toBe(2);
    expect(stderr).toContain('--prefix-cache 13');
  });
});
