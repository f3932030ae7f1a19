/**
 * Confidence intervals of validation metrics by the bootstrap over validation cases: the cases are
 * resampled with replacement (seeded, so a version's interval is reproducible), the metric is
 * recomputed on each resample, and the 2.5th/97.5th percentiles bound it (percentile method).
 * Paired differences resample the same cases for two models, so they compare versions on one set.
 */
import { seededRandom } from '../util/prng';
import { summarizeMetrics, type MetricsSummary, type SelectionMetricName } from './metrics';
import type { TrainTaskKind } from './types';

export interface Interval {
  value: number;
  /** Lower and upper percentile bounds (NaN when too few resamples defined the metric). */
  lo: number;
  hi: number;
  /** Validation cases the value was computed on. */
  n: number;
  /** Confidence level of [lo, hi]. */
  level: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number | string;
  level?: number;
}

/** Labels as the metrics take them: class ids, or one 0/1 row per case (multilabel). */
export type MetricLabels = ArrayLike<number> | number[][];

const DEFAULTS = { resamples: 1000, seed: 'val-bootstrap', level: 0.95 };

/** The metrics reported with an interval, per task kind (the selection metric is always among them). */
function reportedMetrics(kind: TrainTaskKind): SelectionMetricName[] {
  return kind === 'multilabel' ? ['mAP'] : ['accuracy', 'macroAuc', 'kappaQuadratic'];
}

function metricValue(summary: MetricsSummary, name: SelectionMetricName): number {
  if (summary.kind === 'multilabel') return name === 'mAP' ? summary.mAP.mean : NaN;
  if (name === 'accuracy') return summary.accuracy;
  if (name === 'macroAuc') return summary.macroAuc.macro;
  if (name === 'kappaQuadratic') return summary.kappaQuadratic;
  return NaN;
}

function summarize(kind: TrainTaskKind, probabilities: Float32Array, labels: MetricLabels, numClasses: number, rows: number[]): MetricsSummary {
  if (kind === 'multilabel') {
    const l = labels as number[][];
    return summarizeMetrics('multilabel', rows.map((i) => Array.from(probabilities.subarray(i * numClasses, (i + 1) * numClasses))), rows.map((i) => l[i]));
  }
  const probs = new Float32Array(rows.length * numClasses);
  rows.forEach((i, r) => probs.set(probabilities.subarray(i * numClasses, (i + 1) * numClasses), r * numClasses));
  return summarizeMetrics(kind, probs, rows.map((i) => (labels as ArrayLike<number>)[i]));
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function resampleRows(n: number, random: () => number): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * n));
}

function interval(value: number, draws: number[], n: number, level: number): Interval {
  const defined = draws.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  // Fewer than half the resamples defining the metric (e.g. a class absent) is no interval at all.
  if (defined.length < draws.length / 2) return { value, lo: NaN, hi: NaN, n, level };
  const tail = (1 - level) / 2;
  return { value, lo: percentile(defined, tail), hi: percentile(defined, 1 - tail), n, level };
}

/** Each reported metric of one model's validation predictions with its bootstrap interval. */
export function bootstrapMetrics(
  kind: TrainTaskKind,
  probabilities: Float32Array,
  labels: MetricLabels,
  numClasses: number,
  options: BootstrapOptions = {},
): Record<string, Interval> {
  const { resamples, seed, level } = { ...DEFAULTS, ...options };
  const n = labels.length;
  const names = reportedMetrics(kind);
  const all = Array.from({ length: n }, (_, i) => i);
  const point = summarize(kind, probabilities, labels, numClasses, all);
  const draws = new Map(names.map((m) => [m, [] as number[]]));
  const random = seededRandom(seed);
  for (let b = 0; b < resamples && n > 0; b++) {
    const s = summarize(kind, probabilities, labels, numClasses, resampleRows(n, random));
    for (const m of names) draws.get(m)!.push(metricValue(s, m));
  }
  return Object.fromEntries(names.map((m) => [m, interval(metricValue(point, m), draws.get(m)!, n, level)]));
}

/**
 * selection(candidate) − selection(baseline) on the same validation cases, with a paired bootstrap
 * interval: both models are scored on each resample of the cases.
 */
export function pairedSelectionDifference(
  kind: TrainTaskKind,
  candidate: Float32Array,
  baseline: Float32Array,
  labels: MetricLabels,
  numClasses: number,
  options: BootstrapOptions = {},
): Interval & { metric: SelectionMetricName } {
  const { resamples, seed, level } = { ...DEFAULTS, ...options };
  const n = labels.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const c0 = summarize(kind, candidate, labels, numClasses, all);
  const b0 = summarize(kind, baseline, labels, numClasses, all);
  // Both are compared on the candidate's selection metric (the same name for one task and case set).
  const metric = c0.selection.name;
  const draws: number[] = [];
  const random = seededRandom(seed);
  for (let b = 0; b < resamples && n > 0; b++) {
    const rows = resampleRows(n, random);
    draws.push(metricValue(summarize(kind, candidate, labels, numClasses, rows), metric) - metricValue(summarize(kind, baseline, labels, numClasses, rows), metric));
  }
  return { metric, ...interval(metricValue(c0, metric) - metricValue(b0, metric), draws, n, level) };
}

/** Share of the most frequent class among single-label validation labels: what always answering it scores. */
export function majorityAccuracy(labels: ArrayLike<number>, numClasses: number): number {
  if (labels.length === 0) return NaN;
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return Math.max(...counts) / labels.length;
}
