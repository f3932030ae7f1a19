import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadBackboneFile, type LoadedBackbone } from '../../model/checkpoint';
import { CliError } from '../cli-error';
import { int, oneOf, positiveInt, withWorkspace } from '../common';

/** Model-layer errors are expected failures (bad files, configs): reported plainly. */
const EXPECTED_ERRORS = new Set(['SafetensorsError', 'CheckpointError', 'ModelConfigError']);

/** `medtune backbone add|list`. */
export function registerBackboneCommands(program: Command): void {
  const backbone = program.command('backbone').description('Backbones (frozen ViTs) of a workspace');
  backbone
    .command('add <file>')
    .description('Import a ViT .safetensors (timm or Hugging Face names) into the workspace')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .option('--name <name>', 'name (default: the file name)')
    .option('--normalization <kind>', 'input normalisation of its pretraining: imagenet or half', oneOf('normalization', ['imagenet', 'half'] as const), 'imagenet')
    .option('--image-size <n>', 'run at another input size (position embeddings are resized)', int('image size'))
    .option('--heads <n>', 'attention heads, for weights without a config whose width is not a known ViT (the weights do not store it)', positiveInt('heads'))
    .action(async (file: string, opts: { workspace: string; name?: string; normalization: string; imageSize?: number; heads?: number }) => {
      let loaded: LoadedBackbone;
      try {
        loaded = await loadBackboneFile(file, { imageSize: opts.imageSize, numHeads: opts.heads });
      } catch (err) {
        if (err instanceof Error && EXPECTED_ERRORS.has(err.name)) throw new CliError(err.message);
        throw err;
      }
      withWorkspace(opts.workspace, (ws) => {
        const b = ws.versions.addBackbone({
          name: opts.name ?? path.basename(file).replace(/\.safetensors$/, ''),
          arch: 'vit',
          config: { ...loaded.config, normalization: opts.normalization },
          weights: fs.readFileSync(file),
        });
        process.stdout.write(`added backbone ${b.name} (id ${b.id}): ${JSON.stringify(loaded.config)} sha256 ${loaded.sha256}\n`);
        process.stdout.write(`heads: ${loaded.config.numHeads}, from ${loaded.headsFrom}\n`);
        for (const a of loaded.assumptions) process.stdout.write(`assumed: ${a}\n`);
      });
    });
  backbone
    .command('list')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .action((opts: { workspace: string }) => {
      withWorkspace(opts.workspace, (ws) => {
        for (const b of ws.versions.backbones()) process.stdout.write(`${b.id}\t${b.name}\t${JSON.stringify(b.config)}\n`);
      });
    });
}
