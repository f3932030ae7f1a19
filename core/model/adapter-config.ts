import type { ViTConfig } from './config';
import { adapterConfigSchema, adapterPlugin, type AdapterConfig } from './adapters/registry';
import { AdapterConfigError } from './adapters/plugin';
import { sizeOf } from './adapters/layers';

export { adapterConfigSchema, type AdapterConfig, type AdapterConfigOf } from './adapters/registry';
export { AdapterConfigError, taskKindSchema, type TaskKind } from './adapters/plugin';
export { eptLayers } from './adapters/ept';
export { dvptModuleCount, dvptStartLayer } from './adapters/dvpt';
export type { AdapterMethod } from '../vocabulary';

export function parseAdapterConfig(json: unknown, source: string): AdapterConfig {
  const parsed = adapterConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AdapterConfigError(`${source}: invalid adapter config at "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  return parsed.data;
}

/**
 * The first block the adapter changes: blocks before it are the frozen prefix, whose output does not
 * depend on any trainable tensor (and can be cached). Linear probes change no block: the depth.
 * Validates the config's layers against the backbone.
 */
export function adapterStartLayer(adapter: AdapterConfig, backbone: ViTConfig): number {
  return adapterPlugin(adapter.method).startLayer(adapter, backbone);
}

/** Every trainable tensor of adapter + head, by its file name, with its shape. */
export function trainableShapes(backbone: ViTConfig, adapter: AdapterConfig): Map<string, number[]> {
  const shapes = new Map(adapterPlugin(adapter.method).tensorShapes(adapter, backbone));
  shapes.set('head.weight', [adapter.numClasses, backbone.embedDim]).set('head.bias', [adapter.numClasses]);
  return shapes;
}

/** Trainable parameter count from the configs alone (nothing is allocated). */
export function countTrainableParameters(backbone: ViTConfig, adapter: AdapterConfig): { total: number; adapter: number; head: number } {
  let total = 0;
  let head = 0;
  for (const [name, shape] of trainableShapes(backbone, adapter)) {
    total += sizeOf(shape);
    if (name.startsWith('head.')) head += sizeOf(shape);
  }
  return { total, adapter: total - head, head };
}
