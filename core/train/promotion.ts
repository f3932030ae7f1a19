/**
 * Whether a finished run's version becomes the task's active version, and a plain sentence saying why.
 * Versions are compared on the current validation cases with a paired bootstrap interval of the
 * difference in the selection metric:
 * - a version at chance is never promoted automatically (AUC interval containing 0.5, kappa ≤ 0,
 *   accuracy not above always answering the majority class);
 * - a version trained on more labels than the active one wins unless it is worse beyond noise
 *   (interval of the difference entirely below 0) — newer labels must not be trapped by a lucky old score;
 * - a version trained on no more labels (e.g. other settings) must beat the active one beyond noise.
 */
import type { Interval } from './bootstrap';
import type { SelectionMetricName } from './metrics';

export type PromotionPolicy = 'if-better' | 'never' | 'always';

/** Fewer validation cases than this make version comparisons unreliable (the UI warns). */
export const MIN_VALIDATION_CASES = 20;

export interface PromotionInput {
  policy: PromotionPolicy;
  metric: SelectionMetricName;
  /** The candidate's selection metric on the validation cases, with its interval. */
  candidate: Interval;
  /** Labelled cases the candidate was trained with (its label snapshot). */
  candidateLabels: number;
  /** Candidate's validation accuracy and the majority-class share (single-label tasks). */
  accuracy?: number;
  majorityAccuracy?: number;
  active?: {
    versionId: number;
    labels: number;
    /** Its selection metric: re-scored on the same cases, or its stored value when it could not be. */
    selection: number;
    /** Paired difference candidate − active on the same cases; absent when the active one was not re-scored. */
    difference?: Interval;
  };
}

export interface PromotionDecision {
  promote: boolean;
  atChance: boolean;
  /** One sentence, shown in the run log, the CLI and the versions table. */
  reason: string;
}

const NAMES: Record<SelectionMetricName, string> = {
  kappaQuadratic: 'quadratic kappa',
  macroAuc: 'macro AUC',
  accuracy: 'accuracy',
  mAP: 'mAP',
};

const f = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/** "macro AUC 0.81 (95 % CI 0.70–0.90, 40 cases)". */
export function describeInterval(metric: SelectionMetricName, i: Interval): string {
  const ci = Number.isFinite(i.lo) ? `95 % CI ${f(i.lo)}–${f(i.hi)}, ` : '';
  return `${NAMES[metric]} ${f(i.value)} (${ci}${i.n} validation cases)`;
}

/** Why a version is no better than guessing, or null. */
export function chanceReason(input: Pick<PromotionInput, 'metric' | 'candidate' | 'accuracy' | 'majorityAccuracy'>): string | null {
  const { metric, candidate: c } = input;
  if (c.n === 0) return 'it has no validation cases to be judged on';
  if (metric === 'macroAuc') {
    if (!Number.isFinite(c.value) || c.value <= 0.5) return `its macro AUC ${f(c.value)} is not above 0.5`;
    if (Number.isFinite(c.lo) && c.lo <= 0.5) return `the 95 % interval of its macro AUC (${f(c.lo)}–${f(c.hi)}) contains 0.5`;
  }
  if (metric === 'kappaQuadratic' && !(c.value > 0)) return `its quadratic kappa ${f(c.value)} is not above 0`;
  if (metric === 'accuracy' && input.majorityAccuracy !== undefined && !(c.value > input.majorityAccuracy)) {
    return `its accuracy ${f(c.value)} is not above always answering the most frequent class (${f(input.majorityAccuracy)})`;
  }
  if (metric === 'mAP' && !(c.value > 0)) return 'its mAP is 0';
  return null;
}

export function decidePromotion(input: PromotionInput): PromotionDecision {
  const { policy, metric, candidate, active } = input;
  const chance = chanceReason(input);
  const atChance = chance !== null;
  const scored = describeInterval(metric, candidate);
  if (policy === 'always') return { promote: true, atChance, reason: `promoted as asked (promote: always); ${scored}` };
  if (policy === 'never') return { promote: false, atChance, reason: `kept as a candidate as asked (promote: never); ${scored}` };
  if (chance) return { promote: false, atChance, reason: `kept as a candidate: the model is at chance (${chance}); ${scored}` };
  if (!active) return { promote: true, atChance, reason: `promoted: the task had no active version; ${scored}` };

  const moreLabels = input.candidateLabels > active.labels;
  const d = active.difference;
  const vs = `version ${active.versionId} (${active.labels} labels)`;
  if (d && Number.isFinite(d.lo)) {
    const diff = `difference ${d.value >= 0 ? '+' : ''}${f(d.value)} (95 % CI ${f(d.lo)} to ${f(d.hi)}) on the same ${d.n} validation cases`;
    if (moreLabels) {
      return d.hi < 0
        ? { promote: false, atChance, reason: `kept as a candidate: trained on ${input.candidateLabels} labels but worse than ${vs} beyond noise, ${diff}` }
        : { promote: true, atChance, reason: `promoted: trained on more labels (${input.candidateLabels}) and not worse than ${vs} beyond noise, ${diff}` };
    }
    return d.lo > 0
      ? { promote: true, atChance, reason: `promoted: better than ${vs} beyond noise, ${diff}` }
      : { promote: false, atChance, reason: `kept as a candidate: not better than ${vs} beyond noise (same or fewer labels), ${diff}` };
  }
  // The active version could not be re-scored on these cases (e.g. another backbone): its stored value.
  const stored = `its stored ${NAMES[metric]} ${f(active.selection)}`;
  if (!Number.isFinite(active.selection)) return { promote: true, atChance, reason: `promoted: ${vs} has no comparable score; ${scored}` };
  const worseBeyondNoise = Number.isFinite(candidate.hi) ? candidate.hi < active.selection : candidate.value < active.selection;
  const betterBeyondNoise = Number.isFinite(candidate.lo) ? candidate.lo > active.selection : candidate.value > active.selection;
  if (moreLabels ? !worseBeyondNoise : betterBeyondNoise) {
    return { promote: true, atChance, reason: `promoted: ${scored} against ${vs}'s ${stored.slice(4)} (not re-scored on these cases)` };
  }
  return { promote: false, atChance, reason: `kept as a candidate: ${scored} against ${vs}'s ${stored.slice(4)} (not re-scored on these cases)` };
}

/** Warnings a version carries wherever it is shown. */
export function versionWarnings(input: { valCount: number; missingClasses: string[]; accuracy?: number; majorityAccuracy?: number }): string[] {
  const out: string[] = [];
  if (input.valCount < MIN_VALIDATION_CASES) {
    out.push(`only ${input.valCount} validation cases: too few to compare versions reliably (label at least ${MIN_VALIDATION_CASES})`);
  }
  if (input.missingClasses.length > 0) out.push(`no validation case of ${input.missingClasses.map((c) => `"${c}"`).join(', ')}`);
  if (input.accuracy !== undefined && input.majorityAccuracy !== undefined && input.accuracy < input.majorityAccuracy) {
    out.push(`validation accuracy ${f(input.accuracy)} is below always answering the most frequent class (${f(input.majorityAccuracy)})`);
  }
  return out;
}
