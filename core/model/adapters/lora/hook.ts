import * as tf from '@tensorflow/tfjs-core';
import type { BlockAdapter } from '../../vit';
import { requireVariable } from '../plugin';

/** Names of LoRA's factors on block i's qkv projection, as in adapter files. */
export const loraTensorName = (layer: number, factor: 'A' | 'B') => `lora.blocks.${layer}.qkv.${factor}`;

/**
 * LoRA (Hu et al. 2021) on the attention's qkv projection: qkv(h) += scale · (h·Aᵀ)·Bᵀ with
 * A [r, D], B [3D, r], scale = alpha / r. Blocks outside `layers` are left unchanged.
 */
export function loraBlockAdapter(variables: Map<string, tf.Variable>, layers: readonly number[], scale: number): BlockAdapter {
  const adapted = new Set(layers);
  return {
    qkvDelta(layer, h) {
      if (!adapted.has(layer)) return undefined;
      return tf.tidy(() => {
        const A = requireVariable(variables, loraTensorName(layer, 'A')); // [r, D]
        const B = requireVariable(variables, loraTensorName(layer, 'B')); // [3D, r]
        // Transposing the small factors keeps the [B·N, ·] matMuls untransposed; the scale is applied to the
        // [B·N, r] product, the smallest tensor on the path.
        const down = tf.mul(tf.matMul(h, tf.transpose(A)), scale) as tf.Tensor2D; // [B·N, r]
        return tf.matMul(down, tf.transpose(B)) as tf.Tensor2D; // [B·N, 3D]
      });
    },
  };
}
