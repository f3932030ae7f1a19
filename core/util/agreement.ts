/**
 * Inter-rater agreement on class labels: Cohen's kappa (unweighted, or quadratic weights for an ordinal
 * scale), Fleiss' kappa over any number of raters, percent agreement, each per class (one-vs-rest) and
 * overall, with a percentile-bootstrap interval over cases. Pure functions on class ids 0…K−1, so the
 * store, the CLI and the tests share one definition (formulas: docs/readers.md).
 */
import { seededRandom } from './prng';

export type KappaWeights = 'none' | 'quadratic';

/** A statistic with its bootstrap interval; NaN where the cases do not define it (e.g. one class only). */
export interface AgreementStat {
  value: number;
  lo: number;
  hi: number;
  /** Cases it was computed on. */
  n: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number | string;
  /** Confidence level of [lo, hi]. */
  level?: number;
}

const BOOTSTRAP = { resamples: 1000, seed: 'agreement', level: 0.95 };

/**
 * Cohen's kappa of two raters' class ids: 1 − Σ w·O / Σ w·E with O the observed and E the chance
 * (product of marginals) contingency table; w = 1 off the diagonal (unweighted) or ((i−j)/(K−1))²
 * (quadratic). Equals scikit-learn's cohen_kappa_score(a, b, labels=range(K), weights=…).
 */
export function cohenKappa(a: ArrayLike<number>, b: ArrayLike<number>, classes: number, weights: KappaWeights = 'none'): number {
  const n = a.length;
  if (n !== b.length) throw new Error(`kappa needs paired ratings (${n} vs ${b.length})`);
  if (n === 0 || classes < 2) return NaN;
  const observed = new Float64Array(classes * classes);
  const rowSum = new Float64Array(classes);
  const colSum = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    observed[a[i] * classes + b[i]]++;
    rowSum[a[i]]++;
    colSum[b[i]]++;
  }
  let wObserved = 0;
  let wExpected = 0;
  for (let i = 0; i < classes; i++) {
    for (let j = 0; j < classes; j++) {
      if (i === j) continue;
      const w = weights === 'quadratic' ? ((i - j) / (classes - 1)) ** 2 : 1;
      wObserved += w * observed[i * classes + j];
      wExpected += (w * rowSum[i] * colSum[j]) / n;
    }
  }
  return wExpected === 0 ? NaN : 1 - wObserved / wExpected;
}

/**
 * Fleiss' kappa from each case's class ids (one per rater; raters may differ between cases and their
 * number may vary, cases with fewer than two ratings are left out): κ = (P̄ − P̄e) / (1 − P̄e) with
 * P_i = Σ_j n_ij (n_ij − 1) / (n_i (n_i − 1)) and P̄e = Σ_j p_j², p_j the share of all ratings in class j.
 */
export function fleissKappa(ratings: readonly (readonly number[])[], classes: number): number {
  const rated = ratings.filter((r) => r.length >= 2);
  if (rated.length === 0) return NaN;
  const totals = new Float64Array(classes);
  let all = 0;
  let pSum = 0;
  for (const r of rated) {
    const counts = new Float64Array(classes);
    for (const c of r) counts[c]++;
    let agree = 0;
    for (let j = 0; j < classes; j++) {
      agree += counts[j] * (counts[j] - 1);
      totals[j] += counts[j];
    }
    pSum += agree / (r.length * (r.length - 1));
    all += r.length;
  }
  const pBar = pSum / rated.length;
  let pe = 0;
  for (let j = 0; j < classes; j++) pe += (totals[j] / all) ** 2;
  return pe === 1 ? NaN : (pBar - pe) / (1 - pe);
}

/** Share of cases on which two raters gave the same class. */
export function percentAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0) return NaN;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Share of rater pairs within a case that agree, averaged over cases with at least two ratings. */
export function pairwiseAgreement(ratings: readonly (readonly number[])[]): number {
  const rated = ratings.filter((r) => r.length >= 2);
  if (rated.length === 0) return NaN;
  let sum = 0;
  for (const r of rated) {
    let same = 0;
    let pairs = 0;
    for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++, pairs++) if (r[i] === r[j]) same++;
    sum += same / pairs;
  }
  return sum / rated.length;
}

/** Class `c` against the rest: 1 where the id is c, else 0. */
export function oneVsRest(ids: ArrayLike<number>, c: number): number[] {
  return Array.from(ids, (v) => (v === c ? 1 : 0));
}

/**
 * A statistic over cases with its percentile-bootstrap interval: cases are resampled with replacement
 * (seeded, so a report is reproducible), `stat` is recomputed on each resample's case indices, and the
 * (1−level)/2 and (1+level)/2 percentiles of the defined values bound it.
 */
export function withInterval(n: number, stat: (indices: ArrayLike<number>) => number, options: BootstrapOptions = {}): AgreementStat {
  const { resamples, seed, level } = { ...BOOTSTRAP, ...options };
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const value = n === 0 ? NaN : stat(all);
  if (n < 2 || Number.isNaN(value)) return { value, lo: NaN, hi: NaN, n };
  const random = seededRandom(seed);
  const values: number[] = [];
  const pick = new Uint32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) pick[i] = Math.floor(random() * n);
    const v = stat(pick);
    if (!Number.isNaN(v)) values.push(v);
  }
  // Fewer than half the resamples defined it: the interval would describe an odd subset.
  if (values.length < resamples / 2) return { value, lo: NaN, hi: NaN, n };
  values.sort((x, y) => x - y);
  return { value, lo: percentile(values, (1 - level) / 2), hi: percentile(values, (1 + level) / 2), n };
}

/** Linear interpolation between order statistics (numpy's default). */
function percentile(sorted: number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Picks entries by index (a bootstrap resample). */
export function pick<T>(values: readonly T[], indices: ArrayLike<number>): T[] {
  return Array.from(indices, (i) => values[i]);
}
