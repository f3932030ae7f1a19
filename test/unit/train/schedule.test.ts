import { describe, expect, it } from 'vitest';
import {
  classCounts,
  effectiveNumberWeights,
  inverseFrequencyWeights,
  makeWarmupCosineSchedule,
  ScheduleConfigError,
  warmupCosineLr,
} from '../../../core/train/schedule';

describe('warm-up + cosine learning rate', () => {
  const options = { baseLr: 1e-3, totalSteps: 12, warmupSteps: 4, minLr: 1e-5 };

  it('rises linearly during warm-up and peaks at baseLr on the last warm-up step', () => {
    expect(warmupCosineLr(0, options)).toBeCloseTo(0.25e-3, 15);
    expect(warmupCosineLr(1, options)).toBeCloseTo(0.5e-3, 15);
    expect(warmupCosineLr(3, options)).toBeCloseTo(1e-3, 15);
  });

  it('follows the cosine from baseLr to the floor', () => {
    // decay spans steps 4..12 (8 steps): lr = minLr + (base − minLr)·½(1 + cos(π·k/8))
    expect(warmupCosineLr(4, options)).toBeCloseTo(1e-3, 15);
    expect(warmupCosineLr(8, options)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5, 15); // half-way
    expect(warmupCosineLr(6, options)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.8535533905932737, 15);
    expect(warmupCosineLr(12, options)).toBe(1e-5);
    expect(warmupCosineLr(1000, options)).toBe(1e-5);
  });

  it('is non-increasing after warm-up and never below the floor', () => {
    const lr = makeWarmupCosineSchedule({ baseLr: 0.01, totalSteps: 500, warmupSteps: 50, minLr: 1e-4 });
    for (let s = 51; s < 600; s++) {
      expect(lr(s)).toBeLessThanOrEqual(lr(s - 1));
      expect(lr(s)).toBeGreaterThanOrEqual(1e-4);
    }
  });

  it('no warm-up starts at baseLr; default floor is 0', () => {
    const o = { baseLr: 1e-3, totalSteps: 8, warmupSteps: 0 };
    // values from Python: 0.001*0.5*(1+cos(pi*s/8))
    const expected = [0.001, 0.0009619397662556434, 0.0008535533905932737, 0.000691341716182545, 0.0005];
    expected.forEach((v, s) => expect(warmupCosineLr(s, o)).toBeCloseTo(v, 15));
    expect(warmupCosineLr(8, o)).toBe(0);
  });

  it('rejects inconsistent options', () => {
    expect(() => warmupCosineLr(0, { baseLr: 0, totalSteps: 10, warmupSteps: 0 })).toThrow(ScheduleConfigError);
    expect(() => warmupCosineLr(0, { baseLr: 1, totalSteps: 10, warmupSteps: 11 })).toThrow(/warmupSteps/);
    expect(() => warmupCosineLr(0, { baseLr: 1, totalSteps: 10, warmupSteps: 1, minLr: 2 })).toThrow(/minLr/);
    expect(() => warmupCosineLr(-1, { baseLr: 1, totalSteps: 10, warmupSteps: 1 })).toThrow(/step/);
  });
});

describe('class-imbalance weights', () => {
  // RetinaMNIST training-set class counts.
  const counts = [486, 128, 206, 194, 66];

  it('classCounts counts ids and rejects out-of-range labels', () => {
    expect(classCounts([0, 2, 2, 1, 2], 4)).toEqual([1, 1, 3, 0]);
    expect(() => classCounts([0, 4], 4)).toThrow(/label 4 of case 1/);
  });

  it("inverse frequency equals sklearn's compute_class_weight('balanced')", () => {
    // /usr/bin/python3: compute_class_weight('balanced', classes=arange(5), y=repeat(arange(5), counts))
    const expected = [0.4444444444444444, 1.6875, 1.0485436893203883, 1.1134020618556701, 3.272727272727273];
    inverseFrequencyWeights(counts).forEach((w, k) => expect(w).toBeCloseTo(expected[k], 12));
  });

  it('inverse frequency: absent class weight 0, present classes keep case-mean 1', () => {
    const w = inverseFrequencyWeights([30, 0, 10]);
    expect(w).toEqual([40 / 60, 0, 40 / 20]);
    expect((30 * w[0] + 10 * w[2]) / 40).toBeCloseTo(1, 12);
  });

  it('effective number (Cui et al. 2019), β = 0.999, sums to the class count', () => {
    // numpy: w = (1−β)/(1−β**counts); w / w.sum() * 5
    const expected = [0.3453111637308454, 1.106197227587542, 0.7139200959880175, 0.753693751221342, 2.0808777614722533];
    const w = effectiveNumberWeights(counts, 0.999);
    w.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 12));
    expect(w.reduce((s, v) => s + v, 0)).toBeCloseTo(5, 12);
  });

  it('effective number: β = 0 gives equal weights', () => {
    expect(effectiveNumberWeights(counts, 0)).toEqual([1, 1, 1, 1, 1]);
  });

  it('rejects empty counts and bad β', () => {
    expect(() => inverseFrequencyWeights([0, 0])).toThrow(/at least one/);
    expect(() => effectiveNumberWeights(counts, 1)).toThrow(/beta/);
  });
});
