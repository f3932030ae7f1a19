/**
 * Optimisers over the adapter's variables only. AdamW (Loshchilov & Hutter: weight decay decoupled
 * from the gradient) is the default; SGD with momentum is what the EPT paper used. tfjs's built-in
 * optimisers cannot change the learning rate per step or decouple weight decay, hence these.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface OptimizerConfig {
  kind: 'adamw' | 'sgd';
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  momentum?: number;
}

/** Weight decay applies to weight matrices only: not biases, gates, LayerNorm or prompts (as in timm/PEFT practice). */
export function decays(name: string): boolean {
  return name.endsWith('.weight') && !/(^|\.)norm\d*\./.test(name);
}

export class AdapterOptimizer {
  private readonly slots = new Map<string, tf.Variable[]>();
  private stepCount = 0;

  constructor(
    private readonly variables: Map<string, tf.Variable>,
    readonly config: OptimizerConfig,
  ) {
    for (const [name, v] of variables) {
      // In a tidy so the zero tensor the variable was made from does not linger.
      const zeros = () => tf.tidy(() => tf.variable(tf.zerosLike(v), false));
      this.slots.set(name, config.kind === 'adamw' ? [zeros(), zeros()] : [zeros()]);
    }
  }

  get steps(): number {
    return this.stepCount;
  }

  /** One update with the given (already averaged) gradients at learning rate `lr`. */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    this.stepCount++;
    const t = this.stepCount;
    const { weightDecay } = this.config;
    tf.tidy(() => {
      for (const [name, v] of this.variables) {
        const g = grads.get(name);
        if (!g) continue;
        const slots = this.slots.get(name)!;
        const wd = decays(name) ? weightDecay : 0;
        if (this.config.kind === 'adamw') {
          const b1 = this.config.beta1 ?? 0.9;
          const b2 = this.config.beta2 ?? 0.999;
          const eps = this.config.epsilon ?? 1e-8;
          const [m, s] = slots;
          const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
          const sNew = tf.add(tf.mul(s, b2), tf.mul(tf.square(g), 1 - b2));
          m.assign(mNew);
          s.assign(sNew);
          const mHat = tf.div(mNew, 1 - b1 ** t);
          const sHat = tf.div(sNew, 1 - b2 ** t);
          let update = tf.div(mHat, tf.add(tf.sqrt(sHat), eps));
          if (wd > 0) update = tf.add(update, tf.mul(v, wd));
          v.assign(tf.sub(v, tf.mul(update, lr)));
        } else {
          const mu = this.config.momentum ?? 0.9;
          const [buf] = slots;
          const gd = wd > 0 ? tf.add(g, tf.mul(v, wd)) : g;
          const bufNew = tf.add(tf.mul(buf, mu), gd);
          buf.assign(bufNew);
          v.assign(tf.sub(v, tf.mul(bufNew, lr)));
        }
      }
    });
  }

  dispose(): void {
    for (const slots of this.slots.values()) for (const s of slots) s.dispose();
    this.slots.clear();
  }
}

/** Sums micro-batch gradients (each already scaled by its share of the batch) without leaking tensors. */
export class GradientAccumulator {
  private sums = new Map<string, tf.Tensor>();

  add(grads: Map<string, tf.Tensor>, scale: number): void {
    for (const [name, g] of grads) {
      const scaled = tf.tidy(() => tf.mul(g, scale));
      const prev = this.sums.get(name);
      if (prev) {
        this.sums.set(name, tf.tidy(() => tf.add(prev, scaled)));
        prev.dispose();
        scaled.dispose();
      } else {
        this.sums.set(name, scaled);
      }
      g.dispose();
    }
  }

  /** The accumulated gradients; the caller disposes them (or calls reset). */
  take(): Map<string, tf.Tensor> {
    const out = this.sums;
    this.sums = new Map();
    return out;
  }

  reset(): void {
    for (const t of this.sums.values()) t.dispose();
    this.sums.clear();
  }
}
