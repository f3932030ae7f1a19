import { z } from 'zod';
import type { ViTConfig } from '../../config';
import { checkLastLayers } from '../layers';
import { AdapterConfigError, type AdapterPlugin } from '../plugin';
import { dvptBlockAdapter, dvptTensorName } from './hook';

export { dvptBlockAdapter, dvptTensorName } from './hook';

const configSchema = z.object({
  method: z.literal('dvpt'),
  bottleneck: z.number().int().positive().default(64),
  numPrompts: z.number().int().positive().default(10),
  share: z.number().int().positive().default(3),
  /**
   * First adapted layer: blocks before it get no DVPT term, so their output can be computed once
   * and cached. Absent = 0 (files written before this option read unchanged).
   */
  startLayer: z.number().int().nonnegative().optional(),
});
type DvptConfig = z.output<typeof configSchema>;

const jobSchema = z.object({
  method: z.literal('dvpt'),
  bottleneck: z.number().int().positive().max(1024).default(64),
  numPrompts: z.number().int().positive().max(256).default(10),
  share: z.number().int().positive().default(3),
  /** First adapted block (0 = all blocks). */
  startLayer: z.number().int().nonnegative().optional(),
  /** Adapt only the last n blocks (startLayer = depth − n). */
  lastLayers: z.number().int().positive().optional(),
});

/** First DVPT layer, validated against the backbone (0 when the config does not say). */
export function dvptStartLayer(config: Pick<DvptConfig, 'startLayer'>, backbone: ViTConfig): number {
  const start = config.startLayer ?? 0;
  if (start >= backbone.depth) {
    throw new AdapterConfigError(`DVPT startLayer ${start} does not exist in a backbone of depth ${backbone.depth} (layers 0..${backbone.depth - 1})`);
  }
  return start;
}

/** Modules are counted from the start layer: layer i ≥ start uses module ⌊(i − start) / share⌋. */
export function dvptModuleCount(config: Pick<DvptConfig, 'startLayer' | 'share'>, backbone: ViTConfig): number {
  return Math.ceil((backbone.depth - dvptStartLayer(config, backbone)) / config.share);
}

/** DVPT (METHODS.md): a prompt-attention bottleneck added to the block output, one module per `share` layers. */
export const dvptPlugin = {
  method: 'dvpt',
  configSchema,
  jobSchema,
  options: [
    { key: 'bottleneck', description: 'DVPT bottleneck width r', type: 'integer' },
    { key: 'numPrompts', description: 'DVPT prompt count M', type: 'integer' },
    { key: 'share', description: 'DVPT layers sharing one module', type: 'integer' },
    { key: 'startLayer', description: 'DVPT: first adapted block (0 = all blocks)', type: 'integer' },
    { key: 'lastLayers', description: 'DVPT: adapters only in the last n blocks', type: 'integer' },
  ],
  /** A start of 0 is left out, so the config equals one written before the option existed (warm starts compare configs). */
  resolveChoice(choice, depth) {
    const { lastLayers, startLayer, ...rest } = choice;
    checkLastLayers(lastLayers, depth);
    if (lastLayers !== undefined && startLayer !== undefined) throw new AdapterConfigError('give either startLayer or lastLayers, not both');
    const start = lastLayers !== undefined ? depth - lastLayers : (startLayer ?? 0);
    if (start >= depth) throw new AdapterConfigError(`startLayer ${start} does not exist in a backbone of depth ${depth}`);
    return start > 0 ? { ...rest, startLayer: start } : rest;
  },
  startLayer: dvptStartLayer,
  tensorShapes(config, backbone) {
    const D = backbone.embedDim;
    const r = config.bottleneck;
    const shapes = new Map<string, number[]>();
    for (let m = 0; m < dvptModuleCount(config, backbone); m++) {
      shapes.set(dvptTensorName(m, 'down.weight'), [r, D]).set(dvptTensorName(m, 'down.bias'), [r]);
      shapes.set(dvptTensorName(m, 'prompts'), [config.numPrompts, r]);
      shapes.set(dvptTensorName(m, 'up.weight'), [D, r]).set(dvptTensorName(m, 'up.bias'), [D]);
      shapes.set(dvptTensorName(m, 'gate'), [1]);
    }
    return shapes;
  },
  parameterCount(config, backbone) {
    const { bottleneck: r, numPrompts: M } = config;
    const D = backbone.embedDim;
    return dvptModuleCount(config, backbone) * (2 * r * D + r + D + M * r + 1);
  },
  /** down/up like a PyTorch Linear (U(±1/√fan_in)), prompts N(0, 1), gate 0: DVPT starts at the pretrained function. */
  initialTensor(name, shape, config, backbone, random) {
    if (name.endsWith('.prompts')) return random.normal(shape, 1);
    if (name.endsWith('.gate')) return random.zeros(shape);
    if (name.includes('.down.')) return random.fanInUniform(shape, backbone.embedDim);
    if (name.includes('.up.')) return random.fanInUniform(shape, config.bottleneck);
    throw new Error(`DVPT has no tensor "${name}"`);
  },
  blockAdapter: (config, backbone, variables) => dvptBlockAdapter(variables, config.share, dvptStartLayer(config, backbone)),
} satisfies AdapterPlugin<'dvpt', DvptConfig, z.output<typeof jobSchema>>;
