/**
 * Per-case uncertainty scores over softmax rows. Every score is "larger = more informative", so
 * strategies can rank them the same way. Natural logarithms throughout (nats).
 */
import type { Matrix } from './input';

/** Shannon entropy −Σ p·ln p of one row (0·ln 0 = 0). */
function rowEntropy(data: Float32Array, start: number, cols: number): number {
  let h = 0;
  for (let j = 0; j < cols; j++) {
    const p = data[start + j];
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/** Entropy of each row, in nats; 0 for a one-hot row, ln C for a uniform one. */
export function entropyScores(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) out[i] = rowEntropy(m.data, i * m.cols, m.cols);
  return out;
}

/** Largest and second-largest probability of each row. */
function topTwo(m: Matrix, i: number): [number, number] {
  let first = -Infinity;
  let second = -Infinity;
  for (let j = 0; j < m.cols; j++) {
    const p = m.data[i * m.cols + j];
    if (p > first) {
      second = first;
      first = p;
    } else if (p > second) {
      second = p;
    }
  }
  return [first, m.cols > 1 ? second : 0];
}

/** Least confidence: 1 − max_c p_c. */
export function leastConfidenceScores(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) out[i] = 1 - topTwo(m, i)[0];
  return out;
}

/** Margin between the two most likely classes, p₁ − p₂ (smaller = more uncertain). */
export function marginValues(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    const [a, b] = topTwo(m, i);
    out[i] = a - b;
  }
  return out;
}

/** Margin as a score: 1 − (p₁ − p₂). */
export function marginScores(m: Matrix): Float64Array {
  return marginValues(m).map((v) => 1 - v);
}

/**
 * Grade variance Σₖ pₖk² − (Σₖ pₖk)² over class ids 0…C−1 read as ordered grades: the expected squared
 * grade error of the predicted mean grade. Quadratic-weighted kappa, an ordinal task's metric, charges
 * (i − j)² for calling grade i grade j, so this is uncertainty in the metric's own terms: a case torn
 * between grades 1 and 3 scores 1, one torn between 1 and 2 scores 0.25, where margin calls both equal.
 * For two classes it is p₀p₁, which ranks cases exactly as margin does.
 */
export function gradeVarianceScores(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let first = 0;
    let second = 0;
    for (let k = 0; k < m.cols; k++) {
      const p = m.data[i * m.cols + k];
      first += p * k;
      second += p * k * k;
    }
    out[i] = Math.max(0, second - first * first);
  }
  return out;
}

/** Mean over the T samples: the predictive distribution p̄ [n×C]. */
export function meanOfSamples(s: { data: Float32Array; samples: number; rows: number; cols: number }): Matrix {
  const size = s.rows * s.cols;
  const sum = new Float64Array(size);
  for (let t = 0; t < s.samples; t++) {
    const offset = t * size;
    for (let k = 0; k < size; k++) sum[k] += s.data[offset + k];
  }
  const data = new Float32Array(size);
  for (let k = 0; k < size; k++) data[k] = sum[k] / s.samples;
  return { data, rows: s.rows, cols: s.cols };
}

/**
 * BALD (Houlsby et al. 2011; Gal et al. 2017): mutual information between the prediction and the
 * model parameters, estimated from T MC-dropout passes:
 *   I = H(p̄) − (1/T)·Σ_t H(p_t),  p̄ = (1/T)·Σ_t p_t.
 * 0 when all passes agree; large when each pass is confident but they disagree. Clamped at 0
 * against rounding.
 */
export function baldScores(s: { data: Float32Array; samples: number; rows: number; cols: number }): Float64Array {
  const out = new Float64Array(s.rows);
  const mean = new Float64Array(s.cols);
  const size = s.rows * s.cols;
  for (let i = 0; i < s.rows; i++) {
    mean.fill(0);
    let expectedEntropy = 0;
    for (let t = 0; t < s.samples; t++) {
      const start = t * size + i * s.cols;
      expectedEntropy += rowEntropy(s.data, start, s.cols);
      for (let j = 0; j < s.cols; j++) mean[j] += s.data[start + j];
    }
    let predictiveEntropy = 0;
    for (let j = 0; j < s.cols; j++) {
      const p = mean[j] / s.samples;
      if (p > 0) predictiveEntropy -= p * Math.log(p);
    }
    out[i] = Math.max(0, predictiveEntropy - expectedEntropy / s.samples);
  }
  return out;
}
