/**
 * Acquisition strategies: which unlabeled cases to offer the user next. One entry point,
 * `suggest(strategy, input, count, options)`, and a registry describing each strategy for the UI
 * and the CLI. Formulas: docs/active-learning.md.
 */
import { AcquisitionInput, AcquisitionInputError, Matrix, NormalizedInput, normalizeInput } from './input';
import { kCenterGreedy } from './kcenter';
import { MIX_DEFAULTS, randomUncertainMix } from './mix';
import { typiclust } from './typiclust';
import { seededSample } from '../util/prng';
import { baldScores, entropyScores, gradeVarianceScores, leastConfidenceScores, marginScores, meanOfSamples } from './uncertainty';
import { STRATEGY_NAMES, type StrategyName } from '../vocabulary';

export { STRATEGY_NAMES, type StrategyName } from '../vocabulary';
export type UncertaintyMeasure = 'least-confidence' | 'margin' | 'entropy' | 'bald';
type InputPart = 'probabilities' | 'mcSamples' | 'embeddings';

export interface StrategyInfo {
  name: StrategyName;
  title: string;
  description: string;
  /** Inputs it needs; `probabilities` is also satisfied by `mcSamples` (their mean). */
  needs: InputPart[];
}

export const STRATEGIES: Readonly<Record<StrategyName, StrategyInfo>> = {
  random: {
    name: 'random',
    title: 'Random',
    description: 'Uniformly random cases from a seeded generator: an unbiased baseline, reproducible with the same seed.',
    needs: [],
  },
  'least-confidence': {
    name: 'least-confidence',
    title: 'Least confidence',
    description: "Cases whose most likely class has the lowest probability (score 1 − max p).",
    needs: ['probabilities'],
  },
  margin: {
    name: 'margin',
    title: 'Smallest margin',
    description: 'Cases where the two most likely classes are closest (smallest p₁ − p₂): the model hesitates between two answers.',
    needs: ['probabilities'],
  },
  entropy: {
    name: 'entropy',
    title: 'Entropy',
    description: 'Cases whose predicted distribution has the highest entropy −Σ p ln p over all classes.',
    needs: ['probabilities'],
  },
  bald: {
    name: 'bald',
    title: 'BALD (MC dropout)',
    description: 'Cases where MC-dropout passes disagree most: mutual information H(p̄) − mean H(pₜ). Ignores noise the model is sure about.',
    needs: ['mcSamples'],
  },
  kcenter: {
    name: 'kcenter',
    title: 'Core-set (k-center)',
    description: 'Cases farthest in embedding space from everything labelled or already chosen: covers the data, ignores the model’s confidence.',
    needs: ['embeddings'],
  },
  hybrid: {
    name: 'hybrid',
    title: 'Uncertain and diverse',
    description: 'The most uncertain cases (pool of 10 × count by entropy), then k-center among them so the batch is not ten near-duplicates.',
    needs: ['probabilities', 'embeddings'],
  },
  typiclust: {
    name: 'typiclust',
    title: 'TypiClust (typical, uncovered)',
    description:
      'For the first labels: k-means on the embeddings into (labelled + count) clusters, then the most typical case (densest neighbourhood) of each cluster no label covers yet, largest first. Needs no trained head.',
    needs: ['embeddings'],
  },
  auto: {
    name: 'auto',
    title: 'Auto (typical first, then uncertain)',
    description:
      'TypiClust while labels are few (under AUTO_LABELS_PER_CLASS per class, or no model yet), then the smallest-margin cases: typical cases teach more than uncertain ones until the head is good enough for its uncertainty to mean something.',
    needs: ['embeddings'],
  },
  mixed: {
    name: 'mixed',
    title: 'Mixed (random and uncertain)',
    description:
      'Half of each batch at random, a quarter once there are 40 labels per class; a quarter the cases whose label is expected to lower the validation loss most (validation influence, once the labelled cases are scored); the rest the most uncertain cases spread over the predicted classes in turn: smallest margin, or for graded (ordinal) tasks the largest grade variance, the expected squared grade error. Random keeps covering the data where the model’s uncertainty is still wrong; before any model it is all random.',
    needs: [],
  },
};

/**
 * The auto strategy hands over from TypiClust to margin once the labelled cases reach this many per
 * class (measured by `npm run eval:al`, docs/active-learning.md).
 */
export const AUTO_LABELS_PER_CLASS = 20;


export interface SuggestOptions {
  /** Seed of the random strategy (default 0). */
  seed?: number | string;
  /** Hybrid: uncertainty measure of the pre-filter (default entropy). */
  uncertainty?: UncertaintyMeasure;
  /** Hybrid: pool size = poolFactor × count most-uncertain cases (default 10). */
  poolFactor?: number;
  /** k-center/hybrid: cached squared distance of each unlabeled case to its nearest labelled case. */
  labeledMinSquaredDistances?: Float64Array;
  /** Auto: labels per class at which it hands over from TypiClust to margin (default AUTO_LABELS_PER_CLASS). */
  autoLabelsPerClass?: number;
  /** Auto: the strategy it hands over to (default margin). */
  autoHandover?: 'margin' | 'entropy' | 'hybrid';
  /** Mixed: share of the batch drawn at random before the handover (default MIX_DEFAULTS.randomFraction, a half). */
  randomFraction?: number;
  /**
   * Mixed: labels per class (labelled cases ÷ classes, needs `labeledCount`) from which the random share is
   * `handoverRandomFraction` instead (defaults MIX_DEFAULTS: 40 and a quarter; Infinity keeps `randomFraction`).
   */
  handoverLabelsPerClass?: number;
  handoverRandomFraction?: number;
  /** Mixed: share of the batch picked by validation influence when `influence` is given (default MIX_DEFAULTS.influenceFraction). */
  influenceFraction?: number;
  /** Mixed: spread the uncertain part over the predicted classes (default true). */
  classBalanced?: boolean;
  /**
   * Mixed: the whole batch is random while there are fewer labels than this many per class (default 0: no
   * cold start; 20 per class measured worse than none on two of three sets, docs/active-learning.md). Needs `labeledCount`.
   */
  coldStartLabelsPerClass?: number;
  /**
   * Mixed: the classes are ordered grades (an ordinal task). Its uncertain part then ranks by grade variance
   * (the expected squared grade error, what quadratic kappa charges) instead of margin.
   */
  ordinal?: boolean;
  /** Mixed: the task's class names, for the reasons ("predicted poor"); default "class k". */
  classNames?: readonly string[];
  /** Auto and mixed: labelled cases so far; default the rows of labeledEmbeddings. */
  labeledCount?: number;
}

export interface Suggestion {
  /** Row of the unlabeled case in the input arrays. */
  index: number;
  /** Strategy score; larger = more informative (random: 0). */
  score: number;
  /** 1-based position in the suggested batch. */
  rank: number;
  strategy: StrategyName;
  /** A sentence for the worklist, e.g. "entropy 1.52 nats, rank 3 of 812 unlabeled". */
  reason: string;
}

const fmt = (v: number, digits = 2) => v.toFixed(digits);

/** Picks the next `count` cases (all of them when fewer remain) by the named strategy. */
export function suggest(strategy: StrategyName, input: AcquisitionInput, count: number, options: SuggestOptions = {}): Suggestion[] {
  // hasOwn, so that names like "toString" are not found on Object.prototype.
  const info = Object.hasOwn(STRATEGIES, strategy) ? STRATEGIES[strategy] : undefined;
  if (!info) {
    throw new AcquisitionInputError(`unknown strategy "${String(strategy)}"; known: ${STRATEGY_NAMES.join(', ')}`);
  }
  if (!Number.isInteger(count) || count < 0) throw new AcquisitionInputError(`count must be an integer ≥ 0, got ${count}`);
  const data = normalizeInput(input);
  requireInputs(info, data);
  if (count === 0 || data.n === 0) return [];
  switch (strategy) {
    case 'random':
      return randomPicks(data.n, count, options.seed ?? 0);
    case 'least-confidence':
    case 'margin':
    case 'entropy':
    case 'bald':
      return rankByScore(strategy, uncertainty(strategy, data), count, data);
    case 'kcenter':
      return kCenterPicks(data, count, options);
    case 'hybrid':
      return hybridPicks(data, count, options);
    case 'typiclust':
      return typiclustPicks(data, count, options, 'typiclust');
    case 'auto':
      return autoPicks(data, count, options);
    case 'mixed':
      return mixedPicks(data, count, options);
  }
}

function requireInputs(info: StrategyInfo, data: NormalizedInput): void {
  if (data.n === 0) return;
  for (const part of info.needs) {
    const present = part === 'probabilities' ? data.probabilities ?? data.mcSamples : data[part];
    if (!present) {
      throw new AcquisitionInputError(`strategy "${info.name}" needs ${part === 'mcSamples' ? 'mcSamples (MC-dropout probabilities)' : part}`);
    }
  }
}

function probabilitiesOf(data: NormalizedInput): Matrix {
  if (data.probabilities) return data.probabilities;
  if (data.mcSamples) return meanOfSamples(data.mcSamples);
  throw new AcquisitionInputError('probabilities (or mcSamples) are required');
}

function uncertainty(measure: UncertaintyMeasure, data: NormalizedInput): Float64Array {
  switch (measure) {
    case 'least-confidence':
      return leastConfidenceScores(probabilitiesOf(data));
    case 'margin':
      return marginScores(probabilitiesOf(data));
    case 'entropy':
      return entropyScores(probabilitiesOf(data));
    case 'bald':
      if (!data.mcSamples) throw new AcquisitionInputError('uncertainty "bald" needs mcSamples (MC-dropout probabilities)');
      return baldScores(data.mcSamples);
  }
}

/** Describes one uncertainty value in words. */
function describeUncertainty(measure: UncertaintyMeasure | 'grade-variance', score: number, data: NormalizedInput): string {
  switch (measure) {
    case 'grade-variance':
      return `the predicted grade is uncertain by ±${fmt(Math.sqrt(score))} grades (grade variance ${fmt(score)}, the expected squared grade error)`;
    case 'least-confidence':
      return `top-class probability ${fmt(1 - score)} (least confidence ${fmt(score)})`;
    case 'margin':
      return `margin ${fmt(1 - score)} between the two most likely classes`;
    case 'entropy':
      return `entropy ${fmt(score)} nats`;
    case 'bald':
      return `mutual information ${fmt(score, 3)} nats over ${data.mcSamples?.samples ?? 0} MC-dropout passes`;
  }
}

/** Indices ordered by descending score; ties keep the lower index first (deterministic). */
function orderByScore(scores: Float64Array): Uint32Array {
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

function rankByScore(measure: UncertaintyMeasure, scores: Float64Array, count: number, data: NormalizedInput): Suggestion[] {
  const order = orderByScore(scores);
  const picks: Suggestion[] = [];
  for (let r = 0; r < Math.min(count, order.length); r++) {
    const index = order[r];
    picks.push({
      index,
      score: scores[index],
      rank: r + 1,
      strategy: measure,
      reason: `${describeUncertainty(measure, scores[index], data)}, rank ${r + 1} of ${data.n} unlabeled`,
    });
  }
  return picks;
}

function randomPicks(n: number, count: number, seed: number | string): Suggestion[] {
  return Array.from(seededSample(n, count, seed), (index, r) => ({
    index,
    score: 0,
    rank: r + 1,
    strategy: 'random' as const,
    reason: `random draw (seed ${JSON.stringify(seed)}), pick ${r + 1} of ${n} unlabeled`,
  }));
}

function kCenterPicks(data: NormalizedInput, count: number, options: SuggestOptions): Suggestion[] {
  const embeddings = data.embeddings as Matrix;
  checkCachedDistances(options.labeledMinSquaredDistances, data.n);
  const picks = kCenterGreedy(embeddings, count, {
    centres: data.labeledEmbeddings,
    initialMinSquaredDistances: options.labeledMinSquaredDistances,
  });
  return picks.map((p, r) => ({
    index: p.index,
    score: p.distance,
    rank: r + 1,
    strategy: 'kcenter' as const,
    reason: p.seededAtCentre
      ? `most central case (no labelled case yet), pick 1 of ${data.n} unlabeled`
      : `embedding distance ${fmt(p.distance)} to the nearest labelled or already chosen case, pick ${r + 1} of ${data.n} unlabeled`,
  }));
}

function hybridPicks(data: NormalizedInput, count: number, options: SuggestOptions): Suggestion[] {
  const measure = options.uncertainty ?? 'entropy';
  const factor = options.poolFactor ?? 10;
  if (!(factor >= 1)) throw new AcquisitionInputError(`poolFactor must be ≥ 1, got ${factor}`);
  checkCachedDistances(options.labeledMinSquaredDistances, data.n);
  const scores = uncertainty(measure, data);
  const order = orderByScore(scores);
  const poolSize = Math.min(data.n, Math.ceil(factor * count));
  const pool = order.slice(0, poolSize);
  const uncertaintyRank = new Map<number, number>();
  pool.forEach((index, r) => uncertaintyRank.set(index, r + 1));
  const cached = options.labeledMinSquaredDistances;
  const picks = kCenterGreedy(data.embeddings as Matrix, count, {
    candidates: pool,
    centres: data.labeledEmbeddings,
    initialMinSquaredDistances: cached ? Float64Array.from(pool, (i) => cached[i]) : undefined,
  });
  return picks.map((p, r) => ({
    index: p.index,
    score: p.distance,
    rank: r + 1,
    strategy: 'hybrid' as const,
    reason:
      `${describeUncertainty(measure, scores[p.index], data)} (uncertainty rank ${uncertaintyRank.get(p.index)} of ${data.n} unlabeled); ` +
      (p.seededAtCentre
        ? `most central of the ${poolSize} most uncertain (no labelled case yet)`
        : `embedding distance ${fmt(p.distance)} to the nearest labelled or already chosen case`) +
      `, pick ${r + 1} of ${Math.min(count, poolSize)}`,
  }));
}

function checkCachedDistances(cached: Float64Array | undefined, n: number): void {
  if (cached && cached.length !== n) {
    throw new AcquisitionInputError(`labeledMinSquaredDistances has ${cached.length} values, expected one per unlabeled case (${n})`);
  }
}

function typiclustPicks(data: NormalizedInput, count: number, options: SuggestOptions, strategy: 'typiclust' | 'auto', prefix = ''): Suggestion[] {
  const picks = typiclust(data.embeddings as Matrix, data.labeledEmbeddings, count, { seed: options.seed ?? 0 });
  return picks.map((p, r) => ({
    index: p.index,
    score: p.typicality,
    rank: r + 1,
    strategy,
    reason:
      `${prefix}most typical unlabeled case (typicality ${fmt(p.typicality)} = 1 / mean distance to its nearest neighbours) of cluster ${p.cluster + 1} of ${p.clusters} ` +
      `(${p.clusterSize} cases, ${p.clusterCovered === 0 ? 'none' : p.clusterCovered} labelled or picked before), pick ${r + 1} of ${Math.min(count, data.n)}`,
  }));
}

function autoPicks(data: NormalizedInput, count: number, options: SuggestOptions): Suggestion[] {
  const labelled = options.labeledCount ?? data.labeledEmbeddings?.rows ?? 0;
  const probabilities = data.probabilities ?? (data.mcSamples ? meanOfSamples(data.mcSamples) : undefined);
  const perClass = options.autoLabelsPerClass ?? AUTO_LABELS_PER_CLASS;
  const threshold = probabilities ? perClass * probabilities.cols : Infinity;
  if (labelled < threshold) {
    const why = probabilities ? `${labelled} labels < ${perClass} per class × ${probabilities.cols} classes: ` : 'no model predictions yet: ';
    return typiclustPicks(data, count, options, 'auto', why);
  }
  const handover = options.autoHandover ?? 'margin';
  const why = `${labelled} labels ≥ ${perClass} per class × ${probabilities!.cols} classes: `;
  const picks = handover === 'hybrid' ? hybridPicks({ ...data, probabilities }, count, options) : rankByScore(handover, uncertainty(handover, { ...data, probabilities }), count, data);
  return picks.map((p) => ({ ...p, strategy: 'auto' as const, reason: why + p.reason }));
}

function mixedPicks(data: NormalizedInput, count: number, options: SuggestOptions): Suggestion[] {
  const probabilities = data.probabilities ?? (data.mcSamples ? meanOfSamples(data.mcSamples) : undefined);
  const seed = options.seed ?? 0;
  if (!probabilities) {
    // No model yet: its uncertainty does not exist, so the whole batch is random.
    return randomPicks(data.n, count, seed).map((p) => ({ ...p, strategy: 'mixed' as const, reason: `mixed, no model predictions yet: ${p.reason}` }));
  }
  const labelled = options.labeledCount ?? data.labeledEmbeddings?.rows;
  const perClass = options.coldStartLabelsPerClass ?? 0;
  if (labelled !== undefined && labelled < perClass * probabilities.cols) {
    // Cold start: with this few labels the head's margins still mislead, and random covers the data.
    const why = `mixed, cold start (${labelled} labels < ${perClass} per class × ${probabilities.cols} classes): `;
    return randomPicks(data.n, count, seed).map((p) => ({ ...p, strategy: 'mixed' as const, reason: why + p.reason }));
  }
  // The head has seen enough of every class for its uncertainty to be worth more of the batch.
  const handedOver = labelled !== undefined && labelled >= (options.handoverLabelsPerClass ?? MIX_DEFAULTS.handoverLabelsPerClass) * probabilities.cols;
  const fraction = handedOver ? (options.handoverRandomFraction ?? MIX_DEFAULTS.handoverRandomFraction) : (options.randomFraction ?? MIX_DEFAULTS.randomFraction);
  const fractionName = handedOver ? 'handoverRandomFraction' : 'randomFraction';
  if (!(fraction >= 0 && fraction <= 1)) throw new AcquisitionInputError(`${fractionName} must be in [0, 1], got ${fraction}`);
  const measure = options.ordinal ? 'grade-variance' : 'margin';
  const scores = measure === 'grade-variance' ? gradeVarianceScores(probabilities) : marginScores(probabilities);
  const predicted = argmaxRows(probabilities);
  const className = (k: number) => (options.classNames?.[k] !== undefined ? `“${options.classNames[k]}”` : `class ${k}`);
  const picks = randomUncertainMix(scores, predicted, count, {
    randomFraction: fraction,
    classBalanced: options.classBalanced ?? true,
    seed,
    influence: data.influence,
    influenceFraction: options.influenceFraction,
  });
  // Interleave the sources in proportion (each pick at its fractional place within its source), so a
  // reader who labels only the top of the queue still gets the mix, not the random share alone.
  const sources = ['random', 'influence', 'uncertain'] as const;
  const sizes = new Map(sources.map((src) => [src, picks.filter((p) => p.source === src).length]));
  const place = new Map<number, number>();
  for (const src of sources) picks.filter((p) => p.source === src).forEach((p, k) => place.set(p.index, (k + 0.5) / sizes.get(src)!));
  const ordered = [...picks].sort((a, b) => place.get(a.index)! - place.get(b.index)! || sources.indexOf(a.source) - sources.indexOf(b.source));
  return ordered.map((p, r) => ({
    index: p.index,
    score: p.source === 'random' ? 0 : p.source === 'influence' ? data.influence![p.index] : scores[p.index],
    rank: r + 1,
    strategy: 'mixed' as const,
    reason:
      (p.source === 'random'
        ? `random share of the batch (${percent(fraction)}${handedOver ? `, down from ${percent(options.randomFraction ?? MIX_DEFAULTS.randomFraction)} now that there are ${Math.floor(labelled / probabilities.cols)} labels per class, ≥ ${options.handoverLabelsPerClass ?? MIX_DEFAULTS.handoverLabelsPerClass}` : ''}), so the model keeps seeing every kind of case (seed ${JSON.stringify(seed)})`
        : p.source === 'influence'
          ? `its label is expected to lower the validation loss by ${data.influence![p.index].toPrecision(3)} (influence), predicted ${className(p.predictedClass)}`
          : `${describeUncertainty(measure, scores[p.index], data)}, predicted ${className(p.predictedClass)}`) + `, pick ${r + 1} of ${ordered.length}`,
  }));
}

const percent = (share: number) => `${Math.round(share * 100)} %`;

/** Predicted class per row (argmax, ties to the lower class). */
function argmaxRows(p: Matrix): Int32Array {
  const out = new Int32Array(p.rows);
  for (let i = 0; i < p.rows; i++) {
    let best = 0;
    for (let k = 1; k < p.cols; k++) if (p.data[i * p.cols + k] > p.data[i * p.cols + best]) best = k;
    out[i] = best;
  }
  return out;
}
