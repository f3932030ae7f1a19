import { describe, expect, it } from 'vitest';
import { bootstrapMetrics, majorityAccuracy, pairedSelectionDifference } from '../../../core/train/bootstrap';
import { cohenKappa } from '../../../core/train/metrics';
import { decidePromotion, versionWarnings, type PromotionInput } from '../../../core/train/promotion';
import { seededRandom } from '../../../core/util/prng';

/** n cases of C ordinal grades; a model whose argmax is the true grade with probability `skill`, else a random grade. */
function ordinalCase(n: number, C: number, skill: number, seed: string) {
  const random = seededRandom(seed);
  const labels = Array.from({ length: n }, () => Math.floor(random() * C));
  const probs = new Float32Array(n * C);
  labels.forEach((y, i) => {
    const guess = random() < skill ? y : Math.floor(random() * C);
    for (let c = 0; c < C; c++) probs[i * C + c] = c === guess ? 0.6 : 0.4 / (C - 1);
  });
  return { labels, probs };
}

describe('bootstrap intervals of validation metrics', () => {
  it('bracket the point value, narrow with more cases, and are reproducible', () => {
    const small = ordinalCase(30, 5, 0.6, 'a');
    const large = ordinalCase(600, 5, 0.6, 'a');
    const s = bootstrapMetrics('ordinal', small.probs, small.labels, 5, { resamples: 400 });
    const l = bootstrapMetrics('ordinal', large.probs, large.labels, 5, { resamples: 400 });
    expect(s.kappaQuadratic.value).toBeCloseTo(cohenKappa(small.probs, small.labels), 10);
    for (const m of ['accuracy', 'macroAuc', 'kappaQuadratic']) {
      expect(s[m].lo).toBeLessThanOrEqual(s[m].value);
      expect(s[m].hi).toBeGreaterThanOrEqual(s[m].value);
      expect(s[m].n).toBe(30);
      expect(l[m].hi - l[m].lo).toBeLessThan(s[m].hi - s[m].lo);
    }
    expect(bootstrapMetrics('ordinal', small.probs, small.labels, 5, { resamples: 400 })).toEqual(s);
  });

  it('gives a paired difference of zero for a model against itself, and a positive one for a better model', () => {
    const weak = ordinalCase(200, 3, 0.2, 'w');
    const strong = ordinalCase(200, 3, 0.9, 'w'); // same labels: same seed draws labels first
    expect(strong.labels).toEqual(weak.labels);
    const same = pairedSelectionDifference('ordinal', weak.probs, weak.probs, weak.labels, 3, { resamples: 200 });
    expect(same).toMatchObject({ value: 0, lo: 0, hi: 0, metric: 'kappaQuadratic' });
    const better = pairedSelectionDifference('ordinal', strong.probs, weak.probs, weak.labels, 3, { resamples: 200 });
    expect(better.lo).toBeGreaterThan(0);
  });

  it('majority accuracy is the share of the most frequent class', () => {
    expect(majorityAccuracy([0, 0, 0, 1, 2], 3)).toBeCloseTo(0.6);
  });
});

const base: PromotionInput = {
  policy: 'if-better',
  metric: 'kappaQuadratic',
  candidate: { value: 0.4, lo: 0.2, hi: 0.55, n: 40, level: 0.95 },
  candidateLabels: 200,
};

describe('promotion', () => {
  it('never promotes a model at chance, whatever the active version', () => {
    const auc = decidePromotion({ ...base, metric: 'macroAuc', candidate: { value: 0.5, lo: 0.21, hi: 0.79, n: 5, level: 0.95 } });
    expect(auc).toMatchObject({ promote: false, atChance: true });
    expect(auc.reason).toMatch(/at chance.*not above 0\.5/);
    const wide = decidePromotion({ ...base, metric: 'macroAuc', candidate: { value: 0.62, lo: 0.45, hi: 0.8, n: 12, level: 0.95 } });
    expect(wide.reason).toMatch(/contains 0\.5/);
    const kappa = decidePromotion({ ...base, candidate: { value: -0.15, lo: -0.6, hi: 0.3, n: 5, level: 0.95 } });
    expect(kappa).toMatchObject({ promote: false, atChance: true });
    expect(kappa.reason).toContain('quadratic kappa -0.15 is not above 0');
    const acc = decidePromotion({ ...base, metric: 'accuracy', candidate: { value: 0.4, lo: 0.3, hi: 0.5, n: 40, level: 0.95 }, majorityAccuracy: 0.44 });
    expect(acc.promote).toBe(false);
  });

  it('promotes the first useful version', () => {
    const d = decidePromotion(base);
    expect(d.promote).toBe(true);
    expect(d.reason).toBe('promoted: the task had no active version; quadratic kappa 0.40 (95 % CI 0.20–0.55, 40 validation cases)');
  });

  // The held-out check that trapped the loop: the 100-label version re-scored slightly higher on a few dozen
  // validation cases kept every later version (trained on more labels) as a candidate.
  it('lets a version trained on more labels win unless it is worse beyond noise', () => {
    const active = { versionId: 2, labels: 100, selection: 0.45 };
    const noisyLower = decidePromotion({ ...base, active: { ...active, difference: { value: -0.05, lo: -0.2, hi: 0.1, n: 30, level: 0.95 } } });
    expect(noisyLower.promote).toBe(true);
    expect(noisyLower.reason).toContain('trained on more labels (200) and not worse than version 2 (100 labels) beyond noise');
    const clearlyWorse = decidePromotion({ ...base, active: { ...active, difference: { value: -0.3, lo: -0.45, hi: -0.12, n: 30, level: 0.95 } } });
    expect(clearlyWorse.promote).toBe(false);
    expect(clearlyWorse.reason).toMatch(/^kept as a candidate: trained on 200 labels but worse than version 2/);
  });

  it('asks a version on no more labels to beat the active one beyond noise', () => {
    const active = { versionId: 3, labels: 200, selection: 0.45 };
    const noisyHigher = decidePromotion({ ...base, active: { ...active, difference: { value: 0.04, lo: -0.06, hi: 0.14, n: 60, level: 0.95 } } });
    expect(noisyHigher.promote).toBe(false);
    expect(noisyHigher.reason).toContain('not better than version 3 (200 labels) beyond noise');
    const clearlyBetter = decidePromotion({ ...base, active: { ...active, difference: { value: 0.2, lo: 0.08, hi: 0.3, n: 60, level: 0.95 } } });
    expect(clearlyBetter.promote).toBe(true);
  });

  it('follows an explicit policy and says so', () => {
    expect(decidePromotion({ ...base, policy: 'never' })).toMatchObject({ promote: false });
    expect(decidePromotion({ ...base, policy: 'never' }).reason).toMatch(/as asked/);
    expect(decidePromotion({ ...base, policy: 'always', candidate: { value: -1, lo: -1, hi: -1, n: 4, level: 0.95 } })).toMatchObject({ promote: true, atChance: true });
  });

  it('warns about small validation sets, missing classes and accuracy below the majority class', () => {
    expect(versionWarnings({ valCount: 5, missingClasses: ['grade 4'], accuracy: 0.2, majorityAccuracy: 0.44 })).toEqual([
      'only 5 validation cases: too few to compare versions reliably (label at least 20)',
      'no validation case of "grade 4"',
      'validation accuracy 0.20 is below always answering the most frequent class (0.44)',
    ]);
    expect(versionWarnings({ valCount: 50, missingClasses: [] })).toEqual([]);
  });
});
