import * as tf from '@tensorflow/tfjs-core';
import { AdapterConfigError, adapterStartLayer, trainableShapes, type AdapterConfig } from './adapter-config';
import { adapterPlugin } from './adapters/registry';
import type { InitRandom } from './adapters/plugin';
import { headLogits, taskLoss } from './heads';
import type { ViTConfig } from './config';
import type { NamedTensorData } from './safetensors';
import type { BlockAdapter, ImageLayout, ViTBackbone } from './vit';
import './register-gradients';

export interface ForwardOptions {
  layout?: ImageLayout;
  /** Block indices whose outputs ([B, N, D], before the final norm) to return. */
  collectBlocks?: number[];
}

export interface ForwardResult {
  features: tf.Tensor2D;
  logits: tf.Tensor2D;
  blockOutputs: Map<number, tf.Tensor3D>;
}

export class AdapterTensorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterTensorError';
  }
}

/**
 * Initial values of the trainable tensors: the adapter's as its plug-in says, the head like a
 * PyTorch Linear (U(±1/√fan_in)). Each random tensor gets the next seed, in tensor order.
 */
export function initialTrainableTensors(backbone: ViTBackbone, adapter: AdapterConfig, seed = 0): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  let s = seed;
  const nextSeed = () => ++s * 7919 + seed;
  const random: InitRandom = {
    fanInUniform: (shape, fanIn) => tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', nextSeed()),
    normal: (shape, std) => tf.randomNormal(shape, 0, std, 'float32', nextSeed()),
    zeros: (shape) => tf.zeros(shape),
  };
  const plugin = adapterPlugin(adapter.method);
  const D = backbone.config.embedDim;
  for (const [name, shape] of trainableShapes(backbone.config, adapter)) {
    const isHead = name === 'head.weight' || name === 'head.bias';
    out.set(name, isHead ? random.fanInUniform(shape, D) : plugin.initialTensor(name, shape, adapter, backbone.config, random));
  }
  return out;
}

/** Checks loaded adapter tensors against the expected names and shapes. */
export function validateAdapterTensors(
  tensors: Map<string, NamedTensorData>,
  backbone: ViTConfig,
  adapter: AdapterConfig,
  source: string,
): void {
  let expected: Map<string, number[]>;
  try {
    expected = trainableShapes(backbone, adapter);
  } catch (err) {
    // e.g. a DVPT startLayer or EPT layer beyond this backbone's depth: say which file.
    if (err instanceof AdapterConfigError) throw new AdapterConfigError(`${source}: ${err.message}`);
    throw err;
  }
  for (const key of tensors.keys()) {
    if (!expected.has(key)) throw new AdapterTensorError(`${source}: unknown tensor "${key}" for a ${adapter.method} adapter`);
  }
  for (const [key, shape] of expected) {
    const t = tensors.get(key);
    if (!t) throw new AdapterTensorError(`${source}: missing tensor "${key}"`);
    if (t.shape.join(',') !== shape.join(',')) {
      throw new AdapterTensorError(`${source}: tensor "${key}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }
}

/** Frozen ViT + one adapter + classification head; only the adapter and head are variables. */
export class AdaptedViT {
  readonly variables: Map<string, tf.Variable>;
  private readonly blockAdapter?: BlockAdapter;
  private readonly variableNames = new Map<string, string>(); // tf variable name → tensor name
  private readonly firstAdaptedLayer: number;

  private constructor(
    readonly backbone: ViTBackbone,
    readonly adapter: AdapterConfig,
    initial: Map<string, tf.Tensor>,
  ) {
    this.firstAdaptedLayer = adapterStartLayer(adapter, backbone.config); // validates the adapter's layers
    this.variables = new Map();
    for (const [name, value] of initial) {
      // Unnamed: tfjs variable names are global, and several models may coexist.
      const v = tf.variable(value, true);
      this.variables.set(name, v);
      this.variableNames.set(v.name, name);
    }
    this.blockAdapter = adapterPlugin(adapter.method).blockAdapter(adapter, backbone.config, this.variables);
  }

  /** A fresh adapter with initial values (seeded). */
  static initialise(backbone: ViTBackbone, adapter: AdapterConfig, seed = 0): AdaptedViT {
    const initial = initialTrainableTensors(backbone, adapter, seed);
    const model = new AdaptedViT(backbone, adapter, initial);
    for (const t of initial.values()) t.dispose();
    return model;
  }

  /** An adapter from stored tensors (e.g. an adapter_model.safetensors). */
  static fromTensors(backbone: ViTBackbone, adapter: AdapterConfig, tensors: Map<string, NamedTensorData>, source: string): AdaptedViT {
    validateAdapterTensors(tensors, backbone.config, adapter, source);
    const initial = new Map<string, tf.Tensor>();
    for (const name of trainableShapes(backbone.config, adapter).keys()) {
      const t = tensors.get(name)!;
      initial.set(name, tf.tensor(t.data, t.shape, 'float32'));
    }
    const model = new AdaptedViT(backbone, adapter, initial);
    for (const t of initial.values()) t.dispose();
    return model;
  }

  trainableVariables(): tf.Variable[] {
    return [...this.variables.values()];
  }

  trainableParameterCount(): number {
    return this.trainableVariables().reduce((n, v) => n + v.size, 0);
  }

  forward(images: tf.Tensor4D, options: ForwardOptions = {}): ForwardResult {
    const { features, blockOutputs } = this.backbone.forward(images, { ...options, adapter: this.blockAdapter });
    const logits = tf.tidy(() =>
      headLogits(features, this.variables.get('head.weight') as tf.Tensor2D, this.variables.get('head.bias') as tf.Tensor1D),
    );
    return { features, logits, blockOutputs };
  }

  /**
   * First block the adapter changes (EPT: its lowest prompted layer; DVPT: startLayer; linear: the
   * depth). Blocks before it form the frozen prefix: their output depends on the image only.
   */
  get startLayer(): number {
    return this.firstAdaptedLayer;
  }

  /** Rows per image of `prefixTokens`: N tokens, or 1 pooled feature when the whole backbone is frozen. */
  get prefixRowsPerImage(): number {
    return this.firstAdaptedLayer >= this.backbone.config.depth ? 1 : this.backbone.tokens;
  }

  /**
   * The frozen prefix of a batch: tokens after blocks 0..startLayer−1, [B·N, D], or the pooled
   * feature [B, D] for a linear probe. Independent of every trainable tensor.
   */
  prefixTokens(images: tf.Tensor4D, layout?: ImageLayout): tf.Tensor2D {
    if (this.firstAdaptedLayer >= this.backbone.config.depth) return this.backbone.forward(images, { layout }).features;
    return this.backbone.prefixTokens(images, layout, this.firstAdaptedLayer);
  }

  /** `forward` from `prefixTokens` of a batch of `batch` images: same features and logits. */
  forwardFromTokens(tokens: tf.Tensor2D, batch: number, options: Pick<ForwardOptions, 'collectBlocks'> = {}): ForwardResult {
    const { features, blockOutputs } =
      this.firstAdaptedLayer >= this.backbone.config.depth
        ? this.pooledFeatures(tokens, batch)
        : this.backbone.forwardFromTokens(tokens, this.firstAdaptedLayer, batch, { ...options, adapter: this.blockAdapter });
    const logits = tf.tidy(() =>
      headLogits(features, this.variables.get('head.weight') as tf.Tensor2D, this.variables.get('head.bias') as tf.Tensor1D),
    );
    return { features, logits, blockOutputs };
  }

  private pooledFeatures(tokens: tf.Tensor2D, batch: number): { features: tf.Tensor2D; blockOutputs: Map<number, tf.Tensor3D> } {
    const D = this.backbone.config.embedDim;
    if (tokens.rank !== 2 || tokens.shape[0] !== batch || tokens.shape[1] !== D) {
      throw new Error(`a linear probe's prefix is the pooled feature [${batch}, ${D}], got [${tokens.shape.join(', ')}]`);
    }
    return { features: tf.clone(tokens), blockOutputs: new Map() };
  }

  /** Scalar training loss of a batch (tensors created here are freed). */
  loss(images: tf.Tensor4D, labels: tf.Tensor, layout?: ImageLayout): tf.Scalar {
    return tf.tidy(() => {
      const { features, logits } = this.forward(images, { layout });
      features.dispose();
      return taskLoss(this.adapter.task, logits, labels);
    });
  }

  /** Loss and the gradient of every trainable tensor, keyed by tensor name. */
  lossAndGradients(images: tf.Tensor4D, labels: tf.Tensor, layout?: ImageLayout): { loss: tf.Scalar; grads: Map<string, tf.Tensor> } {
    const { value, grads } = tf.variableGrads(() => this.loss(images, labels, layout), this.trainableVariables());
    const named = new Map<string, tf.Tensor>();
    for (const [variableName, grad] of Object.entries(grads)) named.set(this.variableNames.get(variableName)!, grad);
    return { loss: value, grads: named };
  }

  /** Current trainable values, for saving. */
  async exportTensors(): Promise<Map<string, NamedTensorData>> {
    const out = new Map<string, NamedTensorData>();
    for (const [name, v] of this.variables) out.set(name, { shape: [...v.shape], data: (await v.data()) as Float32Array });
    return out;
  }

  /** Frees the adapter variables (the backbone is shared and disposed by its owner). */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}
