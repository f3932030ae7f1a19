import { AdapterConfigError } from './plugin';

/**
 * Layer selection shared by the methods that adapt a set of blocks: `layers` (indices, all blocks
 * when omitted) in the config, `lastLayers` (the last n blocks) as a job option.
 */

/** The adapted layers for a backbone of `depth` blocks: sorted, unique, each checked to exist. */
export function selectedLayers(layers: readonly number[] | undefined, depth: number, methodTitle: string): number[] {
  const chosen = layers ?? Array.from({ length: depth }, (_, i) => i);
  for (const l of chosen) {
    if (l >= depth) throw new AdapterConfigError(`${methodTitle} layer ${l} does not exist in a backbone of depth ${depth}`);
  }
  return [...new Set(chosen)].sort((a, b) => a - b);
}

/** The first adapted layer of a selection (the depth when it is empty). */
export function firstLayer(layers: readonly number[], depth: number): number {
  return layers.length > 0 ? layers[0] : depth;
}

/** Refuses a `lastLayers` beyond the backbone. */
export function checkLastLayers(lastLayers: number | undefined, depth: number): void {
  if (lastLayers !== undefined && lastLayers > depth) throw new AdapterConfigError(`lastLayers ${lastLayers} exceeds the backbone's ${depth} blocks`);
}

/** A job's `layers` / `lastLayers` as the config's `layers` (undefined = all blocks). */
export function resolveLayerChoice(layers: number[] | undefined, lastLayers: number | undefined, depth: number): number[] | undefined {
  checkLastLayers(lastLayers, depth);
  if (lastLayers === undefined) return layers;
  if (layers) throw new AdapterConfigError('give either layers or lastLayers, not both');
  return Array.from({ length: lastLayers }, (_, i) => depth - lastLayers + i);
}

/** The size of a tensor of this shape. */
export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
