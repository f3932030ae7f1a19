/**
 * A batch that is part random, part uncertain: with weak frozen features a head's uncertainty is often
 * wrong, and pure uncertainty sampling then keeps labelling one confusing region while random picks
 * still cover the data. Mixing the two keeps random's coverage and adds the cases near the boundary.
 * The uncertain part can be spread over the predicted classes (round-robin, most uncertain first), so a
 * set where one class dominates still gets cases the head calls the rare class. Where the validation
 * influence of each case is known (core/active/influence.ts), a share of the batch goes to the cases
 * whose label is expected to lower the validation loss most: uncertainty that also points where the
 * head is wrong on validation.
 */
import { seededSample } from '../util/prng';

/**
 * Default shares of a batch; the rest goes to the most uncertain cases. Half at random while the head is
 * young; once there are `handoverLabelsPerClass` labels per class, a quarter (so half goes to the most
 * uncertain). A quarter from the start lost at 100–150 labels, half throughout left the late gains unused
 * (docs/active-learning.md, "The loop's rhythm, and a handover").
 */
export const MIX_DEFAULTS = { randomFraction: 0.5, influenceFraction: 0.25, handoverLabelsPerClass: 40, handoverRandomFraction: 0.25 } as const;

export interface MixOptions {
  /** Share of the batch drawn at random (0…1; default MIX_DEFAULTS.randomFraction). */
  randomFraction?: number;
  /** Spread the uncertain part over the predicted classes (default true). */
  classBalanced?: boolean;
  seed?: number | string;
  /** Expected fall of the validation loss per case (influence.ts); with it, `influenceFraction` of the batch is picked by it. */
  influence?: Float64Array;
  /** Share of the batch picked by `influence` (0…1; default MIX_DEFAULTS.influenceFraction), taken after the random share. */
  influenceFraction?: number;
}

export interface MixPick {
  index: number;
  source: 'random' | 'influence' | 'uncertain';
  /** Predicted class of an uncertain or influence pick (argmax); -1 for a random one. */
  predictedClass: number;
}

/**
 * Picks `count` of n cases: round(randomFraction·count) by a seeded uniform draw, then (with `influence`)
 * round(influenceFraction·count) by descending influence, the rest by descending `scores` among the cases
 * not yet taken (ties to the lower index), optionally round-robin over `predicted`.
 */
export function randomUncertainMix(scores: Float64Array, predicted: Int32Array, count: number, options: MixOptions = {}): MixPick[] {
  const n = scores.length;
  const fraction = options.randomFraction ?? MIX_DEFAULTS.randomFraction;
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`randomFraction must be in [0, 1], got ${fraction}`);
  const total = Math.min(count, n);
  const randomCount = Math.round(fraction * total);
  const picks: MixPick[] = [];
  const taken = new Uint8Array(n);
  for (const index of seededSample(n, randomCount, options.seed ?? 0)) {
    taken[index] = 1;
    picks.push({ index, source: 'random', predictedClass: -1 });
  }
  if (options.influence) {
    const influence = options.influence;
    if (influence.length !== n) throw new RangeError(`influence has ${influence.length} values for ${n} cases`);
    const share = options.influenceFraction ?? MIX_DEFAULTS.influenceFraction;
    if (!(share >= 0 && share + fraction <= 1)) throw new RangeError(`influenceFraction must be in [0, 1 − randomFraction], got ${share}`);
    const byInfluence = Array.from({ length: n }, (_, i) => i)
      .filter((i) => !taken[i])
      .sort((a, b) => influence[b] - influence[a] || a - b)
      .slice(0, Math.min(Math.round(share * total), total - randomCount));
    for (const index of byInfluence) {
      taken[index] = 1;
      picks.push({ index, source: 'influence', predictedClass: predicted[index] });
    }
  }
  const order = Array.from({ length: n }, (_, i) => i)
    .filter((i) => !taken[i])
    .sort((a, b) => scores[b] - scores[a] || a - b);
  const want = total - picks.length;
  if (options.classBalanced === false) {
    for (const index of order.slice(0, want)) picks.push({ index, source: 'uncertain', predictedClass: predicted[index] });
    return picks;
  }
  // One queue per predicted class, most uncertain first; take one from each non-empty queue in turn.
  const queues = new Map<number, number[]>();
  for (const index of order) {
    const c = predicted[index];
    if (!queues.has(c)) queues.set(c, []);
    queues.get(c)!.push(index);
  }
  const classes = [...queues.keys()].sort((a, b) => a - b);
  const heads = new Map(classes.map((c) => [c, 0]));
  let added = 0;
  while (added < want) {
    for (const c of classes) {
      const queue = queues.get(c)!;
      const at = heads.get(c)!;
      if (at >= queue.length || added >= want) continue;
      picks.push({ index: queue[at], source: 'uncertain', predictedClass: c });
      heads.set(c, at + 1);
      added++;
    }
  }
  return picks;
}
