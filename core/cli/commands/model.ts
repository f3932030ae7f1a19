import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { positiveInt } from '../common';
import { countBackboneParameters, loadBackboneFile, type LoadedBackbone } from '../../model/checkpoint';
import { numTokens } from '../../model/config';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, describeBackend, initBackend } from '../../model/backend';
import { nativeBlas } from '../../model/native-blas';
import { fastWasmKernelsInstalled } from '../../model/wasm-kernels';
import { defaultReplicaCount } from '../../train/replica-pool';
import { formatParityRow, GRADIENT_TOLERANCE, OUTPUT_TOLERANCE, runParityCheck } from '../../model/parity';

/** Errors from our model modules are expected failures (bad files, bad configs): report them plainly. */
const EXPECTED_ERRORS = new Set([
  'SafetensorsError',
  'CheckpointError',
  'ModelConfigError',
  'AdapterConfigError',
  'AdapterTensorError',
  'ParityFixtureError',
  'BackendError',
]);

function asCliError(err: unknown): unknown {
  if (err instanceof Error && EXPECTED_ERRORS.has(err.name)) return new CliError(err.message);
  if (err instanceof SyntaxError) return new CliError(err.message);
  return err;
}

function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function infoSummary(loaded: LoadedBackbone) {
  return {
    file: loaded.filePath,
    sha256: loaded.sha256,
    naming: loaded.naming,
    configSource: loaded.configSource,
    headsFrom: loaded.headsFrom,
    assumptions: loaded.assumptions,
    config: loaded.config,
    tokens: numTokens(loaded.config),
    parameters: countBackboneParameters(loaded.config),
    resizedPosEmbedFromGrid: loaded.resizedPosEmbedFrom ?? null,
  };
}

/** `medtune model ...`: backbone inspection and the parity check against reference fixtures. */
export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('Inspect backbones and check model parity fixtures');

  model
    .command('info')
    .description('Print the inferred config, parameter count and SHA-256 of a backbone .safetensors')
    .argument('<file>', 'backbone weights (.safetensors, timm or Hugging Face names)')
    .option('--image-size <pixels>', 'input size to build for (position embeddings are resized)', (v) => Number.parseInt(v, 10))
    .option('--heads <n>', 'attention heads, for weights without a config whose width is not a known ViT', positiveInt('heads'))
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean; imageSize?: number; heads?: number }) => {
      if (opts.imageSize !== undefined && !(opts.imageSize > 0)) throw new CliError('--image-size must be a positive integer', 2);
      let loaded: LoadedBackbone;
      try {
        loaded = await loadBackboneFile(file, { imageSize: opts.imageSize, numHeads: opts.heads });
      } catch (err) {
        throw asCliError(err);
      }
      const info = infoSummary(loaded);
      if (opts.json) {
        print(JSON.stringify(info, null, 2));
        return;
      }
      const c = info.config;
      print(`file:        ${info.file}`);
      print(`sha256:      ${info.sha256}`);
      print(`naming:      ${info.naming}`);
      print(`config:      ${info.configSource}`);
      print(`heads:       ${info.config.numHeads}, from ${info.headsFrom}`);
      for (const a of info.assumptions) print(`  assumed:   ${a}`);
      print(
        `architecture: ViT ${c.imageSize}px, patch ${c.patchSize}, width ${c.embedDim}, depth ${c.depth}, heads ${c.numHeads}, ` +
          `mlp ×${c.mlpRatio}, qkv bias ${c.qkvBias}, LayerNorm eps ${c.layerNormEps}, pool ${c.pool}`,
      );
      print(`tokens:      ${info.tokens} (1 CLS + ${info.tokens - 1} patches)`);
      if (info.resizedPosEmbedFromGrid) print(`pos_embed:   resized bicubically from a ${info.resizedPosEmbedFromGrid}² grid`);
      print(`parameters:  ${info.parameters.toLocaleString('en-US')}`);
    });

  model
    .command('backend')
    .description('Print the TensorFlow.js backend MedTune would use here, why, and how training would use the cores')
    .option('--backend <name>', `force one (${BACKEND_NAMES.join(', ')}), as MEDTUNE_BACKEND does`)
    .option('--json', 'print JSON')
    .action(async (opts: { backend?: string; json?: boolean }) => {
      let choice;
      try {
        choice = await initBackend({ force: opts.backend });
      } catch (err) {
        throw asCliError(err);
      }
      let replicas: number | string;
      try {
        replicas = defaultReplicaCount(choice.name);
      } catch (err) {
        replicas = (err as Error).message;
      }
      const info = {
        backend: choice.name,
        reason: choice.reason,
        tfBackend: tf.getBackend(),
        fastWasmKernels: choice.name === 'wasm' ? fastWasmKernelsInstalled() : undefined,
        matmul: choice.name === 'wasm' ? (choice.matmul ?? `XNNPACK (${nativeBlas().why || 'native sgemm off'})`) : undefined,
        adapter: choice.adapter,
        trainingReplicas: replicas,
      };
      if (opts.json) {
        print(JSON.stringify(info, null, 2));
        return;
      }
      print(`backend:   ${describeBackend(choice)}`);
      if (choice.adapter) {
        const a = choice.adapter;
        print(`gpu:       ${a.description || a.device || 'unnamed'} (vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'})`);
        print(`           ${a.software ? 'software fallback: runs on the CPU, slower than wasm (for tests only)' : 'hardware adapter'}`);
      }
      if (info.fastWasmKernels !== undefined) print(`kernels:   ${info.fastWasmKernels ? "MedTune's wasm matMul/slice kernels" : "tfjs's stock wasm kernels (MEDTUNE_WASM_KERNELS=stock)"}`);
      if (info.matmul) print(`matmul:    ${info.matmul}`);
      print(`training:  ${typeof replicas === 'number' ? (replicas >= 2 ? `${replicas} data-parallel replicas (one per core)` : choice.adapter || choice.name === 'node-gpu' ? 'one process on the GPU (no replicas)' : 'one thread') : replicas}`);
    });

  model
    .command('check-fixtures')
    .description('Compare features, logits, loss, block outputs and gradients against reference fixtures')
    .argument('<dir>', 'folder laid out like shared/fixtures/parity')
    .option('--backend <name>', `tfjs backend (${BACKEND_NAMES.join(', ')}); default: the best available`)
    .action(async (dir: string, opts: { backend?: string }) => {
      try {
        await initBackend({ force: opts.backend });
      } catch (err) {
        throw asCliError(err);
      }
      print(`backend: ${describeBackend()}`);
      let rows;
      try {
        rows = await runParityCheck(dir, (row) => print(formatParityRow(row)));
      } catch (err) {
        throw asCliError(err);
      }
      const failed = rows.filter((r) => !r.pass).length;
      print(
        `${rows.length - failed}/${rows.length} tensors within tolerance ` +
          `(outputs ≤ ${OUTPUT_TOLERANCE}, gradients ≤ ${GRADIENT_TOLERANCE}) on ${describeBackend()}`,
      );
      if (failed > 0) throw new CliError(`${failed} of ${rows.length} tensors outside tolerance`);
    });
}
