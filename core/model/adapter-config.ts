import { z } from 'zod';
import { numTokens, type ViTConfig } from './config';
import { CLASSIFICATION_KINDS } from '../vocabulary';

/** Multi-class and ordinal grading use softmax CE; multi-label uses sigmoid BCE. */
export const taskKindSchema = z.enum(CLASSIFICATION_KINDS);
export type TaskKind = z.infer<typeof taskKindSchema>;

const common = {
  numClasses: z.number().int().positive(),
  task: taskKindSchema.default('multiclass'),
};

/** Adapter hyper-parameters, in the keys of the fixtures' `adapter-*.json`. */
export const adapterConfigSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('linear'), ...common }),
  z.object({
    method: z.literal('ept'),
    ...common,
    promptLength: z.number().int().positive().default(100),
    /** Prompted layer indices; all layers ("EPT-deep") when omitted. */
    layers: z.array(z.number().int().nonnegative()).optional(),
    promptInit: z.enum(['normal', 'zero']).default('normal'),
    promptInitStd: z.number().positive().default(0.02),
  }),
  z.object({
    method: z.literal('dvpt'),
    ...common,
    bottleneck: z.number().int().positive().default(64),
    numPrompts: z.number().int().positive().default(10),
    share: z.number().int().positive().default(3),
    /**
     * First adapted layer: blocks before it get no DVPT term, so their output can be computed once
     * and cached. Absent = 0 (files written before this option read unchanged).
     */
    startLayer: z.number().int().nonnegative().optional(),
  }),
]);
export type AdapterConfig = z.infer<typeof adapterConfigSchema>;
export type AdapterMethod = AdapterConfig['method'];

export class AdapterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterConfigError';
  }
}

export function parseAdapterConfig(json: unknown, source: string): AdapterConfig {
  const parsed = adapterConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AdapterConfigError(`${source}: invalid adapter config at "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  return parsed.data;
}

/** The EPT layers actually prompted for a backbone (all of them by default), validated. */
export function eptLayers(adapter: Extract<AdapterConfig, { method: 'ept' }>, backbone: ViTConfig): number[] {
  const layers = adapter.layers ?? Array.from({ length: backbone.depth }, (_, i) => i);
  for (const l of layers) {
    if (l >= backbone.depth) throw new AdapterConfigError(`EPT layer ${l} does not exist in a backbone of depth ${backbone.depth}`);
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

/** First DVPT layer, validated against the backbone (0 when the config does not say). */
export function dvptStartLayer(adapter: Extract<AdapterConfig, { method: 'dvpt' }>, backbone: ViTConfig): number {
  const start = adapter.startLayer ?? 0;
  if (start >= backbone.depth) {
    throw new AdapterConfigError(`DVPT startLayer ${start} does not exist in a backbone of depth ${backbone.depth} (layers 0..${backbone.depth - 1})`);
  }
  return start;
}

/** Modules are counted from the start layer: layer i ≥ start uses module ⌊(i − start) / share⌋. */
export function dvptModuleCount(adapter: Extract<AdapterConfig, { method: 'dvpt' }>, backbone: ViTConfig): number {
  return Math.ceil((backbone.depth - dvptStartLayer(adapter, backbone)) / adapter.share);
}

/**
 * The first block the adapter changes: blocks before it are the frozen prefix, whose output does not
 * depend on any trainable tensor (and can be cached). Linear probes change no block: the depth.
 */
export function adapterStartLayer(adapter: AdapterConfig, backbone: ViTConfig): number {
  if (adapter.method === 'dvpt') return dvptStartLayer(adapter, backbone);
  if (adapter.method === 'ept') {
    const layers = eptLayers(adapter, backbone);
    return layers.length > 0 ? layers[0] : backbone.depth;
  }
  return backbone.depth;
}

/** Every trainable tensor of backbone + adapter + head, by its file name, with its shape. */
export function trainableShapes(backbone: ViTConfig, adapter: AdapterConfig): Map<string, number[]> {
  const D = backbone.embedDim;
  const shapes = new Map<string, number[]>();
  if (adapter.method === 'ept') {
    const N = numTokens(backbone);
    for (const l of eptLayers(adapter, backbone)) shapes.set(`ept.layers.${l}.prompt`, [N, adapter.promptLength]);
  } else if (adapter.method === 'dvpt') {
    const r = adapter.bottleneck;
    for (let m = 0; m < dvptModuleCount(adapter, backbone); m++) {
      const p = `dvpt.modules.${m}.`;
      shapes.set(`${p}down.weight`, [r, D]).set(`${p}down.bias`, [r]);
      shapes.set(`${p}prompts`, [adapter.numPrompts, r]);
      shapes.set(`${p}up.weight`, [D, r]).set(`${p}up.bias`, [D]);
      shapes.set(`${p}gate`, [1]);
    }
  }
  shapes.set('head.weight', [adapter.numClasses, D]).set('head.bias', [adapter.numClasses]);
  return shapes;
}

/** Trainable parameter count from the configs alone (nothing is allocated). */
export function countTrainableParameters(backbone: ViTConfig, adapter: AdapterConfig): { total: number; adapter: number; head: number } {
  let total = 0;
  let head = 0;
  for (const [name, shape] of trainableShapes(backbone, adapter)) {
    const size = shape.reduce((a, b) => a * b, 1);
    total += size;
    if (name.startsWith('head.')) head += size;
  }
  return { total, adapter: total - head, head };
}
