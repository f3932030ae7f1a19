import { describe, expect, it } from 'vitest';
import {
  accuracy,
  averagePrecision,
  binaryRocAuc,
  cohenKappa,
  cohenKappaFromPredictions,
  confusionMatrix,
  f1Scores,
  macroRocAucOvr,
  meanAveragePrecision,
  MetricsInputError,
  multiLabelAuc,
  summarizeMetrics,
} from '../../../core/train/metrics';

// Inputs copied verbatim from test/unit/train/reference/metrics_reference.py. Every expected number
// below was computed offline by that script with scikit-learn 1.2.1 (Debian python3-sklearn):
// `/usr/bin/python3 test/unit/train/reference/metrics_reference.py`.

// 3 classes, 12 cases; rows 2/3 and 8/9 tie (AUC tie handling); row 7 ties 0.4/0.4 (argmax → 0).
const P3 = [
  [0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4], [0.3, 0.3, 0.4],
  [0.1, 0.8, 0.1], [0.6, 0.1, 0.3], [0.2, 0.2, 0.6], [0.4, 0.4, 0.2],
  [0.5, 0.25, 0.25], [0.5, 0.25, 0.25], [0.1, 0.3, 0.6], [0.3, 0.6, 0.1],
];
const Y3 = [0, 1, 2, 0, 1, 0, 2, 1, 2, 0, 2, 1];

// 5 ordinal grades, 15 cases.
const P5 = [
  [0.6, 0.2, 0.1, 0.05, 0.05], [0.1, 0.6, 0.2, 0.05, 0.05], [0.1, 0.2, 0.5, 0.1, 0.1],
  [0.05, 0.05, 0.2, 0.6, 0.1], [0.05, 0.05, 0.1, 0.2, 0.6], [0.3, 0.4, 0.2, 0.05, 0.05],
  [0.5, 0.3, 0.1, 0.05, 0.05], [0.1, 0.1, 0.2, 0.5, 0.1], [0.2, 0.2, 0.3, 0.2, 0.1],
  [0.4, 0.3, 0.2, 0.05, 0.05], [0.05, 0.1, 0.15, 0.3, 0.4], [0.1, 0.5, 0.2, 0.1, 0.1],
  [0.7, 0.1, 0.1, 0.05, 0.05], [0.1, 0.1, 0.6, 0.1, 0.1], [0.05, 0.05, 0.1, 0.4, 0.4],
];
const Y5 = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 2, 0, 3, 4];

// 4 labels, 8 cases; labels 2 and 3 have ties across positives and negatives.
const PM = [
  [0.9, 0.1, 0.3, 0.5], [0.8, 0.7, 0.2, 0.5], [0.65, 0.6, 0.9, 0.5], [0.4, 0.55, 0.1, 0.2],
  [0.6, 0.3, 0.8, 0.9], [0.1, 0.9, 0.4, 0.2], [0.3, 0.2, 0.7, 0.5], [0.7, 0.5, 0.8, 0.1],
];
const YM = [
  [1, 0, 0, 1], [1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 0, 0],
  [1, 0, 1, 1], [0, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0],
];

const flat32 = (rows: number[][]) => Float32Array.from(rows.flat());

describe('single-label metrics against scikit-learn', () => {
  it('3-class: accuracy, confusion matrix, precision/recall/F1', () => {
    expect(accuracy(P3, Y3)).toBeCloseTo(0.75, 12);
    expect(confusionMatrix(P3, Y3)).toEqual([[3, 0, 1], [1, 3, 0], [1, 0, 3]]);
    const f1 = f1Scores(P3, Y3);
    const expected = { precision: [0.6, 1.0, 0.75], recall: [0.75, 0.75, 0.75], f1: [0.6666666666666665, 0.8571428571428571, 0.75] };
    f1.perClass.forEach((c, k) => {
      expect(c.precision).toBeCloseTo(expected.precision[k], 12);
      expect(c.recall).toBeCloseTo(expected.recall[k], 12);
      expect(c.f1).toBeCloseTo(expected.f1[k], 12);
      expect(c.support).toBe(4);
    });
    expect(f1.macroF1).toBeCloseTo(0.7579365079365079, 12);
  });

  it('3-class: one-vs-rest AUC with tied scores', () => {
    const auc = macroRocAucOvr(P3, Y3);
    expect(auc.perClass[0]).toBeCloseTo(0.890625, 12);
    expect(auc.perClass[1]).toBeCloseTo(1.0, 12);
    expect(auc.perClass[2]).toBeCloseTo(0.875, 12);
    expect(auc.macro).toBeCloseTo(0.921875, 12);
    expect(auc.skippedClasses).toEqual([]);
  });

  it('3-class: kappa unweighted / linear / quadratic', () => {
    expect(cohenKappa(P3, Y3, 'none')).toBeCloseTo(0.625, 12);
    expect(cohenKappa(P3, Y3, 'linear')).toBeCloseTo(0.5454545454545454, 12);
    expect(cohenKappa(P3, Y3, 'quadratic')).toBeCloseTo(0.47058823529411764, 12);
  });

  it('5-grade ordinal, given as a flat Float32Array', () => {
    const p = flat32(P5);
    expect(accuracy(p, Y5)).toBeCloseTo(0.4666666666666667, 12);
    expect(confusionMatrix(p, Y5)).toEqual([
      [2, 1, 0, 0, 0], [1, 1, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 2, 1, 0], [1, 0, 0, 1, 2],
    ]);
    expect(f1Scores(p, Y5).macroF1).toBeCloseTo(0.4609523809523809, 12);
    const auc = macroRocAucOvr(p, Y5);
    [0.9444444444444444, 0.9038461538461539, 0.75, 0.7638888888888888, 0.8068181818181819].forEach((v, k) =>
      expect(auc.perClass[k]).toBeCloseTo(v, 12),
    );
    expect(auc.macro).toBeCloseTo(0.8337995337995338, 12);
    expect(cohenKappa(p, Y5, 'none')).toBeCloseTo(0.3370165745856355, 12);
    expect(cohenKappa(p, Y5, 'linear')).toBeCloseTo(0.56, 12);
    expect(cohenKappa(p, Y5)).toBeCloseTo(0.6439628482972135, 12); // quadratic by default
  });

  it('kappa on two raters (sklearn cohen_kappa_score)', () => {
    const a = [0, 1, 2, 2, 0, 1, 2, 0, 1, 1];
    const b = [0, 1, 1, 2, 0, 2, 2, 1, 1, 0];
    expect(cohenKappaFromPredictions(b, a, 3, 'none')).toBeCloseTo(0.3939393939393939, 12);
    expect(cohenKappaFromPredictions(b, a, 3, 'linear')).toBeCloseTo(0.5238095238095238, 12);
    expect(cohenKappaFromPredictions(b, a, 3, 'quadratic')).toBeCloseTo(0.6666666666666667, 12);
  });

  it("kappa: Wikipedia's worked example (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → κ = 0.4)", () => {
    const raterA = [...Array(20).fill(1), ...Array(5).fill(1), ...Array(10).fill(0), ...Array(15).fill(0)];
    const raterB = [...Array(20).fill(1), ...Array(5).fill(0), ...Array(10).fill(1), ...Array(15).fill(0)];
    expect(cohenKappaFromPredictions(raterB, raterA, 2, 'none')).toBeCloseTo(0.4, 12);
    // With two classes every weighting is the same.
    expect(cohenKappaFromPredictions(raterB, raterA, 2, 'quadratic')).toBeCloseTo(0.4, 12);
  });

  it('binary AUC by hand: one tie across classes counts one half', () => {
    // positives 0.8, 0.5; negatives 0.5, 0.2 → pairs: (0.8>0.5)1 (0.8>0.2)1 (0.5=0.5)½ (0.5>0.2)1 → 3.5/4
    expect(binaryRocAuc([0.8, 0.5, 0.5, 0.2], [1, 1, 0, 0])).toBeCloseTo(0.875, 12);
    expect(binaryRocAuc([0.1, 0.9], [true, false])).toBe(0);
  });
});

describe('multi-label metrics against scikit-learn', () => {
  it('per-label AP and mAP', () => {
    const ap = meanAveragePrecision(PM, YM);
    [0.95, 0.95, 0.8055555555555556, 0.8500000000000001].forEach((v, k) => expect(ap.perLabel[k]).toBeCloseTo(v, 12));
    expect(ap.mean).toBeCloseTo(0.888888888888889, 12);
  });

  it('per-label AUC and macro AUC', () => {
    const auc = multiLabelAuc(PM, YM);
    [0.9375, 0.9375, 0.9, 0.90625].forEach((v, k) => expect(auc.perLabel[k]).toBeCloseTo(v, 12));
    expect(auc.mean).toBeCloseTo(0.9203125, 12);
  });

  it('AP by hand: ranking 1,0,1 gives (1 + 2/3)/2', () => {
    expect(averagePrecision([0.9, 0.8, 0.7], [1, 0, 1])).toBeCloseTo(5 / 6, 12);
  });

  it('a label with no positive is skipped and reported', () => {
    const targets = YM.map((row) => [...row.slice(0, 3), 0]);
    const ap = meanAveragePrecision(PM, targets);
    expect(ap.skippedLabels).toEqual([3]);
    expect(Number.isNaN(ap.perLabel[3])).toBe(true);
    expect(ap.mean).toBeCloseTo((0.95 + 0.95 + 0.8055555555555556) / 3, 12);
  });

  it('rejects targets that are not 0/1', () => {
    expect(() => meanAveragePrecision([[0.5]], [[2]])).toThrow(/expected 0 or 1/);
  });
});

describe('summarizeMetrics', () => {
  it('ordinal selects quadratic kappa', () => {
    const s = summarizeMetrics('ordinal', P5, Y5);
    expect(s.selection.name).toBe('kappaQuadratic');
    expect(s.selection.value).toBeCloseTo(0.6439628482972135, 12);
    expect(s.kappaLinear).toBeCloseTo(0.56, 12);
    expect(s.n).toBe(15);
    expect(s.numClasses).toBe(5);
  });

  it('multiclass selects macro AUC', () => {
    const s = summarizeMetrics('multiclass', flat32(P3), Y3);
    expect(s.selection.name).toBe('macroAuc');
    expect(s.selection.value).toBeCloseTo(0.921875, 6);
    expect(s.accuracy).toBeCloseTo(0.75, 12);
    expect(s.f1.macroF1).toBeCloseTo(0.7579365079365079, 12);
  });

  it('multiclass falls back to accuracy when only one class is present', () => {
    const s = summarizeMetrics('multiclass', [[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]], [0, 0, 0]);
    expect(s.macroAuc.skippedClasses).toEqual([0, 1]);
    expect(Number.isNaN(s.macroAuc.macro)).toBe(true);
    expect(s.selection.name).toBe('accuracy');
    expect(s.selection.value).toBeCloseTo(2 / 3, 12);
  });

  it('multilabel selects mAP', () => {
    const s = summarizeMetrics('multilabel', PM, YM);
    expect(s.selection.name).toBe('mAP');
    expect(s.selection.value).toBeCloseTo(0.888888888888889, 12);
    expect(s.auc.mean).toBeCloseTo(0.9203125, 12);
    expect(s.numLabels).toBe(4);
    expect(s.n).toBe(8);
  });

  it('rejects a task kind without classification metrics', () => {
    expect(() => summarizeMetrics('segmentation' as 'multiclass', P3, Y3)).toThrow(/segmentation/);
  });
});

describe('edge cases', () => {
  it('n = 0 is an error, not NaN', () => {
    expect(() => accuracy([], [])).toThrow(MetricsInputError);
    expect(() => summarizeMetrics('ordinal', new Float32Array(0), [])).toThrow(/n = 0/);
  });

  it('a class absent from the labels is skipped in macro AUC and reported', () => {
    const auc = macroRocAucOvr([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], [0, 1, 0]);
    expect(auc.skippedClasses).toEqual([2]);
    expect(auc.perClass[0]).toBe(1);
    expect(auc.perClass[1]).toBe(1);
    expect(auc.macro).toBe(1);
  });

  it('all predictions equal: AUC 0.5 (all ties), kappa 0', () => {
    const p = [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]];
    const y = [0, 1, 0, 1];
    expect(macroRocAucOvr(p, y).macro).toBe(0.5);
    expect(accuracy(p, y)).toBe(0.5); // argmax ties → class 0
    expect(cohenKappa(p, y, 'none')).toBe(0);
  });

  it('kappa is NaN when labels and predictions are one single class', () => {
    expect(Number.isNaN(cohenKappa([[0.9, 0.1], [0.8, 0.2]], [0, 0]))).toBe(true);
  });

  it('shape and label errors are explicit', () => {
    expect(() => accuracy(new Float32Array(5), [0, 1])).toThrow(/5 values cannot be 2 rows/);
    expect(() => accuracy([[0.5, 0.5], [0.5]], [0, 1])).toThrow(/row 1 has 1 values/);
    expect(() => accuracy([[0.5, 0.5]], [2])).toThrow(/label 2, expected an integer in 0..1/);
    expect(() => accuracy([[NaN, 0.5]], [0])).toThrow(/row 0, column 0 is NaN/);
  });
});
