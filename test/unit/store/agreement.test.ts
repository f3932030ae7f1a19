import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agreementOf,
  cohenKappa,
  confusion,
  fleissKappa,
  fleissOf,
  kappaOf,
  oneVsRest,
  oneVsRestCounts,
  oneVsRestTable,
  percentAgreement,
  ratingCounts,
  withInterval,
  withIntervals,
} from '../../../core/util/agreement';
import { seededRandom } from '../../../core/util/prng';
import { REPO_ROOT } from '../../helpers/paths';

// Kappas against scikit-learn's cohen_kappa_score and a hand-written Fleiss formula, run live in Debian's python3.
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(REPO_ROOT, 'test', 'unit', 'store', 'reference', 'agreement_reference.py');
const sklearn = spawnSync(PYTHON, ['-c', 'import sklearn, numpy'], { stdio: 'ignore' }).status === 0;

interface Spec {
  pairs: { a: number[]; b: number[]; classes: number; weights: 'quadratic' | null }[];
  fleiss: { ratings: number[][]; classes: number }[];
}

function reference(spec: Spec): { cohen: number[]; fleiss: number[] } {
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(spec), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`reference failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { cohen: number[]; fleiss: number[] };
}

/** A rater who copies the truth with probability `skill`, else picks a neighbouring or random class. */
function rater(truth: number[], classes: number, skill: number, seed: string): number[] {
  const random = seededRandom(seed);
  return truth.map((t) => {
    const u = random();
    if (u < skill) return t;
    if (u < (skill + 1) / 2) return Math.max(0, Math.min(classes - 1, t + (random() < 0.5 ? -1 : 1)));
    return Math.floor(random() * classes);
  });
}

describe('agreement statistics', () => {
  it.skipIf(!sklearn)("match scikit-learn's Cohen kappa (unweighted, quadratic, one-vs-rest) and Fleiss' formula", () => {
    const spec: Spec = { pairs: [], fleiss: [] };
    const ours: { cohen: number[]; fleiss: number[] } = { cohen: [], fleiss: [] };
    for (const [classes, n, skill] of [[2, 30, 0.7], [3, 40, 0.6], [5, 60, 0.5], [5, 25, 0.9]] as const) {
      const random = seededRandom(`truth-${classes}-${n}`);
      const truth = Array.from({ length: n }, () => Math.floor(random() * classes));
      const a = rater(truth, classes, skill, `a${classes}`);
      const b = rater(truth, classes, skill, `b${classes}`);
      const c = rater(truth, classes, skill, `c${classes}`);
      for (const weights of [null, 'quadratic'] as const) {
        spec.pairs.push({ a, b, classes, weights });
        ours.cohen.push(cohenKappa(a, b, classes, weights ?? 'none'));
      }
      spec.pairs.push({ a: oneVsRest(a, 1), b: oneVsRest(c, 1), classes: 2, weights: null });
      ours.cohen.push(cohenKappa(oneVsRest(a, 1), oneVsRest(c, 1), 2));
      // Three raters on most cases, two on some (a varying count), one on a few (left out).
      const ratings = truth.map((_, i) => (i % 7 === 0 ? [a[i]] : i % 5 === 0 ? [a[i], b[i]] : [a[i], b[i], c[i]]));
      spec.fleiss.push({ ratings, classes });
      ours.fleiss.push(fleissKappa(ratings, classes));
    }
    const ref = reference(spec);
    expect(ours.cohen).toHaveLength(ref.cohen.length);
    ours.cohen.forEach((k, i) => expect(k).toBeCloseTo(ref.cohen[i], 12));
    ours.fleiss.forEach((k, i) => expect(k).toBeCloseTo(ref.fleiss[i], 12));
    // The weights matter: quadratic credits near misses on a 5-grade scale.
    expect(ours.cohen[6]).not.toBeCloseTo(ours.cohen[7], 3);
  });

  it('are 1 for identical raters, about 0 for independent ones, NaN where undefined', () => {
    const random = seededRandom('independent');
    const a = Array.from({ length: 2000 }, () => Math.floor(random() * 3));
    const b = Array.from({ length: 2000 }, () => Math.floor(random() * 3));
    expect(cohenKappa(a, a, 3)).toBe(1);
    expect(fleissKappa(a.map((v) => [v, v, v]), 3)).toBe(1);
    expect(Math.abs(cohenKappa(a, b, 3))).toBeLessThan(0.05);
    expect(percentAgreement(a, a)).toBe(1);
    expect(cohenKappa([1, 1, 1], [1, 1, 1], 3)).toBeNaN();
    expect(cohenKappa([], [], 3)).toBeNaN();
  });

  it('read every statistic off one table: one vs rest from the K×K table equals the binarised ratings', () => {
    const random = seededRandom('tables');
    const a = Array.from({ length: 300 }, () => Math.floor(random() * 4));
    const b = rater(a, 4, 0.6, 'tables-b');
    const m = confusion(a, b, 4);
    expect(agreementOf(m, 4)).toBeCloseTo(percentAgreement(a, b), 14);
    const ratings = a.map((v, i) => (i % 4 === 0 ? [v, b[i]] : [v, b[i], (v + i) % 4]));
    for (let c = 0; c < 4; c++) {
      expect(kappaOf(oneVsRestTable(m, 4, c), 2)).toBeCloseTo(cohenKappa(oneVsRest(a, c), oneVsRest(b, c), 2), 14);
      expect(agreementOf(oneVsRestTable(m, 4, c), 2)).toBeCloseTo(percentAgreement(oneVsRest(a, c), oneVsRest(b, c)), 14);
      expect(fleissOf(oneVsRestCounts(ratingCounts(ratings, 4), c), 2)).toBeCloseTo(fleissKappa(ratings.map((r) => oneVsRest(r, c)), 2), 14);
    }
    // Several statistics in one bootstrap pass equal each computed alone (same seed, same resamples).
    const both = withIntervals(300, (idx) => [kappaOf(confusion(a, b, 4, idx), 4), agreementOf(confusion(a, b, 4, idx), 4)], { resamples: 200, seed: 's' });
    expect(both[1]).toEqual(withInterval(300, (idx) => agreementOf(confusion(a, b, 4, idx), 4), { resamples: 200, seed: 's' }));
    expect(withIntervals(0, () => [NaN])).toEqual([{ value: NaN, lo: NaN, hi: NaN, n: 0 }]);
  });

  it('give a seeded bootstrap interval that contains the value and narrows with more cases', () => {
    const random = seededRandom('ci');
    const truth = Array.from({ length: 400 }, () => Math.floor(random() * 3));
    const a = rater(truth, 3, 0.7, 'ci-a');
    const b = rater(truth, 3, 0.7, 'ci-b');
    const stat = (m: number) => withInterval(m, (idx) => cohenKappa(Array.from(idx, (i) => a[i]), Array.from(idx, (i) => b[i]), 3), { resamples: 300 });
    const small = stat(40);
    const large = stat(400);
    for (const s of [small, large]) {
      expect(s.lo).toBeLessThanOrEqual(s.value);
      expect(s.hi).toBeGreaterThanOrEqual(s.value);
    }
    expect(large.hi - large.lo).toBeLessThan(small.hi - small.lo);
    expect(stat(40)).toEqual(small);
  });
});
