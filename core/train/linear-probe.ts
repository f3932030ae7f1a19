/**
 * Linear probe fitted directly on cached frozen features: multinomial logistic regression with an
 * L2 penalty on the weights (not the bias), minimised by L-BFGS in float64, on standardised features.
 * The objective is scikit-learn's LogisticRegression(solver='lbfgs'):
 *   C · Σᵢ sᵢ · (−ln p(yᵢ | xᵢ)) + ½‖W‖²,  sᵢ = class weight of yᵢ (1, or n/(K·n_k) when 'balanced'),
 * binomial for two classes (one weight vector, stored as ±w/2 so that softmax = sigmoid), softmax over
 * all classes otherwise. C is chosen on the validation split from a small grid by the task's selection
 * metric; the standardisation is folded back so the result is a plain head on raw features.
 * Formulas and the scikit-learn comparison: docs/active-learning.md.
 */
import { summarizeMetrics } from './metrics';
import type { ClassWeighting } from '../vocabulary';

export class LinearProbeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinearProbeError';
  }
}

/** Cached features of n cases, [n×D] row-major, and their class ids 0..C−1. */
export interface FeatureSet {
  features: Float32Array;
  labels: ArrayLike<number>;
}

export interface LinearProbeOptions {
  task: 'multiclass' | 'ordinal';
  numClasses: number;
  /** Inverse L2 strengths to try (scikit-learn's C); default 0.01, 0.1, 1, 10, 100. */
  grid?: readonly number[];
  /** 'balanced' weighs class k by n/(K·n_k) (scikit-learn's class_weight='balanced'); default 'none'. */
  classWeighting?: 'none' | 'balanced';
  /** L-BFGS limits: iterations (default 1000) and max |gradient| of the per-weight objective (default 1e-7). */
  maxIterations?: number;
  tolerance?: number;
}

export interface ProbeScore {
  C: number;
  /** Selection metric on the validation split (NaN when undefined there). */
  value: number;
  iterations: number;
  converged: boolean;
}

export interface HeadTensors {
  'head.weight': { shape: [number, number]; data: Float32Array };
  'head.bias': { shape: [number]; data: Float32Array };
}

export interface LinearProbeResult {
  tensors: HeadTensors;
  /** The chosen C and the validation score of every C tried, in grid order. */
  C: number;
  scores: ProbeScore[];
  /** Name of the selection metric (e.g. kappaQuadratic, macroAuc). */
  metric: string;
}

export const DEFAULT_PROBE_GRID: readonly number[] = [0.01, 0.1, 1, 10, 100];
/** Logit given to a class with no training case: e^−9 ≈ 1e-4 of the smallest present class's odds. */
const ABSENT_CLASS_OFFSET = 9;

/**
 * Fits one probe per C on `train`, scores each on `val`, returns the best (ties: the smaller C, i.e. the
 * stronger penalty). With no validation case, C = 1 (scikit-learn's default) is fitted alone.
 */
export function fitLinearProbe(train: FeatureSet, val: FeatureSet, options: LinearProbeOptions): LinearProbeResult {
  const { numClasses } = options;
  const n = train.labels.length;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new LinearProbeError(`numClasses must be an integer ≥ 2, got ${numClasses}`);
  if (n === 0) throw new LinearProbeError('no training cases');
  const dim = checkSet(train, 'train', numClasses);
  if (val.labels.length > 0 && checkSet(val, 'val', numClasses) !== dim) {
    throw new LinearProbeError(`val features have ${val.features.length / val.labels.length} dimensions, train ${dim}`);
  }
  const grid = val.labels.length > 0 ? [...(options.grid ?? DEFAULT_PROBE_GRID)] : [1];
  if (grid.length === 0 || grid.some((c) => !(c > 0) || !Number.isFinite(c))) throw new LinearProbeError(`grid must hold positive finite C values, got [${grid.join(', ')}]`);

  const scaler = standardiser(train.features, n, dim);
  const x = scaler.apply(train.features, n);
  const problem = buildProblem(x, train.labels, n, dim, numClasses, options.classWeighting ?? 'none');
  const scores: ProbeScore[] = [];
  let best: { value: number; tensors: HeadTensors; C: number } | undefined;
  let metric = '';
  let start: Float64Array | undefined;
  // Increasing C from a warm start: each solution is a good first guess for the next, weaker penalty.
  const order = grid.map((C, i) => ({ C, i })).sort((a, b) => a.C - b.C);
  const byIndex: (ProbeScore & { tensors: HeadTensors })[] = [];
  for (const { C, i } of order) {
    const fit = minimiseLbfgs((w) => problem.objective(w, C), start ?? new Float64Array(problem.size), {
      maxIterations: options.maxIterations ?? 1000,
      tolerance: options.tolerance ?? 1e-7,
    });
    start = fit.x;
    const tensors = problem.toHead(fit.x, scaler);
    let value = NaN;
    if (val.labels.length > 0) {
      const summary = summarizeMetrics(options.task, predictProbabilities(tensors, val.features), val.labels);
      value = summary.selection.value;
      metric = summary.selection.name;
    }
    byIndex[i] = { C, value, iterations: fit.iterations, converged: fit.converged, tensors };
  }
  for (const entry of byIndex) {
    scores.push({ C: entry.C, value: entry.value, iterations: entry.iterations, converged: entry.converged });
    const value = Number.isNaN(entry.value) ? -Infinity : entry.value;
    if (!best || value > best.value || (value === best.value && entry.C < best.C)) best = { value, tensors: entry.tensors, C: entry.C };
  }
  return { tensors: best!.tensors, C: best!.C, scores, metric: metric || 'none (no validation cases)' };
}

/** Softmax probabilities [n×C] of a head on raw features [n×D]. */
export function predictProbabilities(head: HeadTensors, features: Float32Array): Float32Array {
  const [classes, dim] = head['head.weight'].shape;
  const w = head['head.weight'].data;
  const b = head['head.bias'].data;
  if (features.length % dim !== 0) throw new LinearProbeError(`features hold ${features.length} values, not a multiple of D = ${dim}`);
  const n = features.length / dim;
  const out = new Float32Array(n * classes);
  const logits = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = b[c];
      for (let d = 0; d < dim; d++) s += w[c * dim + d] * features[i * dim + d];
      logits[c] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += logits[c] = Math.exp(logits[c] - max);
    for (let c = 0; c < classes; c++) out[i * classes + c] = logits[c] / sum;
  }
  return out;
}

function checkSet(set: FeatureSet, what: string, numClasses: number): number {
  const n = set.labels.length;
  if (set.features.length % n !== 0 || set.features.length === 0) {
    throw new LinearProbeError(`${what}: ${set.features.length} feature values cannot be shaped as ${n} rows`);
  }
  for (let i = 0; i < n; i++) {
    const y = set.labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new LinearProbeError(`${what}: label ${i} is ${y}, expected a class id in 0..${numClasses - 1}`);
  }
  for (let k = 0; k < set.features.length; k++) {
    if (!Number.isFinite(set.features[k])) throw new LinearProbeError(`${what}: feature ${k} (row ${Math.floor((k * n) / set.features.length)}) is ${set.features[k]}`);
  }
  return set.features.length / n;
}

interface Standardiser {
  mean: Float64Array;
  /** Population standard deviation (ddof 0, as StandardScaler); 1 for a constant feature. */
  scale: Float64Array;
  apply(features: Float32Array, n: number): Float64Array;
}

function standardiser(features: Float32Array, n: number, dim: number): Standardiser {
  const mean = new Float64Array(dim);
  const scale = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += features[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= n;
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) {
      const v = features[i * dim + d] - mean[d];
      scale[d] += v * v;
    }
  }
  for (let d = 0; d < dim; d++) {
    const sd = Math.sqrt(scale[d] / n);
    scale[d] = sd > 1e-12 * Math.max(1, Math.abs(mean[d])) ? sd : 1;
  }
  return {
    mean,
    scale,
    apply(f, rows) {
      const out = new Float64Array(rows * dim);
      for (let i = 0; i < rows; i++) for (let d = 0; d < dim; d++) out[i * dim + d] = (f[i * dim + d] - mean[d]) / scale[d];
      return out;
    },
  };
}

interface Problem {
  size: number;
  /** Objective divided by Σ sᵢ/C (same minimiser, tolerance independent of n and C) and its gradient. */
  objective(w: Float64Array, C: number): { f: number; g: Float64Array };
  toHead(w: Float64Array, scaler: Standardiser): HeadTensors;
}

/** The probe's weighting for a training configuration's class weighting ('inverse' and 'effective' both mean balanced here). */
export const probeWeighting = (weighting: ClassWeighting): 'none' | 'balanced' => (weighting === 'none' ? 'none' : 'balanced');

/**
 * Loss weight per class: 1, or n/(K·n_k) over the K classes present (scikit-learn's 'balanced'). A class
 * with no training case gets the largest weight of the others (it matters only to influence.ts, which asks
 * what labelling such a case would do).
 */
export function probeClassWeights(labels: ArrayLike<number>, numClasses: number, weighting: 'none' | 'balanced'): Float64Array {
  const out = new Float64Array(numClasses).fill(1);
  if (weighting === 'none') return out;
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const present = counts.filter((c) => c > 0).length;
  for (let c = 0; c < numClasses; c++) out[c] = counts[c] > 0 ? labels.length / (present * counts[c]) : 0;
  const largest = Math.max(...out);
  for (let c = 0; c < numClasses; c++) if (counts[c] === 0) out[c] = largest;
  return out;
}

/**
 * Parameters: K rows of D weights then K biases over the classes present in training (K ≥ 2), or one
 * weight vector and one bias when K = 2 (binomial, as scikit-learn). Classes absent from training
 * get zero weights and a bias far below the others.
 */
function buildProblem(x: Float64Array, labels: ArrayLike<number>, n: number, dim: number, numClasses: number, weighting: 'none' | 'balanced'): Problem {
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  const present = [...counts.keys()].filter((c) => counts[c] > 0);
  const k = present.length;
  const slot = new Int32Array(numClasses).fill(-1);
  present.forEach((c, j) => (slot[c] = j));
  const perClass = probeClassWeights(labels, numClasses, weighting);
  const sampleWeight = Float64Array.from({ length: n }, (_, i) => perClass[labels[i]]);
  const total = sampleWeight.reduce((a, b) => a + b, 0);
  const y = Int32Array.from({ length: n }, (_, i) => slot[labels[i]]);
  const binary = k === 2;
  const rows = binary ? 1 : k;
  const size = k === 1 ? 0 : rows * (dim + 1);

  function objective(w: Float64Array, C: number): { f: number; g: Float64Array } {
    const g = new Float64Array(size);
    let loss = 0;
    const z = new Float64Array(rows);
    for (let i = 0; i < n; i++) {
      const xi = i * dim;
      for (let r = 0; r < rows; r++) {
        const wr = r * dim;
        let s = w[rows * dim + r];
        for (let d = 0; d < dim; d++) s += w[wr + d] * x[xi + d];
        z[r] = s;
      }
      const si = sampleWeight[i];
      if (binary) {
        // −ln σ(±z) computed stably; the derivative is σ(z) − y.
        const t = y[i] === 1 ? z[0] : -z[0];
        loss += si * (t > 0 ? Math.log1p(Math.exp(-t)) : -t + Math.log1p(Math.exp(t)));
        const p = 1 / (1 + Math.exp(-z[0]));
        z[0] = si * (p - y[i]);
      } else {
        let max = -Infinity;
        for (let r = 0; r < rows; r++) if (z[r] > max) max = z[r];
        let sum = 0;
        for (let r = 0; r < rows; r++) sum += Math.exp(z[r] - max);
        const logSum = max + Math.log(sum);
        loss += si * (logSum - z[y[i]]);
        for (let r = 0; r < rows; r++) z[r] = si * (Math.exp(z[r] - logSum) - (r === y[i] ? 1 : 0));
      }
      for (let r = 0; r < rows; r++) {
        const e = z[r];
        if (e === 0) continue;
        const gr = r * dim;
        for (let d = 0; d < dim; d++) g[gr + d] += e * x[xi + d];
        g[rows * dim + r] += e;
      }
    }
    // Scale C·loss + ½‖W‖² by 1/(C·total).
    const penalty = 1 / (C * total);
    let f = loss / total;
    for (let j = 0; j < size; j++) g[j] /= total;
    for (let j = 0; j < rows * dim; j++) {
      f += 0.5 * penalty * w[j] * w[j];
      g[j] += penalty * w[j];
    }
    return { f, g };
  }

  function toHead(w: Float64Array, scaler: Standardiser): HeadTensors {
    // Logit on raw x: Σ_d w_d (x_d − μ_d)/σ_d + b = Σ_d (w_d/σ_d) x_d + (b − Σ_d w_d μ_d/σ_d).
    const raw = (r: number) => {
      const weight = new Float64Array(dim);
      let bias = k === 1 ? 0 : w[rows * dim + r];
      for (let d = 0; d < dim; d++) {
        const v = k === 1 ? 0 : w[r * dim + d];
        weight[d] = v / scaler.scale[d];
        bias -= (v * scaler.mean[d]) / scaler.scale[d];
      }
      return { weight, bias };
    };
    const weight = new Float32Array(numClasses * dim);
    const bias = new Float32Array(numClasses);
    const rowsOut: { weight: Float64Array; bias: number }[] = [];
    if (binary) {
      const { weight: v, bias: b } = raw(0);
      rowsOut.push({ weight: v.map((t) => -t / 2), bias: -b / 2 }, { weight: v.map((t) => t / 2), bias: b / 2 });
    } else {
      for (let r = 0; r < k; r++) rowsOut.push(raw(r));
    }
    present.forEach((c, j) => {
      weight.set(rowsOut[j].weight, c * dim);
      bias[c] = rowsOut[j].bias;
    });
    const floor = Math.min(...rowsOut.map((r) => r.bias)) - ABSENT_CLASS_OFFSET;
    for (let c = 0; c < numClasses; c++) if (slot[c] < 0) bias[c] = floor;
    return { 'head.weight': { shape: [numClasses, dim], data: weight }, 'head.bias': { shape: [numClasses], data: bias } };
  }

  return { size, objective, toHead };
}

interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * Limited-memory BFGS (Nocedal & Wright, Algorithm 7.4/7.5): two-loop recursion over the last m
 * (s, y) pairs, initial Hessian scaled by sᵀy/yᵀy, backtracking line search with the Armijo condition;
 * a pair with sᵀy ≤ 0 is skipped so the approximation stays positive definite. Stops when
 * max |∇f| ≤ tolerance or f stops moving.
 */
export function minimiseLbfgs(
  fg: (x: Float64Array) => { f: number; g: Float64Array },
  x0: Float64Array,
  { maxIterations = 1000, tolerance = 1e-7, memory = 10 }: { maxIterations?: number; tolerance?: number; memory?: number } = {},
): LbfgsResult {
  let x = x0.slice();
  let { f, g } = fg(x);
  const s: Float64Array[] = [];
  const yv: Float64Array[] = [];
  const rho: number[] = [];
  if (x.length === 0 || maxAbs(g) <= tolerance) return { x, f, iterations: 0, converged: true };
  for (let iter = 1; iter <= maxIterations; iter++) {
    // Two-loop recursion: d = −H·g.
    const q = g.slice();
    const alpha: number[] = [];
    for (let j = s.length - 1; j >= 0; j--) {
      alpha[j] = rho[j] * dot(s[j], q);
      for (let i = 0; i < q.length; i++) q[i] -= alpha[j] * yv[j][i];
    }
    const gamma = s.length ? dot(s.at(-1)!, yv.at(-1)!) / dot(yv.at(-1)!, yv.at(-1)!) : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let i = 0; i < q.length; i++) q[i] *= gamma;
    for (let j = 0; j < s.length; j++) {
      const beta = rho[j] * dot(yv[j], q);
      for (let i = 0; i < q.length; i++) q[i] += s[j][i] * (alpha[j] - beta);
    }
    const d = q.map((v) => -v);
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      s.length = yv.length = rho.length = 0;
      for (let i = 0; i < d.length; i++) d[i] = -g[i];
      slope = -dot(g, g);
    }
    let step = 1;
    let next: { f: number; g: Float64Array } | undefined;
    let xNew = x;
    for (let tries = 0; tries < 60; tries++) {
      xNew = x.map((v, i) => v + step * d[i]);
      next = fg(xNew);
      if (Number.isFinite(next.f) && next.f <= f + 1e-4 * step * slope) break;
      next = undefined;
      step *= 0.5;
    }
    if (!next) return { x, f, iterations: iter, converged: maxAbs(g) <= tolerance * 10 };
    const sk = xNew.map((v, i) => v - x[i]);
    const yk = next.g.map((v, i) => v - g[i]);
    const sy = dot(sk, yk);
    if (sy > 1e-300) {
      s.push(sk);
      yv.push(yk);
      rho.push(1 / sy);
      if (s.length > memory) {
        s.shift();
        yv.shift();
        rho.shift();
      }
    }
    const change = f - next.f;
    x = xNew;
    f = next.f;
    g = next.g;
    if (maxAbs(g) <= tolerance) return { x, f, iterations: iter, converged: true };
    if (change <= 1e-16 * Math.max(1, Math.abs(f))) return { x, f, iterations: iter, converged: maxAbs(g) <= tolerance * 100 };
  }
  return { x, f, iterations: maxIterations, converged: false };
}
