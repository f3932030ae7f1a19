import type * as tf from '@tensorflow/tfjs-core';
import type { BlockAdapter } from '../../vit';

/** Name of the EPT prompt of layer l, as in adapter files and the fixtures. */
export const eptPromptName = (layer: number) => `ept.layers.${layer}.prompt`;

/** EPT: each prompted layer's [N, P] prompt joins the attention softmax (see ViTBackbone.attention). */
export function eptBlockAdapter(variables: Map<string, tf.Variable>): BlockAdapter {
  return {
    attentionPrompt: (layer) => variables.get(eptPromptName(layer)) as tf.Tensor2D | undefined,
  };
}
