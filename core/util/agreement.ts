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

/** The K×K table of two raters' class ids (row: a, column: b), over `indices` (a resample) or every case. */
export function confusion(a: ArrayLike<number>, b: ArrayLike<number>, classes: number, indices?: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new Error(`kappa needs paired ratings (${a.length} vs ${b.length})`);
  const m = new Float64Array(classes * classes);
  const n = indices ? indices.length : a.length;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k] : k;
    m[a[i] * classes + b[i]]++;
  }
  return m;
}

/**
 * Cohen's kappa from a K×K table: 1 − Σ w·O / Σ w·E with O the observed and E the chance (product of
 * marginals) table; w = 1 off the diagonal (unweighted) or ((i−j)/(K−1))² (quadratic).
 */
export function kappaOf(m: ArrayLike<number>, classes: number, weights: KappaWeights = 'none'): number {
  const rowSum = new Float64Array(classes);
  const colSum = new Float64Array(classes);
  let n = 0;
  for (let i = 0; i < classes; i++) {
    for (let j = 0; j < classes; j++) {
      rowSum[i] += m[i * classes + j];
      colSum[j] += m[i * classes + j];
      n += m[i * classes + j];
    }
  }
  if (n === 0 || classes < 2) return NaN;
  let wObserved = 0;
  let wExpected = 0;
  for (let i = 0; i < classes; i++) {
    for (let j = 0; j < classes; j++) {
      if (i === j) continue;
      const w = weights === 'quadratic' ? ((i - j) / (classes - 1)) ** 2 : 1;
      wObserved += w * m[i * classes + j];
      wExpected += (w * rowSum[i] * colSum[j]) / n;
    }
  }
  return wExpected === 0 ? NaN : 1 - wObserved / wExpected;
}

/** Share of agreeing cases in a K×K table. */
export function agreementOf(m: ArrayLike<number>, classes: number): number {
  let same = 0;
  let n = 0;
  for (let i = 0; i < classes; i++) {
    same += m[i * classes + i];
    for (let j = 0; j < classes; j++) n += m[i * classes + j];
  }
  return n === 0 ? NaN : same / n;
}

/** The 2×2 table of "class c or not" from a K×K table (one vs rest). */
export function oneVsRestTable(m: ArrayLike<number>, classes: number, c: number): Float64Array {
  let aYes = 0;
  let bYes = 0;
  let n = 0;
  for (let i = 0; i < classes; i++) {
    for (let j = 0; j < classes; j++) {
      const v = m[i * classes + j];
      n += v;
      if (i === c) aYes += v;
      if (j === c) bYes += v;
    }
  }
  const both = m[c * classes + c];
  // Index 0 = not c, 1 = c.
  return Float64Array.of(n - aYes - bYes + both, bYes - both, aYes - both, both);
}

/**
 * Cohen's kappa of two raters' class ids. Equals scikit-learn's
 * cohen_kappa_score(a, b, labels=range(K), weights=…).
 */
export function cohenKappa(a: ArrayLike<number>, b: ArrayLike<number>, classes: number, weights: KappaWeights = 'none'): number {
  if (a.length === 0) return NaN;
  return kappaOf(confusion(a, b, classes), classes, weights);
}

/**
 * Fleiss' kappa from each case's class ids (one per rater; raters may differ between cases and their
 * number may vary, cases with fewer than two ratings are left out): κ = (P̄ − P̄e) / (1 − P̄e) with
 * P_i = Σ_j n_ij (n_ij − 1) / (n_i (n_i − 1)) and P̄e = Σ_j p_j², p_j the share of all ratings in class j.
 */
export function fleissKappa(ratings: readonly (readonly number[])[], classes: number): number {
  return fleissOf(ratingCounts(ratings, classes), classes);
}

/** Per case, the number of ratings in each class (cases with fewer than two ratings left out). */
export function ratingCounts(ratings: readonly (readonly number[])[], classes: number): Float64Array[] {
  return ratings
    .filter((r) => r.length >= 2)
    .map((r) => {
      const counts = new Float64Array(classes);
      for (const c of r) counts[c]++;
      return counts;
    });
}

/** Fleiss' kappa from per-case class counts, over `indices` (a resample) or every case. */
export function fleissOf(counts: readonly Float64Array[], classes: number, indices?: ArrayLike<number>): number {
  const n = indices ? indices.length : counts.length;
  if (n === 0) return NaN;
  const totals = new Float64Array(classes);
  let all = 0;
  let pSum = 0;
  for (let k = 0; k < n; k++) {
    const row = counts[indices ? indices[k] : k];
    let agree = 0;
    let ni = 0;
    for (let j = 0; j < classes; j++) {
      agree += row[j] * (row[j] - 1);
      totals[j] += row[j];
      ni += row[j];
    }
    pSum += agree / (ni * (ni - 1));
    all += ni;
  }
  const pBar = pSum / n;
  let pe = 0;
  for (let j = 0; j < classes; j++) pe += (totals[j] / all) ** 2;
  return pe === 1 ? NaN : (pBar - pe) / (1 - pe);
}

/** Mean share of agreeing rater pairs within a case, from per-case class counts. */
export function pairwiseAgreementOf(counts: readonly Float64Array[], indices?: ArrayLike<number>): number {
  const n = indices ? indices.length : counts.length;
  if (n === 0) return NaN;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const row = counts[indices ? indices[k] : k];
    let same = 0;
    let ni = 0;
    for (const v of row) {
      same += (v * (v - 1)) / 2;
      ni += v;
    }
    sum += same / ((ni * (ni - 1)) / 2);
  }
  return sum / n;
}

/** Per-case counts of "class c or not" (one vs rest). */
export function oneVsRestCounts(counts: readonly Float64Array[], c: number): Float64Array[] {
  return counts.map((row) => Float64Array.of(row.reduce((s, v) => s + v, 0) - row[c], row[c]));
}

/** Share of cases on which two raters gave the same class. */
export function percentAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0) return NaN;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Class `c` against the rest: 1 where the id is c, else 0. */
export function oneVsRest(ids: ArrayLike<number>, c: number): number[] {
  return Array.from(ids, (v) => (v === c ? 1 : 0));
}

/**
 * Statistics over cases with their percentile-bootstrap intervals: cases are resampled with replacement
 * (seeded, so a report is reproducible), `stats` recomputes every statistic on each resample's case
 * indices (one pass, e.g. over one contingency table), and the (1−level)/2 and (1+level)/2 percentiles
 * of each statistic's defined values bound it.
 */
export function withIntervals(n: number, stats: (indices: ArrayLike<number>) => number[], options: BootstrapOptions = {}): AgreementStat[] {
  const { resamples, seed, level } = { ...BOOTSTRAP, ...options };
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const values = stats(all);
  if (n < 2) return values.map((value) => ({ value, lo: NaN, hi: NaN, n }));
  const random = seededRandom(seed);
  const samples = values.map(() => [] as number[]);
  const pickIdx = new Uint32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) pickIdx[i] = Math.floor(random() * n);
    stats(pickIdx).forEach((v, s) => {
      if (!Number.isNaN(v)) samples[s].push(v);
    });
  }
  return values.map((value, s) => {
    // Undefined on all cases, or on fewer than half the resamples: an interval would describe an odd subset.
    if (Number.isNaN(value) || samples[s].length < resamples / 2) return { value, lo: NaN, hi: NaN, n };
    const sorted = samples[s].sort((x, y) => x - y);
    return { value, lo: percentile(sorted, (1 - level) / 2), hi: percentile(sorted, (1 + level) / 2), n };
  });
}

/** One statistic with its interval (withIntervals for a single statistic). */
export function withInterval(n: number, stat: (indices: ArrayLike<number>) => number, options: BootstrapOptions = {}): AgreementStat {
  return withIntervals(n, (idx) => [stat(idx)], options)[0];
}

/** Linear interpolation between order statistics (numpy's default). */
function percentile(sorted: number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
