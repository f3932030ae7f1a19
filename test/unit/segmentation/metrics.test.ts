import { describe, expect, it } from 'vitest';
import { binarySegmentationReport, bootstrapMeanCi, classCounts, dice, iou, pixelAuc, sensitivity, specificity } from '../../../core/segmentation/metrics';

describe('segmentation metrics', () => {
  it('counts per class inside a region', () => {
    const predicted = [0, 1, 1, 2, 0, 1, 2, 2];
    const reference = [0, 1, 0, 2, 1, 1, 2, 0];
    const region = [1, 1, 1, 1, 1, 1, 1, 0]; // the last pixel does not count
    const c = classCounts(predicted, reference, 3, region);
    expect(c[1]).toEqual({ tp: 2, fp: 1, fn: 1, tn: 3 });
    expect(dice(c[1])).toBeCloseTo(4 / 6, 12);
    expect(iou(c[1])).toBeCloseTo(2 / 4, 12);
    expect(c[2]).toEqual({ tp: 2, fp: 0, fn: 0, tn: 5 });
    expect(sensitivity(c[1])).toBeCloseTo(2 / 3, 12);
    expect(specificity(c[1])).toBeCloseTo(3 / 4, 12);
    expect(() => classCounts([0, 3], [0, 0], 3)).toThrow(/class id 3/);
    expect(() => classCounts([0], [0, 0], 3)).toThrow(/1 pixels, reference 2/);
  });

  it('computes the pixel AUC with ties counted half (as scikit-learn)', () => {
    expect(pixelAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(pixelAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBeCloseTo(0.5, 12);
    // sklearn.metrics.roc_auc_score([0, 1, 1, 0, 1], [0.2, 0.2, 0.9, 0.3, 0.1]) = 0.41666…: 2.5 of 6 pairs
    expect(pixelAuc([0.2, 0.2, 0.9, 0.3, 0.1], [0, 1, 1, 0, 1])).toBeCloseTo(2.5 / 6, 12);
    expect(pixelAuc([0.9, 0.1, 0.8], [1, 0, 0], [1, 1, 0])).toBe(1);
    expect(pixelAuc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it('gives a reproducible bootstrap interval around the mean', () => {
    const values = [0.7, 0.75, 0.8, 0.72, 0.9];
    const ci = bootstrapMeanCi(values, { seed: 3 });
    expect(ci.mean).toBeCloseTo(0.774, 12);
    expect(ci.low).toBeLessThan(ci.mean);
    expect(ci.high).toBeGreaterThan(ci.mean);
    expect(ci.low).toBeGreaterThanOrEqual(0.7);
    expect(ci.high).toBeLessThanOrEqual(0.9);
    expect(bootstrapMeanCi(values, { seed: 3 })).toEqual(ci);
    expect(bootstrapMeanCi([0.5, 0.5]).low).toBe(0.5);
  });

  it('reports a binary segmentation inside the field of view', () => {
    const r = binarySegmentationReport([
      { foreground: Float32Array.from([0.9, 0.2, 0.6, 0.1]), reference: Uint8Array.from([1, 0, 0, 1]), region: Uint8Array.from([1, 1, 1, 1]) },
      { foreground: Float32Array.from([0.9, 0.9, 0.1, 0.8]), reference: Uint8Array.from([1, 1, 0, 0]), region: Uint8Array.from([1, 1, 1, 0]) },
    ]);
    // image 1: tp 1, fp 1, fn 1 → Dice 0.5; image 2 (3 pixels in the FOV): tp 2 → Dice 1.
    expect(r.dice.mean).toBeCloseTo(0.75, 12);
    expect(r.sensitivity).toBeCloseTo(3 / 4, 12);
    expect(r.specificity).toBeCloseTo(2 / 3, 12);
    expect(r.accuracy).toBeCloseTo(5 / 7, 12);
    expect(r.images).toBe(2);
  });
});
