import * as tf from '@tensorflow/tfjs-core';
import { countTrainableParameters, type AdapterConfig } from './adapter-config';
import { withGradient } from './ops';
import { AdaptedViT } from './model';
import type { ImageLayout, ViTBackbone } from './vit';
import type { NamedTensorData } from './safetensors';

/**
 * A light progressive-upsampling decoder (SETR-PUP-like, Zheng et al. 2021) on the frozen ViT's
 * patch tokens: LayerNorm → 1×1 projection → log2(patch) stages of [bilinear ×2, 3×3 conv, ReLU]
 * → 1×1 classifier, giving per-pixel logits at the backbone's input size. Trained together with a
 * DVPT/EPT/LoRA adapter (or alone, on the frozen tokens, with the linear method).
 *
 * 1×1 convolutions are dense layers; 3×3 ones tf.conv2d with a written-out filter gradient.
 * Weights are HWIO ([ky, kx, in, out]).
 * Upsampling uses alignCorners (tfjs's ResizeBilinearGrad ignores halfPixelCenters), which is
 * PyTorch's `interpolate(..., align_corners=True)`.
 */
export interface SegmentationHeadConfig {
  /** Classes including background (2 for vessel / not vessel). */
  numClasses: number;
  /** Width of the decoder's feature maps. */
  channels: number;
}

export const DEFAULT_SEGMENTATION_HEAD: Omit<SegmentationHeadConfig, 'numClasses'> = { channels: 32 };

/** Upsampling stages: the patch size must be a power of two (each stage doubles the grid). */
export function upsampleStages(patchSize: number): number {
  const stages = Math.log2(patchSize);
  if (!Number.isInteger(stages) || stages < 1) throw new Error(`a segmentation head needs a power-of-two patch size ≥ 2, got ${patchSize}`);
  return stages;
}

/** Tensor names and shapes of the head, in the order they are initialised. */
export function segmentationHeadShapes(head: SegmentationHeadConfig, embedDim: number, patchSize: number): Map<string, number[]> {
  const C = head.channels;
  const shapes = new Map<string, number[]>();
  shapes.set('seg.norm.weight', [embedDim]).set('seg.norm.bias', [embedDim]);
  shapes.set('seg.proj.weight', [embedDim, C]).set('seg.proj.bias', [C]);
  for (let s = 0; s < upsampleStages(patchSize); s++) shapes.set(`seg.up${s}.weight`, [3, 3, C, C]).set(`seg.up${s}.bias`, [C]);
  shapes.set('seg.classifier.weight', [C, head.numClasses]).set('seg.classifier.bias', [head.numClasses]);
  return shapes;
}

/**
 * 3×3 same-padded convolution, x [B, H, W, Cin], w [3, 3, Cin, Cout] (HWIO). The filter gradient
 * is written out: tfjs's wasm backend has no Conv2DBackpropFilter, so dW is itself a convolution,
 * of x with channels as the batch by dy as the filter (Σ over batch and pixels), padded by 1.
 */
const conv3x3Op = withGradient(([x, w], save) => {
  save([x, w]);
  return {
    value: tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
    gradFunc: (dy, [xs, ws]) =>
      tf.tidy(() => {
        const dx = tf.conv2dTranspose(dy as tf.Tensor4D, ws as tf.Tensor4D, xs.shape as [number, number, number, number], 1, 'same');
        const input = tf.transpose(xs, [3, 1, 2, 0]) as tf.Tensor4D; // [Cin, H, W, B]
        const filter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [H, W, B, Cout]
        // Explicit padding: tfjs's numeric padding sizes the output as if the filter were square.
        const dw = tf.transpose(tf.conv2d(input, filter, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), [1, 2, 0, 3]); // [Cin, 3, 3, Cout] → HWIO
        return [dx, dw];
      }),
  };
});

export function conv3x3(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => tf.add(conv3x3Op(x, w), b) as tf.Tensor4D);
}

/** 1×1 convolution: a dense layer over the channel axis. */
function conv1x1(x: tf.Tensor4D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    return tf.reshape(tf.add(tf.matMul(tf.reshape(x, [B * H * W, C]), w), b), [B, H, W, w.shape[1]]) as tf.Tensor4D;
  });
}

/**
 * Per-pixel logits [B, S, S, K] from the last block's tokens [B, N, D] (CLS first).
 * `v` holds the head's tensors by name (variables while training, plain tensors otherwise).
 */
export function segmentationLogits(tokens: tf.Tensor3D, v: Map<string, tf.Tensor>, patchSize: number, eps = 1e-6): tf.Tensor4D {
  return tf.tidy(() => {
    const get = (name: string) => {
      const t = v.get(name);
      if (!t) throw new Error(`segmentation head tensor "${name}" is missing`);
      return t;
    };
    const [B, N, D] = tokens.shape;
    const g = Math.round(Math.sqrt(N - 1));
    if (g * g !== N - 1) throw new Error(`segmentation head: ${N - 1} patch tokens do not form a square grid`);
    const patches = tf.slice(tokens, [0, 1, 0], [-1, -1, -1]);
    const { mean, variance } = tf.moments(patches, 2, true);
    const normed = tf.add(tf.mul(tf.div(tf.sub(patches, mean), tf.sqrt(tf.add(variance, eps))), get('seg.norm.weight')), get('seg.norm.bias'));
    let x = tf.relu(conv1x1(tf.reshape(normed, [B, g, g, D]), get('seg.proj.weight') as tf.Tensor2D, get('seg.proj.bias') as tf.Tensor1D)) as tf.Tensor4D;
    for (let s = 0; s < upsampleStages(patchSize); s++) {
      const size = x.shape[1] * 2;
      x = tf.image.resizeBilinear(x, [size, size], true);
      x = tf.relu(conv3x3(x, get(`seg.up${s}.weight`) as tf.Tensor4D, get(`seg.up${s}.bias`) as tf.Tensor1D)) as tf.Tensor4D;
    }
    return conv1x1(x, get('seg.classifier.weight') as tf.Tensor2D, get('seg.classifier.bias') as tf.Tensor1D);
  });
}

/**
 * Dice + cross-entropy, the sum of both (nnU-Net's default), over the pixels where `weights` is 1
 * (e.g. the field of view). logits [B, S, S, K], labels class ids [B, S, S], weights [B, S, S].
 * Soft Dice is over the batch, per foreground class (background excluded when K > 1), smoothed by 1.
 */
export function diceCrossEntropyLoss(logits: tf.Tensor4D, labels: tf.Tensor3D, weights?: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const K = logits.shape[3];
    if (labels.shape.join() !== logits.shape.slice(0, 3).join()) {
      throw new Error(`segmentation labels must be [${logits.shape.slice(0, 3).join(', ')}], got [${labels.shape.join(', ')}]`);
    }
    const flat = tf.reshape(logits, [-1, K]) as tf.Tensor2D;
    const w = weights ? tf.reshape(tf.cast(weights, 'float32'), [-1, 1]) : tf.onesLike(tf.slice(flat, [0, 0], [-1, 1]));
    const onehot = tf.oneHot(tf.reshape(tf.cast(labels, 'int32'), [-1]) as tf.Tensor1D, K);
    const logp = tf.logSoftmax(flat);
    const totalWeight = tf.maximum(tf.sum(w), 1);
    const ce = tf.div(tf.neg(tf.sum(tf.mul(tf.mul(onehot, logp), w))), totalWeight);
    const p = tf.mul(tf.exp(logp), w);
    const q = tf.mul(onehot, w);
    const inter = tf.sum(tf.mul(p, q), 0);
    const dice = tf.div(tf.add(tf.mul(inter, 2), 1), tf.add(tf.add(tf.sum(p, 0), tf.sum(q, 0)), 1)); // [K]
    const foreground = K > 1 ? tf.slice(dice, [1], [K - 1]) : dice;
    return tf.add(ce, tf.sub(1, tf.mean(foreground))) as tf.Scalar;
  });
}

/**
 * Frozen ViT + adapter + segmentation head. The adapter's own classification head is unused:
 * it gets no gradient and is left out of `trainableVariables`.
 */
export class SegmentationModel {
  readonly adapted: AdaptedViT;
  readonly head: SegmentationHeadConfig;
  private readonly headVariables = new Map<string, tf.Variable>();
  private readonly patchSize: number;

  constructor(backbone: ViTBackbone, adapter: AdapterConfig, head: SegmentationHeadConfig, seed = 0, initial?: Map<string, NamedTensorData>) {
    this.patchSize = backbone.config.patchSize;
    this.adapted = initial ? AdaptedViT.fromTensors(backbone, adapter, adapterPart(initial), 'segmentation tensors') : AdaptedViT.initialise(backbone, adapter, seed);
    this.head = head;
    let s = seed * 1000 + 17;
    for (const [name, shape] of segmentationHeadShapes(head, backbone.config.embedDim, this.patchSize)) {
      const given = initial?.get(name);
      const value = given
        ? tf.tensor(given.data, given.shape, 'float32')
        : name === 'seg.norm.weight'
          ? tf.ones(shape)
          : name.endsWith('.bias')
            ? tf.zeros(shape)
            : headInit(shape, ++s);
      this.headVariables.set(name, tf.variable(value, true));
      value.dispose();
    }
  }

  /** The adapter's tensors (its unused classifier excluded) and the decoder's. */
  trainableVariables(): tf.Variable[] {
    const adapterVars = [...this.adapted.variables].filter(([name]) => !name.startsWith('head.')).map(([, v]) => v);
    return [...adapterVars, ...this.headVariables.values()];
  }

  /** Trainable parameters: adapter (without its unused classifier) + decoder. */
  parameterCount(): { adapter: number; head: number } {
    const counts = countTrainableParameters(this.adapted.backbone.config, this.adapted.adapter);
    let head = 0;
    for (const v of this.headVariables.values()) head += v.size;
    return { adapter: counts.adapter, head };
  }

  /** Per-pixel logits [B, S, S, K] of normalised images [B, S, S, 3]. */
  logits(images: tf.Tensor4D, layout?: ImageLayout): tf.Tensor4D {
    return tf.tidy(() => {
      const last = this.adapted.backbone.config.depth - 1;
      const { features, logits, blockOutputs } = this.adapted.forward(images, { layout, collectBlocks: [last] });
      features.dispose();
      logits.dispose();
      return segmentationLogits(blockOutputs.get(last)!, this.headVariables, this.patchSize, this.adapted.backbone.config.layerNormEps);
    });
  }

  /** Class probabilities [B, S, S, K]. */
  probabilities(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.softmax(this.logits(images)));
  }

  loss(images: tf.Tensor4D, labels: tf.Tensor3D, weights?: tf.Tensor3D): tf.Scalar {
    return tf.tidy(() => diceCrossEntropyLoss(this.logits(images), labels, weights));
  }

  /** Every trainable tensor by name (adapter, then decoder), e.g. to start a reference from the same values. */
  async exportTensors(): Promise<Map<string, NamedTensorData>> {
    const out = await this.adapted.exportTensors();
    for (const [name, v] of this.headVariables) out.set(name, { shape: [...v.shape], data: (await v.data()) as Float32Array });
    return out;
  }

  dispose(): void {
    this.adapted.dispose();
    for (const v of this.headVariables.values()) v.dispose();
    this.headVariables.clear();
  }
}

/** The adapter's tensors (with its unused classifier) of a full export. */
function adapterPart(all: Map<string, NamedTensorData>): Map<string, NamedTensorData> {
  return new Map([...all].filter(([name]) => !name.startsWith('seg.')));
}

/** Kaiming-uniform for ReLU layers: U(±√(6 / fan_in)), fan_in = all but the last axis. */
function headInit(shape: number[], seed: number): tf.Tensor {
  const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const bound = Math.sqrt(6 / fanIn);
  return tf.randomUniform(shape, -bound, bound, 'float32', seed);
}
