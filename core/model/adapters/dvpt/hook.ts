import * as tf from '@tensorflow/tfjs-core';
import { geluErf } from '../../ops';
import type { BlockAdapter } from '../../vit';

export const dvptTensorName = (module: number, part: 'down.weight' | 'down.bias' | 'prompts' | 'up.weight' | 'up.bias' | 'gate') =>
  `dvpt.modules.${module}.${part}`;

/**
 * DVPT (METHODS.md): X' = GELU(a·downᵀ + b); A = softmax_N(prompts·X'ᵀ/√r); O = A·X';
 * Y = Aᵀ·O; block output += gate · (Y·upᵀ + b). Layer i ≥ startLayer uses module
 * ⌊(i − startLayer) / share⌋; layers before startLayer are left unchanged (the frozen prefix).
 */
export function dvptBlockAdapter(variables: Map<string, tf.Variable>, share: number, startLayer = 0): BlockAdapter {
  const get = (name: string) => {
    const v = variables.get(name);
    if (!v) throw new Error(`DVPT tensor "${name}" is missing`);
    return v;
  };
  return {
    residualTerm(layer, a, batch, tokens) {
      if (layer < startLayer) return undefined;
      const m = Math.floor((layer - startLayer) / share);
      return tf.tidy(() => {
        const down = get(dvptTensorName(m, 'down.weight')); // [r, D]
        const prompts = get(dvptTensorName(m, 'prompts')); // [M, r]
        const up = get(dvptTensorName(m, 'up.weight')); // [D, r]
        const r = down.shape[0];
        const M = prompts.shape[0];
        // Transposing the small parameters keeps the big [B·N, ·] matMuls untransposed.
        const xPrime = geluErf(tf.add(tf.matMul(a, tf.transpose(down)), get(dvptTensorName(m, 'down.bias')))) as tf.Tensor2D;
        const scores = tf.mul(tf.matMul(xPrime, tf.transpose(prompts)), 1 / Math.sqrt(r)); // [B·N, M]
        const attn = tf.softmax(tf.transpose(tf.reshape(scores, [batch, tokens, M]), [0, 2, 1])); // [B, M, N], over N
        const x3 = tf.reshape(xPrime, [batch, tokens, r]);
        const pooled = tf.matMul(attn, x3); // [B, M, r]
        const scattered = tf.matMul(tf.transpose(attn, [0, 2, 1]), pooled); // [B, N, r]
        const upOut = tf.add(tf.matMul(tf.reshape(scattered, [batch * tokens, r]), tf.transpose(up)), get(dvptTensorName(m, 'up.bias')));
        return tf.mul(upOut, get(dvptTensorName(m, 'gate'))) as tf.Tensor2D;
      });
    },
  };
}
