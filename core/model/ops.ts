import * as tf from '@tensorflow/tfjs-core';

/** Exact (erf) GELU, as PyTorch's nn.GELU() default. */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/** LayerNorm over the last axis with the biased (population) variance. */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, gamma), beta) as tf.Tensor2D;
  });
}

/** x·W + b with W already stored as [in, out] (no transpose flag on the hot path). */
export function dense(x: tf.Tensor2D, weightInOut: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const y = tf.matMul(x, weightInOut);
    return (bias ? tf.add(y, bias) : y) as tf.Tensor2D;
  });
}

/** Relative error ‖a − b‖ / ‖b‖ (‖a‖ when the reference is all zeros), in float64. */
export function relativeError(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (actual.length !== reference.length) return Infinity;
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = actual[i] - reference[i];
    diff += d * d;
    ref += reference[i] * reference[i];
  }
  if (Number.isNaN(diff)) return Infinity;
  return ref === 0 ? Math.sqrt(diff) : Math.sqrt(diff / ref);
}
