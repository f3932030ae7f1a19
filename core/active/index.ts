/** Active learning: acquisition strategies that choose which unlabeled cases to label next. */
export { AcquisitionInputError, normalizeInput, toMatrix } from './input';
export type { AcquisitionInput, Matrix, MatrixLike, NormalizedInput, SamplesLike } from './input';
export { kCenterGreedy, nearestCentreSquaredDistances } from './kcenter';
export type { CorePick, KCenterOptions } from './kcenter';
export { seededRandom, seededSample } from './prng';
export { STRATEGIES, STRATEGY_NAMES, suggest } from './strategies';
export type { StrategyInfo, StrategyName, SuggestOptions, Suggestion, UncertaintyMeasure } from './strategies';
export { baldScores, entropyScores, leastConfidenceScores, marginScores, marginValues, meanOfSamples } from './uncertainty';
