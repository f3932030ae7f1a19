/**
 * Evaluation metrics over plain arrays (no tfjs): accuracy, confusion matrix, precision/recall/F1,
 * one-vs-rest ROC AUC, Cohen's kappa (unweighted, linear, quadratic), and for multi-label tasks
 * per-label AUC and average precision. `summarizeMetrics` bundles them per task kind and names the
 * metric that model versions are selected on. Definitions: docs/active-learning.md.
 *
 * Conventions (follow scikit-learn so numbers can be checked against it):
 * - probabilities are [n×C] row-major (a flat Float32Array/Float64Array/number[] of length n·C, or
 *   number[][]); labels are integer class ids 0..C-1, one per row.
 * - predicted class = argmax of the row; ties go to the lowest class id (numpy's argmax).
 * - n = 0, a shape mismatch, a label outside 0..C-1 or a non-finite probability throw MetricsInputError.
 * - a metric that is undefined for the data (AUC with one class present, kappa when chance
 *   agreement is total) is NaN, never a made-up number.
 */
import type { ClassificationKind } from '../vocabulary';

export class MetricsInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsInputError';
  }
}

/** [n×C] scores, row-major. */
export type ScoreMatrix = Float32Array | Float64Array | ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/** A validated row-major matrix. */
export interface DenseMatrix {
  data: ArrayLike<number>;
  rows: number;
  cols: number;
}

export type TaskKind = ClassificationKind;
export type KappaWeighting = 'none' | 'linear' | 'quadratic';

/**
 * Normalises a score matrix with `rows` rows. Nested arrays give their own width; a flat array's
 * width is length / rows.
 */
export function toDenseMatrix(scores: ScoreMatrix, rows: number, what = 'probabilities'): DenseMatrix {
  if (rows <= 0) throw new MetricsInputError(`${what}: no cases (n = 0); metrics need at least one case`);
  const first = (scores as ArrayLike<unknown>)[0];
  if (scores.length > 0 && typeof first === 'object' && first !== null) {
    const nested = scores as ArrayLike<ArrayLike<number>>;
    if (nested.length !== rows) {
      throw new MetricsInputError(`${what}: ${nested.length} rows but ${rows} labels`);
    }
    const cols = nested[0].length;
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = nested[i];
      if (row.length !== cols) {
        throw new MetricsInputError(`${what}: row ${i} has ${row.length} values, row 0 has ${cols}`);
      }
      for (let j = 0; j < cols; j++) data[i * cols + j] = row[j];
    }
    return checkFinite({ data, rows, cols }, what);
  }
  const flat = scores as ArrayLike<number>;
  if (flat.length % rows !== 0 || flat.length === 0) {
    throw new MetricsInputError(`${what}: ${flat.length} values cannot be ${rows} rows (one per label)`);
  }
  return checkFinite({ data: flat, rows, cols: flat.length / rows }, what);
}

function checkFinite(m: DenseMatrix, what: string): DenseMatrix {
  if (m.cols === 0) throw new MetricsInputError(`${what}: rows have no columns`);
  for (let k = 0; k < m.data.length; k++) {
    if (!Number.isFinite(m.data[k])) {
      throw new MetricsInputError(
        `${what}: value at row ${Math.floor(k / m.cols)}, column ${k % m.cols} is ${m.data[k]}`,
      );
    }
  }
  return m;
}

function checkLabels(labels: ArrayLike<number>, numClasses: number): void {
  if (labels.length === 0) throw new MetricsInputError('labels: no cases (n = 0); metrics need at least one case');
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new MetricsInputError(`labels: case ${i} has label ${y}, expected an integer in 0..${numClasses - 1}`);
    }
  }
}

/** Predicted class per row (argmax, lowest index on ties). */
export function argmaxRows(m: DenseMatrix): Int32Array {
  const out = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let best = 0;
    let bestValue = m.data[i * m.cols];
    for (let j = 1; j < m.cols; j++) {
      const v = m.data[i * m.cols + j];
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Validates probabilities + labels for a single-label task and returns the matrix and predictions. */
function prepareSingleLabel(probabilities: ScoreMatrix, labels: ArrayLike<number>) {
  if (labels.length === 0) throw new MetricsInputError('labels: no cases (n = 0); metrics need at least one case');
  const matrix = toDenseMatrix(probabilities, labels.length);
  checkLabels(labels, matrix.cols);
  return { matrix, predicted: argmaxRows(matrix) };
}

/** Fraction of cases whose argmax equals the label. */
export function accuracy(probabilities: ScoreMatrix, labels: ArrayLike<number>): number {
  const { predicted } = prepareSingleLabel(probabilities, labels);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / labels.length;
}

/**
 * Confusion matrix from class ids: rows = true class, columns = predicted class (sklearn's layout).
 */
export function confusionMatrixFromPredictions(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
): number[][] {
  if (predicted.length !== labels.length) {
    throw new MetricsInputError(`predictions (${predicted.length}) and labels (${labels.length}) differ in length`);
  }
  checkLabels(labels, numClasses);
  checkLabels(predicted, numClasses);
  const cm = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) cm[labels[i]][predicted[i]]++;
  return cm;
}

/** Confusion matrix of argmax predictions against labels (rows true, columns predicted). */
export function confusionMatrix(probabilities: ScoreMatrix, labels: ArrayLike<number>): number[][] {
  const { matrix, predicted } = prepareSingleLabel(probabilities, labels);
  return confusionMatrixFromPredictions(predicted, labels, matrix.cols);
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Number of cases whose true label is this class. */
  support: number;
}

export interface F1Report {
  perClass: ClassScores[];
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
}

/**
 * Per-class precision/recall/F1 and their unweighted (macro) means over all C classes.
 * A 0/0 ratio counts as 0 (sklearn's zero_division=0), so a class never predicted and never
 * present pulls the macro mean down, as in sklearn with labels=range(C).
 */
export function f1FromConfusion(cm: number[][]): F1Report {
  const c = cm.length;
  const perClass: ClassScores[] = [];
  for (let k = 0; k < c; k++) {
    const tp = cm[k][k];
    let predictedK = 0;
    let actualK = 0;
    for (let j = 0; j < c; j++) {
      predictedK += cm[j][k];
      actualK += cm[k][j];
    }
    const precision = predictedK === 0 ? 0 : tp / predictedK;
    const recall = actualK === 0 ? 0 : tp / actualK;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ precision, recall, f1, support: actualK });
  }
  const mean = (key: keyof ClassScores) => perClass.reduce((s, r) => s + r[key], 0) / c;
  return { perClass, macroPrecision: mean('precision'), macroRecall: mean('recall'), macroF1: mean('f1') };
}

export function f1Scores(probabilities: ScoreMatrix, labels: ArrayLike<number>): F1Report {
  return f1FromConfusion(confusionMatrix(probabilities, labels));
}

/**
 * Binary ROC AUC by the Mann–Whitney U statistic with average ranks for tied scores:
 * AUC = (R₊ − n₊(n₊+1)/2) / (n₊·n₋), where R₊ is the rank sum of the positives.
 * Equal to the trapezoidal area under the ROC curve (sklearn's roc_auc_score). NaN when either
 * class is absent.
 */
export function binaryRocAuc(scores: ArrayLike<number>, isPositive: ArrayLike<boolean | number>): number {
  const n = scores.length;
  if (isPositive.length !== n) {
    throw new MetricsInputError(`scores (${n}) and labels (${isPositive.length}) differ in length`);
  }
  let nPos = 0;
  for (let i = 0; i < n; i++) if (isPositive[i]) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  const order = sortedOrder(scores);
  let positiveRankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const averageRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++) if (isPositive[order[k]]) positiveRankSum += averageRank;
    i = j + 1;
  }
  return (positiveRankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Indices that sort `values` ascending (stable). */
function sortedOrder(values: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => values[a] - values[b] || a - b);
}

function column(m: DenseMatrix, j: number): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) out[i] = m.data[i * m.cols + j];
  return out;
}

export interface MacroAuc {
  /** Mean of the per-class AUCs that are defined; NaN when none is. */
  macro: number;
  /** One-vs-rest AUC per class; NaN for a skipped class. */
  perClass: number[];
  /** Classes with no positive or no negative case among the labels (AUC undefined), skipped in the mean. */
  skippedClasses: number[];
}

/**
 * Macro one-vs-rest ROC AUC: for each class k, the AUC of score p[:,k] separating label = k from the
 * rest; the unweighted mean over the classes for which it is defined. With every class present this
 * equals sklearn's roc_auc_score(y, p, multi_class='ovr', average='macro').
 */
export function macroRocAucOvr(probabilities: ScoreMatrix, labels: ArrayLike<number>): MacroAuc {
  const { matrix } = prepareSingleLabel(probabilities, labels);
  if (matrix.cols === 1) throw new MetricsInputError('probabilities: one column; one-vs-rest AUC needs ≥ 2 classes');
  const perClass: number[] = [];
  const skippedClasses: number[] = [];
  for (let k = 0; k < matrix.cols; k++) {
    const positive = Array.from(labels, (y) => y === k);
    const auc = binaryRocAuc(column(matrix, k), positive);
    perClass.push(auc);
    if (Number.isNaN(auc)) skippedClasses.push(k);
  }
  return { macro: nanMean(perClass), perClass, skippedClasses };
}

function nanMean(values: number[]): number {
  const defined = values.filter((v) => !Number.isNaN(v));
  return defined.length === 0 ? NaN : defined.reduce((s, v) => s + v, 0) / defined.length;
}

/**
 * Cohen's kappa between predicted and true class ids over classes 0..numClasses-1:
 * κ = 1 − Σ w·O / Σ w·E, with O the observed confusion matrix, E the outer product of its marginals
 * divided by n, and w_ij = [i≠j] (none), |i−j| (linear) or (i−j)² (quadratic). The weights use the
 * class ids themselves, as sklearn's cohen_kappa_score(..., labels=range(C), weights=...) does.
 * NaN when Σ w·E = 0 (e.g. labels and predictions are all one and the same class).
 */
export function cohenKappaFromPredictions(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
  weighting: KappaWeighting = 'none',
): number {
  const cm = confusionMatrixFromPredictions(predicted, labels, numClasses);
  const n = labels.length;
  const rowSums = cm.map((row) => row.reduce((s, v) => s + v, 0));
  const colSums = cm[0].map((_, j) => cm.reduce((s, row) => s + row[j], 0));
  let observed = 0;
  let expected = 0;
  for (let i = 0; i < numClasses; i++) {
    for (let j = 0; j < numClasses; j++) {
      const d = Math.abs(i - j);
      const w = weighting === 'quadratic' ? d * d : weighting === 'linear' ? d : d === 0 ? 0 : 1;
      observed += w * cm[i][j];
      expected += (w * rowSums[i] * colSums[j]) / n;
    }
  }
  return expected === 0 ? NaN : 1 - observed / expected;
}

/** Cohen's kappa of the argmax predictions (quadratic weighting by default: the DR-grading metric). */
export function cohenKappa(
  probabilities: ScoreMatrix,
  labels: ArrayLike<number>,
  weighting: KappaWeighting = 'quadratic',
): number {
  const { matrix, predicted } = prepareSingleLabel(probabilities, labels);
  return cohenKappaFromPredictions(predicted, labels, matrix.cols, weighting);
}

// ---------------------------------------------------------------------------------------------
// Multi-label: probabilities [n×L] (independent sigmoids), targets [n×L] of 0/1.

function prepareMultiLabel(probabilities: ScoreMatrix, targets: ScoreMatrix, rows?: number) {
  const n = rows ?? (typeof (targets as ArrayLike<unknown>)[0] === 'object' ? targets.length : NaN);
  if (Number.isNaN(n)) {
    throw new MetricsInputError('multi-label targets: pass number[][] or give the number of cases');
  }
  if (n === 0) throw new MetricsInputError('labels: no cases (n = 0); metrics need at least one case');
  const p = toDenseMatrix(probabilities, n);
  const t = toDenseMatrix(targets, n, 'multi-label targets');
  if (p.cols !== t.cols) {
    throw new MetricsInputError(`probabilities have ${p.cols} labels per case, targets ${t.cols}`);
  }
  for (let k = 0; k < t.data.length; k++) {
    if (t.data[k] !== 0 && t.data[k] !== 1) {
      throw new MetricsInputError(
        `multi-label targets: case ${Math.floor(k / t.cols)}, label ${k % t.cols} is ${t.data[k]}, expected 0 or 1`,
      );
    }
  }
  return { p, t };
}

/**
 * Average precision of one binary ranking, sklearn's definition (no interpolation):
 * AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct score thresholds taken from high to low (tied scores
 * form one threshold). NaN when there is no positive case.
 */
export function averagePrecision(scores: ArrayLike<number>, isPositive: ArrayLike<boolean | number>): number {
  const n = scores.length;
  if (isPositive.length !== n) {
    throw new MetricsInputError(`scores (${n}) and labels (${isPositive.length}) differ in length`);
  }
  let nPos = 0;
  for (let i = 0; i < n; i++) if (isPositive[i]) nPos++;
  if (nPos === 0) return NaN;
  const ascending = sortedOrder(scores);
  let tp = 0;
  let seen = 0;
  let previousRecall = 0;
  let ap = 0;
  let i = n - 1;
  while (i >= 0) {
    let j = i;
    while (j - 1 >= 0 && scores[ascending[j - 1]] === scores[ascending[i]]) j--;
    for (let k = j; k <= i; k++) if (isPositive[ascending[k]]) tp++;
    seen += i - j + 1;
    const recall = tp / nPos;
    ap += (recall - previousRecall) * (tp / seen);
    previousRecall = recall;
    i = j - 1;
  }
  return ap;
}

export interface PerLabelMetric {
  /** Mean over the labels for which the metric is defined; NaN when none is. */
  mean: number;
  perLabel: number[];
  /** Labels where the metric is undefined (AUC: all 0 or all 1; AP: no positive), skipped in the mean. */
  skippedLabels: number[];
}

function perLabel(
  probabilities: ScoreMatrix,
  targets: ScoreMatrix,
  metric: (s: Float64Array, y: Float64Array) => number,
  rows?: number,
): PerLabelMetric {
  const { p, t } = prepareMultiLabel(probabilities, targets, rows);
  const values: number[] = [];
  const skippedLabels: number[] = [];
  for (let k = 0; k < p.cols; k++) {
    const v = metric(column(p, k), column(t, k));
    values.push(v);
    if (Number.isNaN(v)) skippedLabels.push(k);
  }
  return { mean: nanMean(values), perLabel: values, skippedLabels };
}

/** Per-label ROC AUC and their macro mean (sklearn's roc_auc_score(Y, P, average='macro') when all defined). */
export function multiLabelAuc(probabilities: ScoreMatrix, targets: ScoreMatrix, rows?: number): PerLabelMetric {
  return perLabel(probabilities, targets, binaryRocAuc, rows);
}

/** Per-label average precision and mAP (sklearn's average_precision_score(Y, P, average='macro')). */
export function meanAveragePrecision(probabilities: ScoreMatrix, targets: ScoreMatrix, rows?: number): PerLabelMetric {
  return perLabel(probabilities, targets, averagePrecision, rows);
}

// ---------------------------------------------------------------------------------------------
// Summary per task kind.

export type SelectionMetricName = 'kappaQuadratic' | 'macroAuc' | 'accuracy' | 'mAP';

export interface SelectionMetric {
  name: SelectionMetricName;
  value: number;
  /** Every selection metric here is better when larger. */
  higherIsBetter: true;
  /** Why this metric was chosen (e.g. the fallback when macro AUC is undefined). */
  note: string;
}

export interface SingleLabelSummary {
  kind: 'multiclass' | 'ordinal';
  n: number;
  numClasses: number;
  accuracy: number;
  confusionMatrix: number[][];
  f1: F1Report;
  macroAuc: MacroAuc;
  kappaQuadratic: number;
  kappaLinear: number;
  selection: SelectionMetric;
}

export interface MultiLabelSummary {
  kind: 'multilabel';
  n: number;
  numLabels: number;
  mAP: PerLabelMetric;
  auc: PerLabelMetric;
  selection: SelectionMetric;
}

export type MetricsSummary = SingleLabelSummary | MultiLabelSummary;

/**
 * All metrics for one task kind, plus the selection metric that model versions are compared on:
 * - ordinal: quadratic-weighted kappa (the DR-grading metric; penalises grade distance);
 * - multiclass: macro one-vs-rest AUC (threshold-free, insensitive to class imbalance); falls back
 *   to accuracy when no class's AUC is defined (fewer than two classes among the labels);
 * - multilabel: mAP.
 * Single-label labels are class ids; multi-label labels are an [n×L] 0/1 matrix (number[][], or flat
 * with the case count taken from the probabilities when those are nested).
 */
export function summarizeMetrics(kind: 'multiclass' | 'ordinal', probabilities: ScoreMatrix, labels: ArrayLike<number>): SingleLabelSummary;
export function summarizeMetrics(kind: 'multilabel', probabilities: ScoreMatrix, labels: ScoreMatrix): MultiLabelSummary;
export function summarizeMetrics(kind: TaskKind, probabilities: ScoreMatrix, labels: ScoreMatrix): MetricsSummary;
export function summarizeMetrics(kind: TaskKind, probabilities: ScoreMatrix, labels: ScoreMatrix): MetricsSummary {
  if (kind === 'multilabel') {
    const nested = typeof (probabilities as ArrayLike<unknown>)[0] === 'object';
    const rows = typeof (labels as ArrayLike<unknown>)[0] === 'object' ? labels.length : nested ? probabilities.length : undefined;
    const mAP = meanAveragePrecision(probabilities, labels, rows);
    const auc = multiLabelAuc(probabilities, labels, rows);
    return {
      kind,
      n: rows ?? 0,
      numLabels: mAP.perLabel.length,
      mAP,
      auc,
      selection: { name: 'mAP', value: mAP.mean, higherIsBetter: true, note: 'mean average precision over labels with a positive case' },
    };
  }
  if (kind !== 'multiclass' && kind !== 'ordinal') {
    throw new MetricsInputError(`task kind "${String(kind)}" has no classification metrics (expected multiclass, ordinal or multilabel)`);
  }
  const classLabels = labels as ArrayLike<number>;
  const { matrix, predicted } = prepareSingleLabel(probabilities, classLabels);
  const cm = confusionMatrixFromPredictions(predicted, classLabels, matrix.cols);
  let correct = 0;
  for (let i = 0; i < classLabels.length; i++) if (predicted[i] === classLabels[i]) correct++;
  const acc = correct / classLabels.length;
  const macroAuc: MacroAuc =
    matrix.cols >= 2
      ? macroRocAucOvr(matrix.data, classLabels)
      : { macro: NaN, perClass: [NaN], skippedClasses: [0] };
  const kappaQuadratic = cohenKappaFromPredictions(predicted, classLabels, matrix.cols, 'quadratic');
  const kappaLinear = cohenKappaFromPredictions(predicted, classLabels, matrix.cols, 'linear');
  let selection: SelectionMetric;
  if (kind === 'ordinal') {
    selection = { name: 'kappaQuadratic', value: kappaQuadratic, higherIsBetter: true, note: 'quadratic-weighted kappa (ordinal grades)' };
  } else if (!Number.isNaN(macroAuc.macro)) {
    selection = { name: 'macroAuc', value: macroAuc.macro, higherIsBetter: true, note: 'macro one-vs-rest ROC AUC' };
  } else {
    selection = { name: 'accuracy', value: acc, higherIsBetter: true, note: 'accuracy: macro AUC is undefined with fewer than two classes among the labels' };
  }
  return {
    kind,
    n: classLabels.length,
    numClasses: matrix.cols,
    accuracy: acc,
    confusionMatrix: cm,
    f1: f1FromConfusion(cm),
    macroAuc,
    kappaQuadratic,
    kappaLinear,
    selection,
  };
}
