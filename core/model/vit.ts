import * as tf from '@tensorflow/tfjs-core';
import { numTokens, type ViTConfig } from './config';
import type { BackboneWeights } from './checkpoint';
import { dense, frozenDense, geluErf, layerNorm, withGradient } from './ops';
import { randomBackboneWeights } from './random-weights';

/** Frozen weights of one block, linear layers stored pre-transposed as [in, out]. */
interface BlockWeights {
  norm1: [tf.Tensor1D, tf.Tensor1D];
  qkvW: tf.Tensor2D;
  qkvB?: tf.Tensor1D;
  projW: tf.Tensor2D;
  projB: tf.Tensor1D;
  norm2: [tf.Tensor1D, tf.Tensor1D];
  fc1W: tf.Tensor2D;
  fc1B: tf.Tensor1D;
  fc2W: tf.Tensor2D;
  fc2B: tf.Tensor1D;
}

/** What an adapter may change inside block `layer` (x is always [B·N, D]). */
export interface BlockAdapter {
  /** EPT: [N, P] logits prepended to every head's attention logits, dropped after the softmax. */
  attentionPrompt?(layer: number): tf.Tensor2D | undefined;
  /** DVPT: an extra residual term computed from the attention residual output `a`. */
  residualTerm?(layer: number, a: tf.Tensor2D, batch: number, tokens: number): tf.Tensor2D | undefined;
  /** LoRA-style: a [B·N, 3D] term added to the qkv projection of h = LN1(x) (columns q | k | v). */
  qkvDelta?(layer: number, h: tf.Tensor2D): tf.Tensor2D | undefined;
}

export interface BackboneOutput {
  /** Pre-logits feature [B, D]: CLS (or mean of patch tokens) after the final norm. */
  features: tf.Tensor2D;
  /** Requested block outputs, [B, N, D], before the final norm. */
  blockOutputs: Map<number, tf.Tensor3D>;
}

export type ImageLayout = 'NHWC' | 'NCHW';

/**
 * EPT's attention weights: softmax over [prompt row, logits] per query, prompt columns dropped.
 * The prompt row's columns enter only through their log-sum-exp, so the softmax runs over one
 * extra column (the wasm Softmax kernel) instead of P. The gradient is written out:
 * with w the weights, e the prompt's share and r = Σ_j dy·w,
 * d logits = w·(dy − r) and d prompt[n, j] = −softmax(prompt)[n, j] · Σ_{b,h} e·r —
 * no max/equal masks of the [B, H, N, N] tensor as tfjs's logSumExp gradient would build.
 */
const promptedSoftmax = withGradient(([logits, prompt], save) => {
  const [B, H, N] = logits.shape;
  const [weights, promptShare] = tf.tidy(() => {
    const lsePrompt = tf.reshape(tf.logSumExp(prompt, 1), [1, 1, N, 1]);
    const all = tf.softmax(tf.concat([tf.tile(lsePrompt, [B, H, 1, 1]), logits], 3));
    return [tf.slice(all, [0, 0, 0, 1], [-1, -1, -1, -1]), tf.slice(all, [0, 0, 0, 0], [-1, -1, -1, 1])];
  });
  save([weights, promptShare, prompt]);
  return {
    value: weights,
    gradFunc: (dy, [w, share, p]) =>
      tf.tidy(() => {
        const r = tf.sum(tf.mul(dy, w), 3, true); // [B, H, N, 1]
        const dLogits = tf.mul(w, tf.sub(dy, r));
        const perQuery = tf.reshape(tf.sum(tf.mul(share, r), [0, 1]), [N, 1]);
        const dPrompt = tf.neg(tf.mul(tf.softmax(p), perQuery));
        return [dLogits, dPrompt];
      }),
  };
});

/**
 * The frozen ViT (timm layout). Weights are plain tensors, never variables, so gradients
 * can only reach adapter variables.
 */
export class ViTBackbone {
  readonly config: ViTConfig;
  readonly tokens: number;
  private readonly patchW: tf.Tensor2D; // [P·P·3 in (ky, kx, c) order, D]
  private readonly patchB: tf.Tensor1D;
  private readonly cls: tf.Tensor3D; // [1, 1, D]
  private readonly pos: tf.Tensor2D; // [N, D]
  private readonly blocks: BlockWeights[];
  private readonly norm?: [tf.Tensor1D, tf.Tensor1D];
  private disposed = false;
  /** Transposed copies of frozen linear weights, made by the first backward pass through them. */
  private readonly transposedWeights = new Map<tf.Tensor2D, tf.Tensor2D>();

  /** Set only for a trainable backbone: its variables under timm names (in this class's layouts). */
  private readonly variableMap?: Map<string, tf.Variable>;

  /**
   * `trainable` makes every weight a variable: only for training a small ViT from scratch as a
   * stand-in foundation model (no pretrained weights can be downloaded); products freeze backbones.
   */
  constructor(config: ViTConfig, weights: BackboneWeights, options: { trainable?: boolean } = {}) {
    this.config = config;
    this.tokens = numTokens(config);
    const D = config.embedDim;
    const P = config.patchSize;
    if (options.trainable) this.variableMap = new Map();
    // Frozen: the tensor itself. Trainable: a variable holding it (the tensor is then released).
    const hold = <T extends tf.Tensor>(key: string, t: T): T => {
      if (!this.variableMap) return t;
      const v = tf.variable(t, true);
      t.dispose();
      this.variableMap.set(key, v);
      return v as unknown as T;
    };
    const raw = (key: string): tf.Tensor => {
      const t = weights.get(key);
      if (!t) throw new Error(`backbone weights lack "${key}"`);
      return tf.tensor(t.data, t.shape, 'float32');
    };
    const get = (key: string): tf.Tensor => hold(key, raw(key));
    const vec = (key: string) => get(key) as tf.Tensor1D;
    // PyTorch Linear stores [out, in]; transposing once here keeps every forward matMul plain.
    const linear = (key: string) => hold(key, tf.tidy(() => tf.transpose(raw(key)) as tf.Tensor2D));
    this.patchW = hold(
      'patch_embed.proj.weight',
      tf.tidy(() => tf.reshape(tf.transpose(raw('patch_embed.proj.weight'), [2, 3, 1, 0]), [P * P * 3, D]) as tf.Tensor2D),
    );
    this.patchB = vec('patch_embed.proj.bias');
    this.cls = get('cls_token') as tf.Tensor3D;
    this.pos = hold('pos_embed', tf.tidy(() => tf.reshape(raw('pos_embed'), [this.tokens, D]) as tf.Tensor2D));
    this.blocks = [];
    for (let i = 0; i < config.depth; i++) {
      const b = `blocks.${i}.`;
      this.blocks.push({
        norm1: [vec(`${b}norm1.weight`), vec(`${b}norm1.bias`)],
        qkvW: linear(`${b}attn.qkv.weight`),
        qkvB: config.qkvBias ? vec(`${b}attn.qkv.bias`) : undefined,
        projW: linear(`${b}attn.proj.weight`),
        projB: vec(`${b}attn.proj.bias`),
        norm2: [vec(`${b}norm2.weight`), vec(`${b}norm2.bias`)],
        fc1W: linear(`${b}mlp.fc1.weight`),
        fc1B: vec(`${b}mlp.fc1.bias`),
        fc2W: linear(`${b}mlp.fc2.weight`),
        fc2B: vec(`${b}mlp.fc2.bias`),
      });
    }
    if (config.finalNorm) this.norm = [vec('norm.weight'), vec('norm.bias')];
  }

  /** A backbone with random weights whose every tensor is trainable (see the constructor). */
  static createTrainable(config: ViTConfig, seed = 1): ViTBackbone {
    const weights = randomBackboneWeights(config, seed);
    // Biases start at zero, as in timm's init.
    for (const [name, t] of weights) if (name.endsWith('.bias')) t.data.fill(0);
    return new ViTBackbone(config, weights, { trainable: true });
  }

  /** The variables of a trainable backbone, by timm name (empty for a frozen one). */
  trainableVariables(): Map<string, tf.Variable> {
    return new Map(this.variableMap ?? []);
  }

  /** Current weights under timm names and layouts, e.g. to freeze or save a backbone trained here. */
  exportWeights(): BackboneWeights {
    const { patchSize: P, embedDim: D } = this.config;
    const out: BackboneWeights = new Map();
    const put = (key: string, t: tf.Tensor): void => {
      out.set(key, { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) });
    };
    const unlinear = (key: string, t: tf.Tensor2D) => tf.tidy(() => {
      put(key, tf.transpose(t));
    });
    tf.tidy(() => {
      put('patch_embed.proj.weight', tf.transpose(tf.reshape(this.patchW, [P, P, 3, D]), [3, 2, 0, 1]));
    });
    put('patch_embed.proj.bias', this.patchB);
    put('cls_token', this.cls);
    tf.tidy(() => {
      put('pos_embed', tf.reshape(this.pos, [1, this.tokens, D]));
    });
    this.blocks.forEach((b, i) => {
      const k = `blocks.${i}.`;
      put(`${k}norm1.weight`, b.norm1[0]);
      put(`${k}norm1.bias`, b.norm1[1]);
      unlinear(`${k}attn.qkv.weight`, b.qkvW);
      if (b.qkvB) put(`${k}attn.qkv.bias`, b.qkvB);
      unlinear(`${k}attn.proj.weight`, b.projW);
      put(`${k}attn.proj.bias`, b.projB);
      put(`${k}norm2.weight`, b.norm2[0]);
      put(`${k}norm2.bias`, b.norm2[1]);
      unlinear(`${k}mlp.fc1.weight`, b.fc1W);
      put(`${k}mlp.fc1.bias`, b.fc1B);
      unlinear(`${k}mlp.fc2.weight`, b.fc2W);
      put(`${k}mlp.fc2.bias`, b.fc2B);
    });
    if (this.norm) {
      put('norm.weight', this.norm[0]);
      put('norm.bias', this.norm[1]);
    }
    return out;
  }

  /** Patch + CLS + position embedding: images → [B·N, D]. */
  embed(images: tf.Tensor4D, layout: ImageLayout = 'NHWC'): tf.Tensor2D {
    return tf.tidy(() => {
      const { imageSize: S, patchSize: P, embedDim: D } = this.config;
      const nhwc = layout === 'NCHW' ? tf.transpose(images, [0, 2, 3, 1]) : images;
      const [B, H, W, C] = nhwc.shape;
      if (H !== S || W !== S || C !== 3) {
        throw new Error(`images must be ${S}×${S}×3 (${layout}), got ${layout === 'NCHW' ? images.shape.join('×') : `${H}×${W}×${C}`}`);
      }
      const g = S / P;
      // [B·g, P(ky), g, P·3 (kx, c)] → [B·g, g, ky, (kx, c)]: one row per patch in the weight's order.
      const patches = tf.reshape(tf.transpose(tf.reshape(nhwc, [B * g, P, g, P * 3]), [0, 2, 1, 3]), [B * g * g, P * P * 3]);
      const tokens = tf.reshape(dense(patches as tf.Tensor2D, this.patchW, this.patchB), [B, g * g, D]);
      const cls = tf.tile(this.cls, [B, 1, 1]);
      const x = tf.add(tf.concat([cls, tokens], 1), this.pos);
      return tf.reshape(x, [B * this.tokens, D]) as tf.Tensor2D;
    });
  }

  /** Multi-head self-attention of block `layer` on h = LN1(x), with the adapter's prompt logits or qkv term if any. */
  attention(h: tf.Tensor2D, layer: number, batch: number, adapter?: BlockAdapter): tf.Tensor2D {
    return tf.tidy(() => {
      const w = this.blocks[layer];
      const { embedDim: D, numHeads: H } = this.config;
      const N = this.tokens;
      const d = D / H;
      const prompt = adapter?.attentionPrompt?.(layer);
      const delta = adapter?.qkvDelta?.(layer, h);
      const frozenQkv = this.linear(h, w.qkvW, w.qkvB);
      const qkv = delta ? tf.add(frozenQkv, delta) : frozenQkv; // [B·N, 3D], columns q | k | v, head-major inside each
      const heads = tf.transpose(tf.reshape(qkv, [batch, N, 3 * H, d]), [0, 2, 1, 3]); // [B, 3H, N, d]
      const [q, k, v] = tf.split(heads, 3, 1) as tf.Tensor4D[];
      // The transpose flag costs nothing extra on wasm too: wasm-kernels.ts turns it into one explicit transpose.
      const logits = tf.matMul(tf.mul(q, 1 / Math.sqrt(d)), k, false, true) as tf.Tensor4D; // [B, H, N, N]
      const weights = (prompt ? promptedSoftmax(logits, prompt) : tf.softmax(logits)) as tf.Tensor4D;
      const out = tf.matMul(weights, v); // [B, H, N, d]
      const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [batch * N, D]) as tf.Tensor2D;
      return this.linear(merged, w.projW, w.projB);
    });
  }

  /**
   * A block's linear layer. Frozen weights get a gradient through a transposed copy made on the first
   * backward pass and kept (inference never makes one); a trainable backbone uses tfjs's own gradient.
   */
  private linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
    if (this.variableMap) return dense(x, weight, bias);
    return frozenDense(x, weight, bias, () => {
      let t = this.transposedWeights.get(weight);
      if (!t) {
        t = tf.keep(tf.tidy(() => tf.transpose(weight) as tf.Tensor2D));
        this.transposedWeights.set(weight, t);
      }
      return t;
    });
  }

  /** One pre-norm block: x + Attn(LN1 x), then + MLP(LN2 a), plus any adapter term. */
  block(x: tf.Tensor2D, layer: number, batch: number, adapter?: BlockAdapter): tf.Tensor2D {
    return tf.tidy(() => {
      const w = this.blocks[layer];
      const eps = this.config.layerNormEps;
      const a = tf.add(x, this.attention(layerNorm(x, ...w.norm1, eps), layer, batch, adapter)) as tf.Tensor2D;
      const hidden = geluErf(this.linear(layerNorm(a, ...w.norm2, eps), w.fc1W, w.fc1B)) as tf.Tensor2D;
      let out = tf.add(a, this.linear(hidden, w.fc2W, w.fc2B)) as tf.Tensor2D;
      const extra = adapter?.residualTerm?.(layer, a, batch, this.tokens);
      if (extra) out = tf.add(out, extra);
      return out;
    });
  }

  /** Final norm and pooling on [B·N, D] → [B, D]. */
  pool(x: tf.Tensor2D, batch: number): tf.Tensor2D {
    return tf.tidy(() => {
      const { embedDim: D, layerNormEps: eps } = this.config;
      const norm = (t: tf.Tensor2D) => (this.norm ? layerNorm(t, ...this.norm, eps) : t);
      const x3 = tf.reshape(x, [batch, this.tokens, D]);
      if (this.config.pool === 'avg') {
        const normed = tf.reshape(norm(x), [batch, this.tokens, D]);
        return tf.mean(tf.slice(normed, [0, 1, 0], [-1, -1, -1]), 1) as tf.Tensor2D;
      }
      // LayerNorm is per token, so normalising only the CLS rows is exact and cheaper.
      return norm(tf.reshape(tf.slice(x3, [0, 0, 0], [-1, 1, -1]), [batch, D]) as tf.Tensor2D);
    });
  }

  forward(
    images: tf.Tensor4D,
    options: { layout?: ImageLayout; adapter?: BlockAdapter; collectBlocks?: number[] } = {},
  ): BackboneOutput {
    const batch = images.shape[0];
    const collect = new Set(options.collectBlocks ?? []);
    const blockOutputs = new Map<number, tf.Tensor3D>();
    const features = tf.tidy(() => {
      let x = this.embed(images, options.layout);
      for (let i = 0; i < this.config.depth; i++) {
        x = this.block(x, i, batch, options.adapter);
        if (collect.has(i)) blockOutputs.set(i, tf.keep(tf.reshape(x, [batch, this.tokens, this.config.embedDim])));
      }
      return this.pool(x, batch);
    });
    return { features, blockOutputs };
  }

  /**
   * Tokens after blocks 0..endLayer−1 without any adapter: [B·N, D]. When an adapter starts at
   * endLayer these do not depend on its tensors, so they can be computed once per image and cached.
   */
  prefixTokens(images: tf.Tensor4D, layout: ImageLayout = 'NHWC', endLayer = 0): tf.Tensor2D {
    this.checkLayer(endLayer, 'endLayer');
    const batch = images.shape[0];
    return tf.tidy(() => {
      let x = this.embed(images, layout);
      for (let i = 0; i < endLayer; i++) x = this.block(x, i, batch);
      return x;
    });
  }

  /**
   * The rest of `forward` from `prefixTokens(images, layout, startLayer)`: blocks startLayer..L−1
   * (with the adapter), final norm and pooling. Equal to `forward` when the adapter changes no block
   * before startLayer. `collectBlocks` may only name blocks ≥ startLayer.
   */
  forwardFromTokens(
    tokens: tf.Tensor2D,
    startLayer: number,
    batch: number,
    options: { adapter?: BlockAdapter; collectBlocks?: number[] } = {},
  ): BackboneOutput {
    this.checkLayer(startLayer, 'startLayer');
    const { embedDim: D } = this.config;
    if (tokens.rank !== 2 || tokens.shape[0] !== batch * this.tokens || tokens.shape[1] !== D) {
      throw new Error(`prefix tokens must be [${batch}·${this.tokens}, ${D}], got [${tokens.shape.join(', ')}]`);
    }
    const collect = new Set(options.collectBlocks ?? []);
    for (const i of collect) {
      if (i < startLayer) throw new Error(`block ${i} output is not computed when starting from block ${startLayer}`);
    }
    const blockOutputs = new Map<number, tf.Tensor3D>();
    const features = tf.tidy(() => {
      let x = tokens;
      for (let i = startLayer; i < this.config.depth; i++) {
        x = this.block(x, i, batch, options.adapter);
        if (collect.has(i)) blockOutputs.set(i, tf.keep(tf.reshape(x, [batch, this.tokens, D])));
      }
      return this.pool(x, batch);
    });
    return { features, blockOutputs };
  }

  private checkLayer(layer: number, name: string): void {
    if (!Number.isInteger(layer) || layer < 0 || layer > this.config.depth) {
      throw new Error(`${name} ${layer} is outside 0..${this.config.depth} (backbone depth ${this.config.depth})`);
    }
  }

  /** Tensors the backbone keeps for backward passes (transposed frozen weights), e.g. for leak checks. */
  gradientCacheTensors(): number {
    return this.transposedWeights.size;
  }

  /** Number of frozen parameters held. */
  parameterCount(): number {
    return this.allTensors().reduce((n, t) => n + t.size, 0);
  }

  private allTensors(): tf.Tensor[] {
    const list: tf.Tensor[] = [this.patchW, this.patchB, this.cls, this.pos];
    for (const b of this.blocks) {
      list.push(...b.norm1, b.qkvW, b.projW, b.projB, ...b.norm2, b.fc1W, b.fc1B, b.fc2W, b.fc2B);
      if (b.qkvB) list.push(b.qkvB);
    }
    if (this.norm) list.push(...this.norm);
    return list;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.allTensors()) t.dispose();
    for (const t of this.transposedWeights.values()) t.dispose();
    this.transposedWeights.clear();
  }
}
