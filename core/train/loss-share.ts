/**
 * How much one part of an effective batch (a micro-batch, or a replica's share) counts in the batch's
 * loss and gradient. The class-weighted loss is Σ w·nll / Σ w over the whole batch; each part's own
 * loss divides by its own weight sum, so it counts by that sum's share of the batch's — by its size
 * only when the loss is unweighted. Then cutting a batch differently does not change the step.
 */

/** Σ of the class weights of these class ids. */
export function classWeightSum(ids: ArrayLike<number>, classWeights: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < ids.length; i++) sum += classWeights[ids[i]];
  return sum;
}

/** A part's share of the batch: its class-weight sum over the batch's (`batchWeight`), else its size over the batch's. */
export function lossShare(partIds: ArrayLike<number>, batchSize: number, weighting?: { classWeights: ArrayLike<number>; batchWeight: number }): number {
  if (!weighting) return partIds.length / batchSize;
  return classWeightSum(partIds, weighting.classWeights) / weighting.batchWeight;
}
