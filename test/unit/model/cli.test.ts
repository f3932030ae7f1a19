import { copyFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../../core/cli/cli-error';
import { registerModelCommands } from '../../../core/cli/commands/model';
import { readSafetensorsFile, writeSafetensorsFile } from '../../../core/model/safetensors';
import { nativeBlas } from '../../../core/model/native-blas';
import { PARITY_DIR, TEST_OUTPUT_DIR } from '../../helpers/paths';

async function runModelCli(args: string[]): Promise<{ stdout: string; error?: unknown }> {
  const program = new Command('medtune').exitOverride();
  registerModelCommands(program);
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { stdout };
  } catch (error) {
    return { stdout, error };
  } finally {
    spy.mockRestore();
  }
}

describe('medtune model CLI', () => {
  afterEach(() => vi.restoreAllMocks());

  it('check-fixtures passes on the shared fixtures and prints one line per tensor', async () => {
    const { stdout, error } = await runModelCli(['model', 'check-fixtures', PARITY_DIR, '--backend', 'wasm']);
    expect(error).toBeUndefined();
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^backend: wasm/);
    expect(lines.filter((l) => l.startsWith('PASS'))).toHaveLength(72);
    expect(lines.at(-1)).toMatch(/^72\/72 tensors within tolerance/);
  });

  it('backend says which backend, why, and how training uses the cores', async () => {
    const saved = process.env.MEDTUNE_TRAIN_REPLICAS;
    try {
      process.env.MEDTUNE_TRAIN_REPLICAS = '3';
      const { stdout, error } = await runModelCli(['model', 'backend', '--backend', 'wasm', '--json']);
      expect(error).toBeUndefined();
      expect(JSON.parse(stdout)).toMatchObject({ backend: 'wasm', reason: 'chosen explicitly', tfBackend: 'wasm', fastWasmKernels: true, trainingReplicas: 3 });
      process.env.MEDTUNE_TRAIN_REPLICAS = 'many';
      const text = await runModelCli(['model', 'backend', '--backend', 'wasm']);
      expect(text.stdout).toMatch(/^backend: +wasm( with OpenBLAS sgemm \(\w+\))? \(chosen explicitly\)/);
      // The matrix products: OpenBLAS when native/blas is built, else XNNPACK with the reason.
      expect(text.stdout).toMatch(nativeBlas().blas ? /matmul: +OpenBLAS sgemm \(\w+\)/ : /matmul: +XNNPACK \(native\/blas is not built/);
      expect(text.stdout).toMatch(/training: +MEDTUNE_TRAIN_REPLICAS must be a whole number/);
    } finally {
      if (saved === undefined) delete process.env.MEDTUNE_TRAIN_REPLICAS;
      else process.env.MEDTUNE_TRAIN_REPLICAS = saved;
    }
  });

  it('check-fixtures fails, naming the tensor, when a reference is perturbed', async () => {
    const dir = path.join(TEST_OUTPUT_DIR, 'model', 'perturbed-fixtures');
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(PARITY_DIR)) await copyFile(path.join(PARITY_DIR, name), path.join(dir, name));
    const expected = (await readSafetensorsFile(path.join(PARITY_DIR, 'expected-linear.safetensors'))).tensors;
    expected.get('logits')!.data[0] += 1;
    await writeSafetensorsFile(path.join(dir, 'expected-linear.safetensors'), expected);
    const { stdout, error } = await runModelCli(['model', 'check-fixtures', dir, '--backend', 'cpu']);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe('2 of 72 tensors outside tolerance');
    expect(stdout).toMatch(/FAIL {2}linear backbone-timm\.safetensors +logits/);
  });

  it('info --json prints config, parameter count and SHA-256; bad files are CliErrors', async () => {
    const { stdout, error } = await runModelCli(['model', 'info', path.join(PARITY_DIR, 'backbone-hf.safetensors'), '--json']);
    expect(error).toBeUndefined();
    const info = JSON.parse(stdout);
    expect(info).toMatchObject({ naming: 'hf', tokens: 17, parameters: 95_040, config: { embedDim: 48, numHeads: 3 } });
    expect(info.sha256).toMatch(/^[0-9a-f]{64}$/);
    const missing = await runModelCli(['model', 'info', path.join(PARITY_DIR, 'nope.safetensors')]);
    expect(missing.error).toBeInstanceOf(CliError);
    expect((missing.error as Error).message).toMatch(/nope\.safetensors: cannot read file \(ENOENT\)/);
  });
});
