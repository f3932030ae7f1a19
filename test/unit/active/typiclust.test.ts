import { describe, expect, it } from 'vitest';
import { STRATEGIES, suggest } from '../../../core/active/strategies';
import { kMeans, typiclust } from '../../../core/active/typiclust';
import { seededRandom } from '../../../core/util/prng';

/** Gaussian-ish blobs in 2-D: `sizes[j]` points around centre j, plus one far outlier at the end. */
function blobs(centres: [number, number][], sizes: number[], seed: string): Float32Array {
  const random = seededRandom(seed);
  const noise = () => (random() + random() + random() - 1.5) * 0.4;
  const rows: number[] = [];
  centres.forEach(([x, y], j) => {
    for (let i = 0; i < sizes[j]; i++) rows.push(x + noise(), y + noise());
  });
  rows.push(50, 50);
  return Float32Array.from(rows);
}
const CENTRES: [number, number][] = [[0, 0], [10, 0], [0, 10]];

describe('kMeans', () => {
  it('separates well-spread blobs and the outlier', () => {
    const data = blobs(CENTRES, [30, 30, 30], 'k');
    const a = kMeans(data, 91, 2, 4, 30, seededRandom('s'));
    for (let j = 0; j < 3; j++) expect(new Set(a.slice(j * 30, j * 30 + 30)).size).toBe(1);
    expect(new Set([a[0], a[30], a[60], a[90]]).size).toBe(4);
  });
});

describe('typiclust', () => {
  const data = blobs(CENTRES, [60, 30, 15], 'typ');
  const unlabeled = { data, rows: 106, cols: 2 };

  it('with no labels picks one typical case per cluster, largest cluster first, never the outlier', () => {
    const picks = typiclust(unlabeled, undefined, 3, { seed: 1 });
    expect(picks.map((p) => p.clusterSize)).toEqual([...picks.map((p) => p.clusterSize)].sort((a, b) => b - a));
    const blobOf = (i: number) => (i < 60 ? 0 : i < 90 ? 1 : i < 105 ? 2 : 3);
    expect(new Set(picks.map((p) => blobOf(p.index))).size).toBe(3);
    // The pick is the densest point of its blob: near the centre, not on its rim.
    for (const p of picks) {
      const [cx, cy] = CENTRES[blobOf(p.index)];
      expect(Math.hypot(data[p.index * 2] - cx, data[p.index * 2 + 1] - cy)).toBeLessThan(0.35);
    }
  });

  it('skips clusters that a labelled case already covers', () => {
    // One labelled case in the big blob: the 2 picks (3 clusters) go to the two other blobs.
    const labeled = { data: Float32Array.from([0.05, 0]), rows: 1, cols: 2 };
    const picks = typiclust(unlabeled, labeled, 2, { seed: 1 });
    expect(picks.every((p) => p.index >= 60 && p.index < 105)).toBe(true);
  });

  it('is deterministic for a seed and returns every case when count exceeds them', () => {
    expect(typiclust(unlabeled, undefined, 5, { seed: 3 })).toEqual(typiclust(unlabeled, undefined, 5, { seed: 3 }));
    const all = typiclust({ data: data.slice(0, 8), rows: 4, cols: 2 }, undefined, 10);
    expect(all.map((p) => p.index).sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('typiclust and auto strategies', () => {
  const data = blobs(CENTRES, [60, 30, 15], 'typ');
  const embeddings = Array.from({ length: 106 }, (_, i) => [data[i * 2], data[i * 2 + 1]]);
  // Probabilities: every case confident except case 7 (two-way tie).
  const probabilities = embeddings.map((_, i) => (i === 7 ? [0.5, 0.5] : [0.9, 0.1]));

  it('typiclust needs only embeddings and explains each pick', () => {
    expect(STRATEGIES.typiclust.needs).toEqual(['embeddings']);
    const picks = suggest('typiclust', { embeddings }, 2);
    expect(picks[0].reason).toMatch(/^most typical unlabeled case \(typicality [\d.]+ = 1 \/ mean distance to its nearest neighbours\) of cluster \d+ of 2 \(\d+ cases, none labelled or picked before\), pick 1 of 2$/);
    expect(() => suggest('typiclust', { probabilities }, 1)).toThrow(/"typiclust" needs embeddings/);
  });

  it('auto is TypiClust without a model or with few labels, margin after the hand-over', () => {
    const cold = suggest('auto', { embeddings }, 2);
    expect(cold.map((p) => p.index)).toEqual(suggest('typiclust', { embeddings }, 2).map((p) => p.index));
    expect(cold[0].reason).toMatch(/^no model predictions yet: most typical/);
    const few = suggest('auto', { embeddings, probabilities }, 1, { labeledCount: 39 });
    expect(few[0].reason).toMatch(/^39 labels < 20 per class × 2 classes: most typical/);
    const many = suggest('auto', { embeddings, probabilities }, 1, { labeledCount: 40 });
    expect(many[0].index).toBe(7);
    expect(many[0].strategy).toBe('auto');
    expect(many[0].reason).toMatch(/^40 labels ≥ 20 per class × 2 classes: margin 0.00 between the two most likely classes/);
    // The labelled count defaults to the labelled embeddings given.
    const labeledEmbeddings = Array.from({ length: 40 }, () => [0, 0]);
    expect(suggest('auto', { embeddings, probabilities, labeledEmbeddings }, 1)[0].index).toBe(7);
  });
});
