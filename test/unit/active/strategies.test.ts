import { describe, expect, it } from 'vitest';
import { AcquisitionInputError } from '../../../core/active/input';
import { kCenterGreedy, nearestCentreSquaredDistances } from '../../../core/active/kcenter';
import { STRATEGIES, STRATEGY_NAMES, suggest } from '../../../core/active/strategies';
import { seededRandom } from '../../../core/util/prng';

// 5 unlabeled cases, 3 classes; hand-checkable uncertainty order.
const PROBS = [
  [0.9, 0.05, 0.05], // confident
  [0.34, 0.33, 0.33], // nearly uniform: highest entropy, least confidence
  [0.5, 0.49, 0.01], // two-way tie: smallest margin, but lower entropy (0.74) than row 3
  [0.6, 0.3, 0.1], // entropy 0.90
  [0.7, 0.2, 0.1],
];

describe('registry', () => {
  it('describes every strategy once', () => {
    expect(Object.keys(STRATEGIES).sort()).toEqual([...STRATEGY_NAMES].sort());
    for (const name of STRATEGY_NAMES) {
      expect(STRATEGIES[name].name).toBe(name);
      expect(STRATEGIES[name].description.length).toBeGreaterThan(20);
    }
  });

  it('rejects an unknown name and lists the known ones', () => {
    expect(() => suggest('nope' as 'entropy', { probabilities: PROBS }, 1)).toThrow(/unknown strategy "nope"; known: random, least-confidence/);
    expect(() => suggest('toString' as 'entropy', { probabilities: PROBS }, 1)).toThrow(/unknown strategy "toString"/);
  });

  it('names the missing input', () => {
    expect(() => suggest('bald', { probabilities: PROBS }, 1)).toThrow(/"bald" needs mcSamples/);
    expect(() => suggest('kcenter', { probabilities: PROBS }, 1)).toThrow(/"kcenter" needs embeddings/);
    expect(() => suggest('hybrid', { probabilities: PROBS }, 1)).toThrow(/"hybrid" needs embeddings/);
  });
});

describe('uncertainty strategies', () => {
  it('entropy picks the most uniform row first, with nats in the reason', () => {
    const picks = suggest('entropy', { probabilities: PROBS }, 2);
    expect(picks.map((p) => p.index)).toEqual([1, 3]);
    const h1 = -(0.34 * Math.log(0.34) + 2 * 0.33 * Math.log(0.33));
    expect(picks[0].score).toBeCloseTo(h1, 6);
    expect(picks[0]).toMatchObject({ rank: 1, strategy: 'entropy' });
    expect(picks[0].reason).toBe(`entropy ${h1.toFixed(2)} nats, rank 1 of 5 unlabeled`);
    expect(picks[1].reason).toMatch(/, rank 2 of 5 unlabeled$/);
  });

  it('least confidence: 1 − max p', () => {
    const picks = suggest('least-confidence', { probabilities: PROBS }, 5);
    expect(picks.map((p) => p.index)).toEqual([1, 2, 3, 4, 0]);
    expect(picks[0].score).toBeCloseTo(0.66, 6);
    expect(picks[0].reason).toBe('top-class probability 0.34 (least confidence 0.66), rank 1 of 5 unlabeled');
  });

  it('margin prefers the two-way tie over the uniform row', () => {
    const picks = suggest('margin', { probabilities: PROBS }, 2);
    expect(picks.map((p) => p.index)).toEqual([1, 2]); // margins 0.01 each: the lower index first
    const all = suggest('margin', { probabilities: [[0.6, 0.4], [0.51, 0.49], [0.9, 0.1]] }, 3);
    expect(all.map((p) => p.index)).toEqual([1, 0, 2]);
    expect(all[0].reason).toBe('margin 0.02 between the two most likely classes, rank 1 of 3 unlabeled');
  });

  it('accepts a flat Float32Array with numCases', () => {
    const flat = Float32Array.from(PROBS.flat());
    const picks = suggest('entropy', { probabilities: flat, numCases: 5 }, 1);
    expect(picks[0].index).toBe(1);
  });

  it('rejects rows that are not probabilities (e.g. logits)', () => {
    expect(() => suggest('entropy', { probabilities: [[2.3, -1.0, 0.4]] }, 1)).toThrow(/row 0 has a negative probability/);
    expect(() => suggest('entropy', { probabilities: [[0.9, 0.9]] }, 1)).toThrow(/row 0 sums to 1.8000/);
    expect(() => suggest('entropy', { probabilities: [[NaN, 1]] }, 1)).toThrow(/is NaN/);
  });
});

describe('BALD', () => {
  it('is 0 when all MC samples agree, whatever their entropy', () => {
    const sample = [[0.34, 0.33, 0.33], [0.9, 0.05, 0.05]];
    const picks = suggest('bald', { mcSamples: [sample, sample, sample, sample] }, 2);
    for (const p of picks) expect(p.score).toBeCloseTo(0, 12);
  });

  it('ranks disagreement between confident passes first, and matches the formula', () => {
    // case 0: passes disagree confidently; case 1: every pass is uncertain in the same way.
    const mc = [
      [[0.99, 0.01], [0.5, 0.5]],
      [[0.01, 0.99], [0.5, 0.5]],
    ];
    const picks = suggest('bald', { mcSamples: mc }, 2);
    expect(picks.map((p) => p.index)).toEqual([0, 1]);
    const h = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
    expect(picks[0].score).toBeCloseTo(Math.log(2) - h(0.99), 6);
    expect(picks[1].score).toBeCloseTo(0, 12);
    expect(picks[0].reason).toMatch(/^mutual information 0\.637 nats over 2 MC-dropout passes, rank 1 of 2 unlabeled$/);
  });

  it('flat MC samples need the class count; entropy can use the MC mean', () => {
    const flat = Float32Array.from([0.99, 0.01, 0.5, 0.5, 0.01, 0.99, 0.5, 0.5]);
    expect(() => suggest('bald', { mcSamples: flat, numCases: 2 }, 1)).toThrow(/numClasses/);
    expect(suggest('bald', { mcSamples: flat, numCases: 2, numClasses: 2 }, 1)[0].index).toBe(0);
    // The mean of both cases is (0.5, 0.5): equal entropy, lower index first.
    expect(suggest('entropy', { mcSamples: flat, numCases: 2, numClasses: 2 }, 2).map((p) => p.index)).toEqual([0, 1]);
  });
});

describe('random', () => {
  const input = { numCases: 1000 };
  it('is deterministic for a seed and differs for another seed', () => {
    const a = suggest('random', input, 20, { seed: 7 }).map((p) => p.index);
    const b = suggest('random', input, 20, { seed: 7 }).map((p) => p.index);
    const c = suggest('random', input, 20, { seed: 8 }).map((p) => p.index);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect(new Set(a).size).toBe(20);
    for (const i of a) expect(i >= 0 && i < 1000).toBe(true);
  });

  it('pins the sequence so a change of generator is noticed', () => {
    const r = seededRandom('fixed');
    const first = [r(), r(), r()];
    const again = seededRandom('fixed');
    expect([again(), again(), again()]).toEqual(first);
    expect(suggest('random', { numCases: 10 }, 10, { seed: 1 }).map((p) => p.index).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('returns everything when count exceeds n, nothing for count 0', () => {
    expect(suggest('random', { numCases: 3 }, 10)).toHaveLength(3);
    expect(suggest('random', { numCases: 3 }, 0)).toEqual([]);
    expect(() => suggest('random', { numCases: 3 }, -1)).toThrow(/count/);
  });
});

describe('k-center core-set', () => {
  // Two tight clusters around (0,0) and (10,0), and one far point at (0,20).
  const EMB = [
    [0, 0], [0.1, 0], [0, 0.1], // 0-2
    [10, 0], [10.1, 0], // 3-4
    [0, 20], // 5
  ];

  it('with a labelled case at the origin, picks the far point, then the other cluster', () => {
    const picks = suggest('kcenter', { embeddings: EMB, labeledEmbeddings: [[0, 0]] }, 3);
    // (0,20) is 20 away; then (10.1,0) is 10.1 from the origin, farther than (10,0).
    expect(picks.map((p) => p.index).slice(0, 2)).toEqual([5, 4]);
    expect(picks[0].score).toBeCloseTo(20, 5);
    expect(picks[1].score).toBeCloseTo(10.1, 5);
    // Every remaining case is now ~0.1 from a centre.
    expect([1, 2, 3]).toContain(picks[2].index);
    expect(picks[2].score).toBeCloseTo(0.1, 5);
    expect(picks[0].reason).toBe('embedding distance 20.00 to the nearest labelled or already chosen case, pick 1 of 6 unlabeled');
  });

  it('without labelled cases, starts at the most central case, then goes far', () => {
    const picks = suggest('kcenter', { embeddings: EMB }, 2);
    // centroid ≈ (3.367, 3.35): distances² (0,0) 22.56, (0.1,0) 21.894, (0,0.1) 21.897 → case 1.
    expect(picks[0].index).toBe(1);
    expect(picks[0].reason).toMatch(/^most central case/);
    expect(picks[1].index).toBe(5);
  });

  it('never picks the same case twice, even among duplicates', () => {
    const dup = [[1, 1], [1, 1], [1, 1]];
    const picks = suggest('kcenter', { embeddings: dup, labeledEmbeddings: [[1, 1]] }, 3);
    expect(picks.map((p) => p.index)).toEqual([0, 1, 2]);
  });

  it('cached nearest-labelled distances give the same picks as recomputing them', () => {
    const n = 300;
    const dim = 8;
    const r = seededRandom(3);
    const emb = Float32Array.from({ length: n * dim }, () => r());
    const labeled = Float32Array.from({ length: 20 * dim }, () => r());
    const direct = suggest('kcenter', { embeddings: emb, labeledEmbeddings: labeled, numCases: n }, 15);
    const all = Uint32Array.from({ length: n }, (_, i) => i);
    const cache = nearestCentreSquaredDistances({ data: emb, rows: n, cols: dim }, all, { data: labeled, rows: 20, cols: dim });
    const cached = suggest('kcenter', { embeddings: emb, numCases: n }, 15, { labeledMinSquaredDistances: cache });
    expect(cached).toEqual(direct);
  });

  it('greedy invariant: each pick is the farthest remaining case from all earlier centres (brute force)', () => {
    const n = 200;
    const dim = 5;
    const r = seededRandom('kc');
    const data = Float32Array.from({ length: n * dim }, () => r() * 10);
    const labeled = Float32Array.from({ length: 3 * dim }, () => r() * 10);
    const picks = kCenterGreedy({ data, rows: n, cols: dim }, 10, { centres: { data: labeled, rows: 3, cols: dim } });
    const centres: Float32Array[] = [0, 1, 2].map((k) => labeled.slice(k * dim, (k + 1) * dim));
    const row = (i: number) => data.slice(i * dim, (i + 1) * dim);
    const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0));
    const chosen = new Set<number>();
    for (const pick of picks) {
      let best = -1;
      let bestD = -1;
      for (let i = 0; i < n; i++) {
        if (chosen.has(i)) continue;
        const d = Math.min(...centres.map((c) => dist(row(i), c)));
        if (d > bestD) {
          bestD = d;
          best = i;
        }
      }
      expect(pick.index).toBe(best);
      expect(pick.distance).toBeCloseTo(bestD, 4);
      centres.push(row(pick.index));
      chosen.add(pick.index);
    }
  });

  it('rejects mismatched dimensions', () => {
    expect(() => suggest('kcenter', { embeddings: EMB, labeledEmbeddings: [[0, 0, 0]] }, 1)).toThrow(/3 dimensions, embeddings 2/);
  });
});

describe('hybrid', () => {
  it('takes the uncertain pool, then spreads the picks over it', () => {
    // Cases 0-3 are uncertain (uniform), 4-5 confident. Among the uncertain, 0 and 1 are near-duplicates.
    const probabilities = [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.99, 0.01], [0.98, 0.02]];
    const embeddings = [[0, 0], [0, 0.01], [5, 5], [9, 0], [20, 20], [-20, 0]];
    const picks = suggest('hybrid', { probabilities, embeddings, labeledEmbeddings: [[0, -1]] }, 2, { poolFactor: 2 });
    // pool = 4 most uncertain {0,1,2,3}; farthest from (0,-1): case 3 (dist √82), then case 2 (from 3 and (0,-1)).
    expect(picks.map((p) => p.index)).toEqual([3, 2]);
    expect(picks.every((p) => p.index < 4)).toBe(true);
    expect(picks[0].reason).toBe(
      `entropy 0.69 nats (uncertainty rank 4 of 6 unlabeled); embedding distance ${Math.sqrt(82).toFixed(2)} to the nearest labelled or already chosen case, pick 1 of 2`,
    );
  });

  it('pure entropy would pick the near-duplicates; hybrid does not', () => {
    const probabilities = [[0.5, 0.5], [0.5, 0.5], [0.55, 0.45], [0.99, 0.01]];
    const embeddings = [[0, 0], [0, 0.001], [8, 8], [30, 30]];
    expect(suggest('entropy', { probabilities }, 2).map((p) => p.index)).toEqual([0, 1]);
    const hybrid = suggest('hybrid', { probabilities, embeddings, labeledEmbeddings: [[0, 0.5]] }, 2, { poolFactor: 1.5 });
    expect(hybrid.map((p) => p.index).sort()).toEqual([0, 2]);
  });

  it('can pre-filter by BALD instead of entropy', () => {
    const mc = [
      [[0.99, 0.01], [0.5, 0.5], [0.9, 0.1]],
      [[0.01, 0.99], [0.5, 0.5], [0.9, 0.1]],
    ];
    const picks = suggest('hybrid', { mcSamples: mc, embeddings: [[0], [1], [2]] }, 1, { uncertainty: 'bald', poolFactor: 1 });
    expect(picks[0].index).toBe(0);
    expect(picks[0].reason).toMatch(/^mutual information .* \(uncertainty rank 1 of 3 unlabeled\); most central of the 1 most uncertain/);
  });
});

describe('input validation', () => {
  it('needs numCases when every array is flat', () => {
    expect(() => suggest('entropy', { probabilities: new Float32Array([0.5, 0.5]) }, 1)).toThrow(AcquisitionInputError);
    expect(() => suggest('entropy', { probabilities: new Float32Array([0.5, 0.5]) }, 1)).toThrow(/numCases is required/);
  });

  it('empty input gives no picks', () => {
    expect(suggest('entropy', { probabilities: [] }, 3)).toEqual([]);
  });
});
