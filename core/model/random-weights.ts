import { expectedBackboneShapes } from './checkpoint';
import type { ViTConfig } from './config';
import type { BackboneWeights } from './checkpoint';

/**
 * Random backbone weights of the real size for a config (benchmarks and memory tests, where
 * no pretrained checkpoint is at hand): LayerNorm 1/0, everything else uniform with std 0.02.
 */
export function randomBackboneWeights(config: ViTConfig, seed = 1): BackboneWeights {
  let state = seed >>> 0 || 1;
  // mulberry32: fast, seedable, plenty for filler weights.
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const halfWidth = 0.02 * Math.sqrt(3);
  const weights: BackboneWeights = new Map();
  for (const [name, shape] of expectedBackboneShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/norm\d?\.weight$/.test(name)) data.fill(1);
    else if (!/norm\d?\.bias$/.test(name)) for (let i = 0; i < data.length; i++) data[i] = (next() * 2 - 1) * halfWidth;
    weights.set(name, { shape, data });
  }
  return weights;
}
