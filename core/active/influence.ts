/**
 * Validation influence of labelling a case: how much the validation loss of the model's linear head
 * is expected to fall if the case were labelled and the head refitted (first-order influence, Koh &
 * Liang 2017; used for acquisition as in ISAL, Liu et al. 2021, and GLISTER, Killamsetty et al. 2021).
 *
 * The head is softmax(W·z + b) on standardised features z (the labelled cases' mean and population sd,
 * as the linear probe fits). Its training objective is Σᵢ sᵢ·CE(xᵢ, yᵢ) + (λ/2)‖W‖², with sᵢ the class
 * weight of case i. Adding a case (x, y) with weight s_y moves the parameters by
 * Δθ ≈ −H⁻¹ s_y ∇ℓ(x, y), so the validation loss changes by gᵀΔθ = −s_y (p − e_y)·u with
 * g = Σ_val ∇CE (the validation gradient), v = H⁻¹g and u_k = v_k·[z, 1]. The label is unknown, and
 * the expected change over y ~ p is zero at first order, so the score is the expected *fall*:
 * Σ_y p_y · max(0, s_y (p − e_y)·u) — large when the case is uncertain *and* its gradient points
 * where the validation loss wants the head to move. H is never formed: v comes from conjugate
 * gradients on Hessian–vector products, O(m·K·D) each, so D = 768 costs no more than a few
 * milliseconds per product.
 */
import { AcquisitionInputError } from './input';

export interface InfluenceInput {
  /** Head on raw features: weight [K×D] row-major, bias [K]. */
  weight: Float32Array;
  bias: Float32Array;
  /** Labelled training cases the head was fitted on: features [m×D] and classes 0..K−1. */
  labelled: { features: Float32Array; labels: ArrayLike<number> };
  /** Validation cases: features [v×D] and classes. */
  validation: { features: Float32Array; labels: ArrayLike<number> };
  /** Unlabelled candidates: features [n×D]. */
  candidates: Float32Array;
  /**
   * Inverse penalty of the head (scikit-learn's C, the probe's chosen value). The Hessian's ridge is
   * 1/C per weight; a binary probe stores ±w/2 (so its penalty ½‖w‖² is ‖W‖²) and gets 2/C.
   */
  C: number;
  /** Loss weight per class (default 1 each). */
  classWeights?: ArrayLike<number>;
  /** Conjugate-gradient limits (defaults 200 iterations, relative residual 1e-6). */
  maxIterations?: number;
  tolerance?: number;
}

export interface InfluenceResult {
  /** Expected fall of the validation loss per candidate (≥ 0; larger = more useful to label). */
  scores: Float64Array;
  /** [n×K]: the first-order change of the summed validation loss if candidate i were labelled k. */
  changes: Float64Array;
  /** Conjugate-gradient iterations used and the final relative residual. */
  iterations: number;
  residual: number;
}

/** Scores every candidate by the expected fall of the validation loss if it were labelled. */
export function validationInfluence(input: InfluenceInput): InfluenceResult {
  const K = input.bias.length;
  const D = input.weight.length / K;
  if (!Number.isInteger(D) || D === 0) throw new AcquisitionInputError(`influence: head weight holds ${input.weight.length} values, not a multiple of ${K} classes`);
  const m = rowsOf(input.labelled.features, D, 'labelled features', input.labelled.labels.length);
  const v = rowsOf(input.validation.features, D, 'validation features', input.validation.labels.length);
  const n = rowsOf(input.candidates, D, 'candidates');
  if (!(input.C > 0) || !Number.isFinite(input.C)) throw new AcquisitionInputError(`influence: C must be positive, got ${input.C}`);
  if (m === 0) throw new AcquisitionInputError('influence: no labelled training case');
  const weights = Float64Array.from({ length: K }, (_, k) => input.classWeights?.[k] ?? 1);
  const D1 = D + 1;

  // Standardise with the labelled cases' statistics and move the head into that space (same logits).
  const mean = new Float64Array(D);
  const sd = new Float64Array(D);
  for (let i = 0; i < m; i++) for (let d = 0; d < D; d++) mean[d] += input.labelled.features[i * D + d] / m;
  for (let i = 0; i < m; i++) for (let d = 0; d < D; d++) sd[d] += (input.labelled.features[i * D + d] - mean[d]) ** 2 / m;
  for (let d = 0; d < D; d++) sd[d] = Math.sqrt(sd[d]) || 1;
  const head = new Float64Array(K * D1);
  for (let k = 0; k < K; k++) {
    let b = input.bias[k];
    for (let d = 0; d < D; d++) {
      head[k * D1 + d] = input.weight[k * D + d] * sd[d];
      b += input.weight[k * D + d] * mean[d];
    }
    head[k * D1 + D] = b;
  }
  const augment = (x: Float32Array, rows: number) => {
    const z = new Float64Array(rows * D1);
    for (let i = 0; i < rows; i++) {
      for (let d = 0; d < D; d++) z[i * D1 + d] = (x[i * D + d] - mean[d]) / sd[d];
      z[i * D1 + D] = 1;
    }
    return z;
  };
  const zl = augment(input.labelled.features, m);
  const zv = augment(input.validation.features, v);
  const zc = augment(input.candidates, n);
  const pl = softmaxRows(zl, m, head, K, D1);
  const pv = softmaxRows(zv, v, head, K, D1);
  const pc = softmaxRows(zc, n, head, K, D1);

  // g = Σ_val (p − e_y) ⊗ z.
  const g = new Float64Array(K * D1);
  for (let i = 0; i < v; i++) {
    const y = input.validation.labels[i];
    for (let k = 0; k < K; k++) {
      const r = pv[i * K + k] - (k === y ? 1 : 0);
      if (r !== 0) for (let d = 0; d < D1; d++) g[k * D1 + d] += r * zv[i * D1 + d];
    }
  }
  const ridge = (K === 2 ? 2 : 1) / input.C;
  // The bias is unpenalised; a tiny ridge keeps H positive definite along the softmax's null direction.
  const biasRidge = 1e-8;
  const sampleWeight = Float64Array.from({ length: m }, (_, i) => weights[input.labelled.labels[i]]);
  const hessianTimes = (x: Float64Array, out: Float64Array) => {
    out.fill(0);
    const a = new Float64Array(K);
    for (let i = 0; i < m; i++) {
      // a = x·z per class, then (diag(p) − ppᵀ) a.
      let pa = 0;
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let d = 0; d < D1; d++) s += x[k * D1 + d] * zl[i * D1 + d];
        a[k] = s;
        pa += pl[i * K + k] * s;
      }
      for (let k = 0; k < K; k++) {
        const c = sampleWeight[i] * pl[i * K + k] * (a[k] - pa);
        if (c !== 0) for (let d = 0; d < D1; d++) out[k * D1 + d] += c * zl[i * D1 + d];
      }
    }
    for (let k = 0; k < K; k++) {
      for (let d = 0; d < D; d++) out[k * D1 + d] += ridge * x[k * D1 + d];
      out[k * D1 + D] += biasRidge * x[k * D1 + D];
    }
  };
  const solved = conjugateGradient(hessianTimes, g, input.maxIterations ?? 200, input.tolerance ?? 1e-6);

  const scores = new Float64Array(n);
  const changes = new Float64Array(n * K);
  const u = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    let pu = 0;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let d = 0; d < D1; d++) s += solved.x[k * D1 + d] * zc[i * D1 + d];
      u[k] = s;
      pu += pc[i * K + k] * s;
    }
    let score = 0;
    for (let y = 0; y < K; y++) {
      const fall = weights[y] * (pu - u[y]);
      changes[i * K + y] = -fall;
      score += pc[i * K + y] * Math.max(0, fall);
    }
    scores[i] = score;
  }
  return { scores, changes, iterations: solved.iterations, residual: solved.residual };
}

function rowsOf(x: Float32Array, D: number, what: string, expected?: number): number {
  const rows = x.length / D;
  if (!Number.isInteger(rows)) throw new AcquisitionInputError(`influence: ${what} hold ${x.length} values, not a multiple of D = ${D}`);
  if (expected !== undefined && rows !== expected) throw new AcquisitionInputError(`influence: ${what} have ${rows} rows but ${expected} labels`);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new AcquisitionInputError(`influence: ${what} hold a non-finite value at ${i}`);
  return rows;
}

function softmaxRows(z: Float64Array, rows: number, head: Float64Array, K: number, D1: number): Float64Array {
  const p = new Float64Array(rows * K);
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let d = 0; d < D1; d++) s += head[k * D1 + d] * z[i * D1 + d];
      p[i * K + k] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += p[i * K + k] = Math.exp(p[i * K + k] - max);
    for (let k = 0; k < K; k++) p[i * K + k] /= sum;
  }
  return p;
}

/** Solves A x = b for a symmetric positive definite A given as a product (Hestenes–Stiefel CG). */
export function conjugateGradient(times: (x: Float64Array, out: Float64Array) => void, b: Float64Array, maxIterations: number, tolerance: number) {
  const x = new Float64Array(b.length);
  const r = Float64Array.from(b);
  const p = Float64Array.from(b);
  const ap = new Float64Array(b.length);
  const dot = (a: Float64Array, c: Float64Array) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * c[i];
    return s;
  };
  const bNorm = Math.sqrt(dot(b, b));
  if (bNorm === 0) return { x, iterations: 0, residual: 0 };
  let rr = dot(r, r);
  let iterations = 0;
  while (iterations < maxIterations && Math.sqrt(rr) > tolerance * bNorm) {
    times(p, ap);
    const alpha = rr / dot(p, ap);
    for (let i = 0; i < x.length; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * ap[i];
    }
    const next = dot(r, r);
    const beta = next / rr;
    for (let i = 0; i < p.length; i++) p[i] = r[i] + beta * p[i];
    rr = next;
    iterations++;
  }
  return { x, iterations, residual: Math.sqrt(rr) / bNorm };
}
