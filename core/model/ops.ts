import * as tf from '@tensorflow/tfjs-core';
import { GELU_GRAD_KERNEL, GELU_KERNEL, nativeGelu } from './wasm-kernels';

type GradientFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/**
 * tf.customGrad with the inputs as an array: `f` returns the value and the gradient of every input.
 * Ops inside `f` are not recorded on the tape, so only what `save` keeps survives until backward.
 */
export function withGradient(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: GradientFunc },
): (...inputs: tf.Tensor[]) => tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    return f(args as tf.Tensor[], save);
  });
  // Without a gradient tape (inference) the value alone, in a tidy: customGrad's bookkeeping costs more than the ops.
  return (...inputs) => (tf.engine().isTapeOn() ? op(...inputs) : tf.tidy(() => f(inputs, () => undefined).value));
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact (erf) GELU, as PyTorch's nn.GELU() default. Its own gradient (dy·(Φ(x) + x·φ(x))) keeps
 * only x for the backward pass; the composed ops would keep four [B·N, 4D] tensors per block.
 */
const geluWithGrad = withGradient(([x], save) => {
  save([x]);
  // One native pass on wasm when native/blas is built (wasm-kernels.ts); the same maths in tf ops otherwise.
  const native = nativeGelu();
  return {
    value: native ? (tf.engine().runKernel(GELU_KERNEL, { x }) as tf.Tensor) : tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))))),
    gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) =>
      native
        ? (tf.engine().runKernel(GELU_GRAD_KERNEL, { x: saved, dy }) as tf.Tensor)
        : tf.tidy(() => {
            const cdf = tf.mul(tf.add(1, tf.erf(tf.mul(saved, Math.SQRT1_2))), 0.5);
            const pdf = tf.mul(tf.exp(tf.mul(tf.square(saved), -0.5)), INV_SQRT_2PI);
            return tf.mul(dy, tf.add(cdf, tf.mul(saved, pdf)));
          }),
  };
});

export function geluErf(x: tf.Tensor): tf.Tensor {
  return geluWithGrad(x);
}

/**
 * LayerNorm over the last axis with the biased (population) variance. The gradient is written out
 * (dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ) so the backward pass keeps x̂ and rstd only.
 */
const layerNormWithGrad = (eps: number) =>
  withGradient(([x, gamma, beta], save) => {
    const [normed, rstd] = tf.tidy(() => {
      const { mean, variance } = tf.moments(x, 1, true);
      const r = tf.rsqrt(tf.add(variance, eps));
      return [tf.mul(tf.sub(x, mean), r), r];
    });
    save([normed, rstd, gamma]);
    return {
      value: tf.tidy(() => tf.add(tf.mul(normed, gamma), beta)),
      gradFunc: (dy: tf.Tensor, [xHat, r, g]: tf.Tensor[]) =>
        tf.tidy(() => {
          const gy = tf.mul(dy, g);
          const dx = tf.mul(r, tf.sub(tf.sub(gy, tf.mean(gy, 1, true)), tf.mul(xHat, tf.mean(tf.mul(gy, xHat), 1, true))));
          return [dx, tf.sum(tf.mul(dy, xHat), 0), tf.sum(dy, 0)];
        }),
    };
  });

const layerNormByEps = new Map<number, ReturnType<typeof layerNormWithGrad>>();

export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  let fn = layerNormByEps.get(eps);
  if (!fn) layerNormByEps.set(eps, (fn = layerNormWithGrad(eps)));
  return fn(x, gamma, beta) as tf.Tensor2D;
}

/**
 * x·W + b with W already stored as [in, out] (no transpose flag on the hot path); with a bias, one fused
 * product (on wasm with native/blas: sgemm writing onto the bias rows, wasm-kernels.ts).
 */
export function dense(x: tf.Tensor2D, weightInOut: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => (bias ? tf.fused.matMul({ a: x, b: weightInOut, bias }) : tf.matMul(x, weightInOut)) as tf.Tensor2D);
}

/**
 * x·W + b for a frozen W and b: the only gradient is dx = dy·Wᵀ, computed from a transposed copy of
 * W that `transposed()` makes once and keeps (tfjs's own gradient would transpose W on every
 * backward pass, and XNNPACK would re-pack the new tensor each time: 25 % of a ViT-B dense backward).
 */
export function frozenDense(x: tf.Tensor2D, weightInOut: tf.Tensor2D, bias: tf.Tensor1D | undefined, transposed: () => tf.Tensor2D): tf.Tensor2D {
  const op = withGradient(([input]) => ({
    value: dense(input as tf.Tensor2D, weightInOut, bias),
    gradFunc: (dy) => tf.matMul(dy, transposed()),
  }));
  return op(x) as tf.Tensor2D;
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
