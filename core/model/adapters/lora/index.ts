import { z } from 'zod';
import type { ViTConfig } from '../../config';
import { firstLayer, resolveLayerChoice, selectedLayers } from '../layers';
import type { AdapterPlugin } from '../plugin';
import { loraBlockAdapter, loraTensorName } from './hook';

export { loraBlockAdapter, loraTensorName } from './hook';

const configSchema = z.object({
  method: z.literal('lora'),
  /** Rank r of the update B·A. */
  rank: z.number().int().positive().default(8),
  /** The update is scaled by alpha / r. */
  alpha: z.number().positive().default(16),
  /** Adapted block indices; all blocks when omitted. */
  layers: z.array(z.number().int().nonnegative()).optional(),
});
type LoraConfig = z.output<typeof configSchema>;

const jobSchema = z.object({
  method: z.literal('lora'),
  rank: z.number().int().positive().max(1024).default(8),
  alpha: z.number().positive().max(1e6).default(16),
  layers: z.array(z.number().int().nonnegative()).optional(),
  /** Adapt only the last n blocks; the frozen blocks before them are cached. */
  lastLayers: z.number().int().positive().optional(),
});

/** The blocks whose qkv projection LoRA adapts (all by default), validated. */
export function loraLayers(config: Pick<LoraConfig, 'layers'>, backbone: ViTConfig): number[] {
  return selectedLayers(config.layers, backbone.depth, 'LoRA');
}

/** LoRA on the qkv projection: a rank-r update B·A, scaled by alpha / r, B = 0 at the start. */
export const loraPlugin = {
  method: 'lora',
  configSchema,
  jobSchema,
  options: [
    { key: 'rank', description: 'LoRA rank r', type: 'integer' },
    { key: 'alpha', description: 'LoRA alpha (the update is scaled by alpha / r)', type: 'number' },
    { key: 'layers', description: 'LoRA: adapted block indices (default: all blocks)', type: 'integer-list' },
    { key: 'lastLayers', description: 'LoRA: only the last n blocks', type: 'integer' },
  ],
  resolveChoice(choice, depth) {
    const { lastLayers, layers, ...rest } = choice;
    const resolved = resolveLayerChoice(layers, lastLayers, depth);
    return resolved ? { ...rest, layers: resolved } : rest;
  },
  startLayer: (config, backbone) => firstLayer(loraLayers(config, backbone), backbone.depth),
  tensorShapes(config, backbone) {
    const D = backbone.embedDim;
    const shapes = new Map<string, number[]>();
    for (const l of loraLayers(config, backbone)) {
      shapes.set(loraTensorName(l, 'A'), [config.rank, D]).set(loraTensorName(l, 'B'), [3 * D, config.rank]);
    }
    return shapes;
  },
  parameterCount: (config, backbone) => loraLayers(config, backbone).length * 4 * config.rank * backbone.embedDim,
  /** A like a PyTorch Linear weight (kaiming-uniform a = √5: U(±1/√D)), B zero: the model starts at the pretrained function. */
  initialTensor: (name, shape, _config, backbone, random) =>
    name.endsWith('.qkv.A') ? random.fanInUniform(shape, backbone.embedDim) : random.zeros(shape),
  blockAdapter: (config, backbone, variables) => loraBlockAdapter(variables, loraLayers(config, backbone), config.alpha / config.rank),
} satisfies AdapterPlugin<'lora', LoraConfig, z.output<typeof jobSchema>>;
