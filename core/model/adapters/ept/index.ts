import { z } from 'zod';
import { numTokens, type ViTConfig } from '../../config';
import { resolveLayerChoice, selectedLayers, firstLayer } from '../layers';
import type { AdapterPlugin } from '../plugin';
import { eptBlockAdapter, eptPromptName } from './hook';

export { eptBlockAdapter, eptPromptName } from './hook';

const configSchema = z.object({
  method: z.literal('ept'),
  promptLength: z.number().int().positive().default(100),
  /** Prompted layer indices; all layers ("EPT-deep") when omitted. */
  layers: z.array(z.number().int().nonnegative()).optional(),
  promptInit: z.enum(['normal', 'zero']).default('normal'),
  promptInitStd: z.number().positive().default(0.02),
});
type EptConfig = z.output<typeof configSchema>;

const jobSchema = z.object({
  method: z.literal('ept'),
  promptLength: z.number().int().positive().max(1000).default(100),
  layers: z.array(z.number().int().nonnegative()).optional(),
  /** Prompt only the last n blocks (layers depth−n..depth−1); the frozen blocks before them are cached. */
  lastLayers: z.number().int().positive().optional(),
});

/** The EPT layers actually prompted for a backbone (all of them by default), validated. */
export function eptLayers(config: Pick<EptConfig, 'layers'>, backbone: ViTConfig): number[] {
  return selectedLayers(config.layers, backbone.depth, 'EPT');
}

/** EPT (METHODS.md): an [N, P] prompt per prompted layer joins that layer's attention softmax. */
export const eptPlugin = {
  method: 'ept',
  configSchema,
  jobSchema,
  options: [
    { key: 'promptLength', description: 'EPT prompt length P (prompt columns per token)', type: 'integer' },
    { key: 'layers', description: 'EPT: prompted block indices (default: all blocks)', type: 'integer-list' },
    { key: 'lastLayers', description: 'EPT: prompts only in the last n blocks', type: 'integer' },
  ],
  resolveChoice(choice, depth) {
    const { lastLayers, layers, ...rest } = choice;
    const resolved = resolveLayerChoice(layers, lastLayers, depth);
    return resolved ? { ...rest, layers: resolved } : rest;
  },
  startLayer: (config, backbone) => firstLayer(eptLayers(config, backbone), backbone.depth),
  tensorShapes(config, backbone) {
    const N = numTokens(backbone);
    return new Map(eptLayers(config, backbone).map((l) => [eptPromptName(l), [N, config.promptLength]]));
  },
  parameterCount: (config, backbone) => eptLayers(config, backbone).length * numTokens(backbone) * config.promptLength,
  initialTensor: (_name, shape, config, _backbone, random) =>
    config.promptInit === 'zero' ? random.zeros(shape) : random.normal(shape, config.promptInitStd),
  blockAdapter: (_config, _backbone, variables) => eptBlockAdapter(variables),
} satisfies AdapterPlugin<'ept', EptConfig, z.output<typeof jobSchema>>;
