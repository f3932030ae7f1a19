import { describe, expect, it } from 'vitest';
import { fitPowerLaw, forecastGain, LearningCurveError, powerLaw, studentTTwoSided } from '../../../core/train/learning-curve';
import { seededRandom } from '../../../core/util/prng';

const LABELS = [20, 50, 100, 150, 200];
const TRUE = { a: 0.85, b: 1.6, c: 0.6 };

describe('fitPowerLaw', () => {
  it('recovers a noiseless curve and extrapolates it', () => {
    const fit = fitPowerLaw(LABELS.map((n) => ({ labels: n, value: powerLaw(TRUE, n) })));
    expect(fit.c).toBeCloseTo(0.6, 6);
    expect(fit.a).toBeCloseTo(0.85, 6);
    expect(fit.b).toBeCloseTo(1.6, 6);
    expect(fit.rmse).toBeLessThan(1e-9);
    expect(powerLaw(fit, 500)).toBeCloseTo(powerLaw(TRUE, 500), 6);
  });

  it('keeps the asymptote under the ceiling and the curve non-decreasing', () => {
    // Points on a curve whose unbounded fit would pass 1 (a = 1.3).
    const steep = LABELS.map((n) => ({ labels: n, value: powerLaw({ a: 1.3, b: 3, c: 0.4 }, n) }));
    const fit = fitPowerLaw(steep, { ceiling: 1 });
    expect(fit.a).toBeLessThanOrEqual(1);
    expect(fit.b).toBeGreaterThanOrEqual(0);
    // Falling points: b clipped at 0, a flat line at their mean weighted by label count.
    const falling = fitPowerLaw([{ labels: 20, value: 0.7 }, { labels: 50, value: 0.6 }, { labels: 100, value: 0.5 }]);
    expect(falling.b).toBe(0);
    expect(falling.a).toBeCloseTo((20 * 0.7 + 50 * 0.6 + 100 * 0.5) / 170, 12);
  });

  it('weighs a point by its label count and keeps the exponent at or below 1', () => {
    // The same deviation bends the curve less at 20 labels than at 200.
    const clean = LABELS.map((n) => ({ labels: n, value: powerLaw(TRUE, n) }));
    const shifted = (at: number) => fitPowerLaw(clean.map((p) => (p.labels === at ? { ...p, value: p.value - 0.05 } : p)), { exponents: [TRUE.c] });
    const moved = (at: number) => Math.abs(powerLaw(shifted(at), 500) - powerLaw(TRUE, 500));
    expect(moved(20)).toBeLessThan(moved(200) / 3);
    // A curve steeper than 1/n is fitted with c ≤ 1.
    const steep = fitPowerLaw(LABELS.map((n) => ({ labels: n, value: powerLaw({ a: 0.8, b: 300, c: 1.8 }, n) })));
    expect(steep.c).toBeLessThanOrEqual(1);
  });

  it('names bad input', () => {
    expect(() => fitPowerLaw([{ labels: 20, value: 0.5 }, { labels: 50, value: 0.6 }])).toThrow(LearningCurveError);
    expect(() => fitPowerLaw([{ labels: 0, value: 0.5 }, { labels: 50, value: 0.6 }, { labels: 60, value: 0.6 }])).toThrow(/labels must be > 0/);
    expect(() => fitPowerLaw([{ labels: 50, value: 0.5 }, { labels: 50, value: 0.6 }, { labels: 50, value: 0.7 }])).toThrow(/same label count/);
  });
});

describe('forecastGain', () => {
  it('forecasts the gain of 50/100/500 more labels on noisy synthetic curves, with intervals that mostly cover the truth', () => {
    let covered = 0;
    let absError = 0;
    const trials = 40;
    for (let t = 0; t < trials; t++) {
      const random = seededRandom(`curve-${t}`);
      const noise = () => (random() + random() + random() - 1.5) * 0.02; // sd ≈ 0.01
      const points = LABELS.map((n) => ({ labels: n, value: powerLaw(TRUE, n) + noise() }));
      const result = forecastGain(points, { ceiling: 1, resamples: 200, seed: t });
      expect(result.labels).toBe(200);
      expect(result.forecasts.map((f) => f.extra)).toEqual([50, 100, 500]);
      const f500 = result.forecasts[2];
      const truth = powerLaw(TRUE, 700) - powerLaw(TRUE, 200);
      expect(f500.low).toBeLessThanOrEqual(f500.gain + 1e-12);
      expect(f500.high).toBeGreaterThanOrEqual(f500.gain - 1e-12);
      absError += Math.abs(f500.gain - truth);
      if (truth >= f500.low && truth <= f500.high) covered++;
    }
    // True gain from 200 to 700 labels is 0.074; the 5-point forecasts miss it by 0.03 on average or less.
    expect(absError / trials).toBeLessThan(0.03);
    expect(covered / trials).toBeGreaterThan(0.6);
  });

  it('its interval is a prediction interval: it covers a noisy value measured later in about 90 % of draws', () => {
    let covered = 0;
    const trials = 60;
    for (let t = 0; t < trials; t++) {
      const random = seededRandom(`measured-${t}`);
      const noise = () => (random() + random() + random() - 1.5) * 0.04; // sd ≈ 0.02, as a small validation split
      const points = LABELS.map((n) => ({ labels: n, value: powerLaw(TRUE, n) + noise() }));
      const f500 = forecastGain(points, { ceiling: 1, resamples: 200, seed: t }).forecasts[2];
      const now = f500.value - f500.gain;
      const measured = powerLaw(TRUE, 700) + noise();
      if (measured - now >= f500.low && measured - now <= f500.high) covered++;
    }
    expect(covered / trials).toBeGreaterThanOrEqual(0.8);
  });

  it("the exponent's doubt widens the interval: points that fit many exponents give a wide one", () => {
    // Three points fit every c exactly, so every c is plausible and the +500 forecast spreads widely.
    const three = forecastGain([20, 50, 100].map((n) => ({ labels: n, value: powerLaw(TRUE, n) })), { ceiling: 1, resamples: 200 }).forecasts[2];
    expect(three.high - three.low).toBeGreaterThan(0.05);
    // Five noiseless points pin c down: the interval shrinks to the point forecast.
    const five = forecastGain(LABELS.map((n) => ({ labels: n, value: powerLaw(TRUE, n) })), { ceiling: 1, resamples: 200 }).forecasts[2];
    expect(five.high - five.low).toBeLessThan(1e-6);
    expect(five.gain).toBeCloseTo(powerLaw(TRUE, 700) - powerLaw(TRUE, 200), 6);
  });

  it('Student t quantiles (F₁,ν = t²) match the tables', () => {
    expect(studentTTwoSided(0.9, 1)).toBeCloseTo(6.3138, 3);
    expect(studentTTwoSided(0.9, 2)).toBeCloseTo(2.92, 3);
    expect(studentTTwoSided(0.9, 3)).toBeCloseTo(2.3534, 3);
    expect(studentTTwoSided(0.95, 4)).toBeCloseTo(2.7764, 3);
    expect(studentTTwoSided(0.95, 30)).toBeCloseTo(2.0423, 3);
  });

  it('forecasts no gain for a flat curve', () => {
    const flat = LABELS.map((n, i) => ({ labels: n, value: 0.7 + (i % 2 ? 0.005 : -0.005) }));
    const result = forecastGain(flat, { resamples: 100 });
    for (const f of result.forecasts) expect(Math.abs(f.gain)).toBeLessThan(0.02);
  });
});
