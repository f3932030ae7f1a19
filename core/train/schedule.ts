/**
 * Learning-rate schedule (linear warm-up, then cosine decay to a floor) and class-imbalance loss
 * weights. Pure functions over plain numbers so the trainer, the CLI and tests share one definition.
 */

export class ScheduleConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleConfigError';
  }
}

export interface WarmupCosineOptions {
  /** Peak learning rate, reached at the end of warm-up. */
  baseLr: number;
  /** Total optimiser steps of the run (warm-up included). */
  totalSteps: number;
  /** Steps of linear warm-up; 0 starts directly at baseLr. */
  warmupSteps: number;
  /** Floor the cosine decays to (default 0). */
  minLr?: number;
}

function validate(o: WarmupCosineOptions): Required<WarmupCosineOptions> {
  const minLr = o.minLr ?? 0;
  if (!(o.baseLr > 0) || !Number.isFinite(o.baseLr)) throw new ScheduleConfigError(`baseLr must be a positive number, got ${o.baseLr}`);
  if (!(minLr >= 0) || minLr > o.baseLr) throw new ScheduleConfigError(`minLr must be in [0, baseLr=${o.baseLr}], got ${minLr}`);
  if (!Number.isInteger(o.totalSteps) || o.totalSteps < 1) throw new ScheduleConfigError(`totalSteps must be an integer ≥ 1, got ${o.totalSteps}`);
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0 || o.warmupSteps > o.totalSteps) {
    throw new ScheduleConfigError(`warmupSteps must be an integer in [0, totalSteps=${o.totalSteps}], got ${o.warmupSteps}`);
  }
  return { ...o, minLr };
}

/**
 * Learning rate at 0-based `step`:
 * - warm-up, step < W: baseLr·(step+1)/W (never 0, so the first step already learns; baseLr at step W−1);
 * - decay, W ≤ step < T: minLr + (baseLr − minLr)·½(1 + cos(π·(step − W)/(T − W)));
 * - step ≥ T: minLr.
 */
export function warmupCosineLr(step: number, options: WarmupCosineOptions): number {
  const { baseLr, totalSteps, warmupSteps, minLr } = validate(options);
  if (!Number.isInteger(step) || step < 0) throw new ScheduleConfigError(`step must be an integer ≥ 0, got ${step}`);
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  if (step >= totalSteps) return minLr;
  const progress = (step - warmupSteps) / (totalSteps - warmupSteps);
  return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** The schedule as a closure, validated once. */
export function makeWarmupCosineSchedule(options: WarmupCosineOptions): (step: number) => number {
  const checked = validate(options);
  return (step) => warmupCosineLr(step, checked);
}

// ---------------------------------------------------------------------------------------------
// Class-imbalance weights for the loss.

/** Cases per class id 0..numClasses-1; throws on a label outside that range. */
export function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new ScheduleConfigError(`label ${y} of case ${i} is outside 0..${numClasses - 1}`);
    }
    counts[y]++;
  }
  return counts;
}

function checkCounts(counts: readonly number[]): number {
  let present = 0;
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) throw new ScheduleConfigError(`class counts must be integers ≥ 0, got ${c}`);
    if (c > 0) present++;
  }
  if (present === 0) throw new ScheduleConfigError('class weights need at least one labelled case');
  return present;
}

/**
 * Inverse-frequency weights, normalised like scikit-learn's class_weight='balanced':
 * w_c = n / (K·n_c) over the K classes present, so the mean weight over the cases is 1.
 * A class with no case gets weight 0 (it contributes no loss term anyway).
 */
export function inverseFrequencyWeights(counts: readonly number[]): number[] {
  const present = checkCounts(counts);
  const n = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => (c === 0 ? 0 : n / (present * c)));
}

/**
 * "Effective number of samples" weights (Cui et al., CVPR 2019): E_c = (1 − βⁿᶜ)/(1 − β),
 * w_c ∝ 1/E_c, normalised so the weights of the K present classes sum to K (the paper's choice).
 * β → 0 gives equal weights, β → 1 approaches inverse frequency. A class with no case gets 0.
 */
export function effectiveNumberWeights(counts: readonly number[], beta = 0.999): number[] {
  if (!(beta >= 0 && beta < 1)) throw new ScheduleConfigError(`beta must be in [0, 1), got ${beta}`);
  const present = checkCounts(counts);
  const raw = counts.map((c) => (c === 0 ? 0 : (1 - beta) / (1 - Math.pow(beta, c))));
  const sum = raw.reduce((s, w) => s + w, 0);
  return raw.map((w) => (w * present) / sum);
}
