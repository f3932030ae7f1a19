import { describe, expect, it } from 'vitest';
import { randomUncertainMix } from '../../../core/active/mix';
import { suggest } from '../../../core/active/strategies';
import { gradeVarianceScores } from '../../../core/active/uncertainty';
import { seededSample } from '../../../core/util/prng';

// 12 cases, 2 predicted classes: class 0 for rows 0–8 (the majority), class 1 for rows 9–11.
const SCORES = Float64Array.from([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.35, 0.25, 0.15]);
const PREDICTED = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);

describe('randomUncertainMix', () => {
  it('with no random share and no balance, is plain ranking by score', () => {
    const picks = randomUncertainMix(SCORES, PREDICTED, 4, { randomFraction: 0, classBalanced: false });
    expect(picks.map((p) => p.index)).toEqual([0, 1, 2, 3]);
    expect(picks.every((p) => p.source === 'uncertain')).toBe(true);
  });

  it('class-balanced: alternates the predicted classes, most uncertain first in each', () => {
    const picks = randomUncertainMix(SCORES, PREDICTED, 6, { randomFraction: 0 });
    expect(picks.map((p) => p.index)).toEqual([0, 9, 1, 10, 2, 11]);
    expect(picks.map((p) => p.predictedClass)).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('class-balanced: a class that runs out leaves the rest to the others', () => {
    const picks = randomUncertainMix(SCORES, PREDICTED, 8, { randomFraction: 0 });
    expect(picks.map((p) => p.index)).toEqual([0, 9, 1, 10, 2, 11, 3, 4]);
  });

  it('half random: the seeded draw first, then the most uncertain of the cases not drawn', () => {
    const picks = randomUncertainMix(SCORES, PREDICTED, 6, { randomFraction: 0.5, classBalanced: false, seed: 'r' });
    const drawn = [...seededSample(12, 3, 'r')];
    expect(picks.slice(0, 3).map((p) => p.index)).toEqual(drawn);
    expect(picks.slice(0, 3).every((p) => p.source === 'random' && p.predictedClass === -1)).toBe(true);
    const rest = [...SCORES.keys()].filter((i) => !drawn.includes(i)).sort((a, b) => SCORES[b] - SCORES[a]);
    expect(picks.slice(3).map((p) => p.index)).toEqual(rest.slice(0, 3));
    expect(new Set(picks.map((p) => p.index)).size).toBe(6);
  });

  it('with influence: the random share, then the most influential of the rest, then margin per class', () => {
    const influence = Float64Array.from([0, 0, 0, 0, 0, 0, 0, 0.9, 0.8, 0, 0, 0.7]);
    const picks = randomUncertainMix(SCORES, PREDICTED, 8, { randomFraction: 0.5, seed: 'i', influence });
    const drawn = [...seededSample(12, 4, 'i')];
    expect(picks.slice(0, 4).map((p) => p.index)).toEqual(drawn);
    // round(0.25 × 8) = 2 by influence among the cases not drawn, then 2 by margin round-robin.
    const byInfluence = [7, 8, 11].filter((i) => !drawn.includes(i)).slice(0, 2);
    expect(picks.slice(4, 6).map((p) => [p.index, p.source])).toEqual(byInfluence.map((i) => [i, 'influence']));
    expect(picks.slice(6).every((p) => p.source === 'uncertain')).toBe(true);
    expect(new Set(picks.map((p) => p.index)).size).toBe(8);
    expect(() => randomUncertainMix(SCORES, PREDICTED, 4, { influence: new Float64Array(3) })).toThrow(/influence has 3 values for 12 cases/);
    expect(() => randomUncertainMix(SCORES, PREDICTED, 4, { influence, influenceFraction: 0.6 })).toThrow(/influenceFraction must be in/);
  });

  it('is deterministic for a seed, returns all cases when count exceeds n, and checks the share', () => {
    const a = randomUncertainMix(SCORES, PREDICTED, 5, { seed: 3 });
    expect(randomUncertainMix(SCORES, PREDICTED, 5, { seed: 3 })).toEqual(a);
    const all = randomUncertainMix(SCORES, PREDICTED, 50, { seed: 3 });
    expect(all.map((p) => p.index).sort((x, y) => x - y)).toEqual([...SCORES.keys()]);
    expect(() => randomUncertainMix(SCORES, PREDICTED, 2, { randomFraction: 1.5 })).toThrow(/randomFraction must be in \[0, 1\]/);
  });
});

describe('mixed strategy', () => {
  const probabilities = [
    [0.95, 0.05],
    [0.52, 0.48], // smallest margin, predicted 0
    [0.6, 0.4],
    [0.45, 0.55], // smallest margin among predicted 1
    [0.1, 0.9],
    [0.99, 0.01],
  ];

  it('before any model, is a seeded random batch and says so', () => {
    const picks = suggest('mixed', { numCases: 6, embeddings: probabilities }, 3, { seed: 'x' });
    expect(picks.map((p) => p.index)).toEqual([...seededSample(6, 3, 'x')]);
    expect(picks[0].reason).toMatch(/^mixed, no model predictions yet: random draw/);
    expect(picks.every((p) => p.strategy === 'mixed')).toBe(true);
  });

  it('with predictions: the random share, then the smallest margins per predicted class', () => {
    const picks = suggest('mixed', { probabilities }, 2, { randomFraction: 0 });
    expect(picks.map((p) => p.index)).toEqual([1, 3]);
    expect(picks[0].reason).toMatch(/margin 0\.04 between the two most likely classes, predicted class 0, pick 1 of 2/);
    // By default half the batch is random.
    const half = suggest('mixed', { probabilities }, 4, { seed: 7 });
    expect(half.filter((p) => p.score === 0 && /random share/.test(p.reason))).toHaveLength(2);
    expect(half.map((p) => p.rank)).toEqual([1, 2, 3, 4]);
    expect(() => suggest('mixed', { probabilities }, 2, { randomFraction: -0.1 })).toThrow(/randomFraction/);
  });

  it('interleaves its sources in proportion, so the top of the queue is already a mix', () => {
    const influence = [0, 0, 0, 0, 0.5, 0];
    const picks = suggest('mixed', { probabilities, influence }, 4, { seed: 7, classNames: ['benign', 'malignant'] });
    // 2 random (places 0.25, 0.75), 1 by influence (0.5), 1 by margin (0.5).
    const kind = (reason: string) => (/^random share/.test(reason) ? 'random' : /\(influence\)/.test(reason) ? 'influence' : /^margin /.test(reason) ? 'margin' : reason);
    expect(picks.map((p) => kind(p.reason))).toEqual(['random', 'influence', 'margin', 'random']);
    expect(picks[1].index).toBe(4);
    expect(picks[1].reason).toMatch(/predicted “malignant”, pick 2 of 4$/);
    expect(picks.map((p) => p.rank)).toEqual([1, 2, 3, 4]);
  });

  it('with a cold start (an option, off by default) stays all random until that many labels per class, then mixes', () => {
    const classes = probabilities[0].length;
    const options = { seed: 7, randomFraction: 0, coldStartLabelsPerClass: 20 };
    const cold = suggest('mixed', { probabilities }, 4, { ...options, labeledCount: 20 * classes - 1 });
    expect(cold.every((p) => p.score === 0)).toBe(true);
    expect(cold[0].reason).toMatch(new RegExp(`^mixed, cold start \\(${20 * classes - 1} labels < 20 per class × ${classes} classes\\): random draw`));
    // The same draw as random's with that seed.
    expect(cold.map((p) => p.index)).toEqual(suggest('random', { probabilities }, 4, { seed: 7 }).map((p) => p.index));
    expect(suggest('mixed', { probabilities }, 2, { ...options, labeledCount: 20 * classes }).map((p) => p.index)).toEqual([1, 3]);
    // By default there is none.
    expect(suggest('mixed', { probabilities }, 2, { labeledCount: 3, randomFraction: 0 }).map((p) => p.index)).toEqual([1, 3]);
  });

  it('hands over to a smaller random share once there are 40 labels per class, and says so', () => {
    const classes = probabilities[0].length;
    const random = <T extends { reason: string }>(picks: T[]) => picks.filter((p) => /^random share/.test(p.reason));
    const young = suggest('mixed', { probabilities }, 4, { seed: 7, labeledCount: 40 * classes - 1 });
    expect(random(young)).toHaveLength(2);
    expect(random(young)[0].reason).toMatch(/^random share of the batch \(50 %\), so the model/);
    const grown = suggest('mixed', { probabilities }, 4, { seed: 7, labeledCount: 40 * classes });
    expect(random(grown)).toHaveLength(1);
    expect(random(grown)[0].reason).toMatch(/^random share of the batch \(25 %, down from 50 % now that there are 40 labels per class, ≥ 40\)/);
    // The rest goes to the smallest margins, one per predicted class in turn: with case 1 drawn at random,
    // 2 (predicted 0), 3 (predicted 1), then 0 (predicted 0).
    expect(random(grown).map((p) => p.index)).toEqual([1]);
    expect(grown.filter((p) => /^margin /.test(p.reason)).map((p) => p.index)).toEqual([2, 3, 0]);
    // Both shares and the handover point are options; Infinity keeps the first share.
    expect(random(suggest('mixed', { probabilities }, 4, { seed: 7, labeledCount: 1000, handoverLabelsPerClass: Infinity }))).toHaveLength(2);
    expect(random(suggest('mixed', { probabilities }, 4, { seed: 7, labeledCount: 10, handoverLabelsPerClass: 5, handoverRandomFraction: 0 }))).toHaveLength(0);
    expect(() => suggest('mixed', { probabilities }, 4, { labeledCount: 1000, handoverRandomFraction: 2 })).toThrow(/handoverRandomFraction must be in \[0, 1\], got 2/);
  });

  it('on an ordinal task ranks its uncertain part by grade variance, not margin', () => {
    // Five grades. Row 0 hesitates between grades 1 and 3 (variance 1), row 1 between 1 and 2 (0.25): the same
    // margin, but calling a grade-1 case grade 3 costs four times as much in quadratic kappa.
    const grades = [
      [0, 0.5, 0, 0.5, 0],
      [0, 0.5, 0.5, 0, 0],
      [0.9, 0.1, 0, 0, 0],
      [0, 0, 0, 0.2, 0.8],
    ];
    const plain = { randomFraction: 0, classBalanced: false };
    expect(suggest('mixed', { probabilities: grades }, 1, plain)[0].index).toBe(0); // margin: a tie, the lower index
    expect(suggest('mixed', { probabilities: grades.slice().reverse() }, 1, plain)[0].index).toBe(2); // … whichever comes first
    const ordinal = suggest('mixed', { probabilities: grades.slice().reverse() }, 4, { ...plain, ordinal: true });
    expect(ordinal.map((p) => p.index)).toEqual([3, 2, 0, 1]);
    expect(ordinal[0].score).toBeCloseTo(1, 6);
    expect(ordinal[1].score).toBeCloseTo(0.25, 6);
    expect(ordinal[2].score).toBeCloseTo(0.16, 6); // 0.2·9 + 0.8·16 − 3.8²
    expect(ordinal[3].score).toBeCloseTo(0.09, 6);
    expect(ordinal[0].reason).toMatch(/^the predicted grade is uncertain by ±1\.00 grades \(grade variance 1\.00, the expected squared grade error\), predicted class 1, pick 1 of 4$/);
  });

  it('grade variance of two classes is p₀p₁, so a binary task ranks as by margin', () => {
    expect(Array.from(gradeVarianceScores({ data: Float32Array.from(probabilities.flat()), rows: 6, cols: 2 }))).toEqual(
      probabilities.map(([a, b]) => expect.closeTo(a * b, 6)),
    );
    const byMargin = suggest('mixed', { probabilities }, 4, { randomFraction: 0 }).map((p) => p.index);
    expect(suggest('mixed', { probabilities }, 4, { randomFraction: 0, ordinal: true }).map((p) => p.index)).toEqual(byMargin);
  });
});
