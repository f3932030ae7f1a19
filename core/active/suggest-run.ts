/**
 * Builds the next batch of suggested cases for a task from the active version's stored predictions:
 * unlabeled, non-quarantined cases, scored by the chosen strategy, ranked and written to the
 * suggestions queue with the reason each was picked.
 */
import { parseSafetensors } from '../model/safetensors';
import type { Workspace } from '../store';
import { probeClassWeights, probeWeighting } from '../train/linear-probe';
import { labelTargets } from '../train/label-targets';
import { seededRandom } from '../util/prng';
import { CLASS_WEIGHTINGS, TRAINING_DEFAULTS, type ClassWeighting } from '../vocabulary';
import { validationInfluence } from './influence';
import { AcquisitionInputError } from './input';
import { STRATEGY_NAMES, suggest, type StrategyName } from './strategies';

export interface SuggestRequest {
  taskId: number;
  strategy: StrategyName;
  count: number;
  versionId?: number;
  seed?: number;
  /** MC-dropout passes for BALD (default 20) and their dropout rate (default 0.2). */
  mcSamples?: number;
  dropout?: number;
}

export interface SuggestOutcome {
  strategy: StrategyName;
  versionId?: number;
  suggested: { caseId: number; rank: number; score: number; reason: string }[];
  /** Unlabeled cases considered (those with a prediction, unless the strategy is random). */
  pool: number;
  /** Unlabeled cases without a prediction of this version (predict first to include them). */
  unpredicted: number;
  /** Mixed: where its validation-influence share came from, or why it had none (then that share is by margin). */
  influence?: string;
}

/**
 * MC dropout on the pre-logits feature: T passes through the head with dropout masks. The backbone and
 * adapter are deterministic at inference, so the head is where sampling is possible without re-running
 * the ViT; the spread across passes measures how much the decision hinges on individual features.
 */
export function headDropoutSamples(
  embeddings: Float32Array[],
  headWeight: Float32Array,
  headBias: Float32Array,
  numClasses: number,
  samples: number,
  rate: number,
  seed: number,
): number[][][] {
  const random = seededRandom(`mc:${seed}`);
  const D = headWeight.length / numClasses;
  const keep = 1 / (1 - rate);
  const out: number[][][] = [];
  for (let t = 0; t < samples; t++) {
    const pass: number[][] = [];
    for (const e of embeddings) {
      const logits = new Float64Array(numClasses);
      for (let c = 0; c < numClasses; c++) logits[c] = headBias[c];
      for (let d = 0; d < D; d++) {
        if (random() < rate) continue;
        const v = e[d] * keep;
        for (let c = 0; c < numClasses; c++) logits[c] += v * headWeight[c * D + d];
      }
      const max = Math.max(...logits);
      const exp = Array.from(logits, (l) => Math.exp(l - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      pass.push(exp.map((x) => x / sum));
    }
    out.push(pass);
  }
  return out;
}

/**
 * Labelled training and validation cases of a task with no embedding under a version yet: mixed's
 * validation influence needs them (the learning loop scores them with the unlabelled cases).
 */
export function influenceCasesToScore(ws: Workspace, taskId: number, versionId: number): number[] {
  const targets = labelTargets(ws, ws.tasks.get(taskId));
  const labelled = [...ws.splits.caseIds(taskId, 'train'), ...ws.splits.caseIds(taskId, 'val')].filter((id) => targets.has(id));
  const scored = new Set(ws.predictions.list(versionId).filter((p) => p.embeddingSha256).map((p) => p.caseId));
  return labelled.filter((id) => !scored.has(id));
}

interface VersionLike {
  id: number;
  config: unknown;
  metrics: unknown;
}

/**
 * Expected fall of the validation loss for each pool case (core/active/influence.ts), from the version's
 * head and the stored embeddings of its training and validation cases. Undefined, with the reason, when
 * the task is not single-label or those embeddings or a validation split are missing.
 */
export function poolInfluence(ws: Workspace, taskId: number, version: VersionLike, pool: Float32Array[]): { scores?: Float64Array; note: string } {
  const task = ws.tasks.get(taskId);
  if (task.kind !== 'multiclass' && task.kind !== 'ordinal') return { note: `no validation influence for a ${task.kind} task` };
  const targets = labelTargets(ws, task);
  const gather = (split: 'train' | 'val') => {
    const ids = ws.splits.caseIds(taskId, split).filter((id) => typeof targets.get(id) === 'number');
    const stored = ws.predictions.embeddings(version.id, ids);
    const embeddings = ids.map((id) => stored.get(id));
    return { ids, embeddings, missing: embeddings.filter((e) => !e || e.length === 0).length };
  };
  const train = gather('train');
  const val = gather('val');
  if (train.ids.length === 0 || val.ids.length === 0) return { note: `no validation influence: the task has no labelled ${train.ids.length === 0 ? 'training' : 'validation'} case yet` };
  if (train.missing + val.missing > 0) return { note: `no validation influence: ${train.missing + val.missing} labelled cases are not scored by version ${version.id} yet` };
  const weights = parseSafetensors(ws.versions.weights(version.id), `version ${version.id}`).tensors;
  const w = weights.get('head.weight');
  const b = weights.get('head.bias');
  if (!w || !b) return { note: `no validation influence: version ${version.id} has no head tensors` };
  const flat = (rows: (Float32Array | undefined)[]) => Float32Array.from(rows.flatMap((r) => [...r!]));
  const trainLabels = train.ids.map((id) => targets.get(id) as number);
  const trained = (version.config as { train?: { classWeighting?: string } } | undefined)?.train?.classWeighting;
  const weighting: ClassWeighting = (CLASS_WEIGHTINGS as readonly string[]).includes(trained ?? '') ? (trained as ClassWeighting) : TRAINING_DEFAULTS.classWeighting;
  // The probe's chosen C where the version is a probe; a gradient-trained head has no C, so scikit-learn's default 1.
  const C = (version.metrics as { probe?: { C?: number } | null } | undefined)?.probe?.C ?? 1;
  try {
    const result = validationInfluence({
      weight: w.data,
      bias: b.data,
      labelled: { features: flat(train.embeddings), labels: trainLabels },
      validation: { features: flat(val.embeddings), labels: val.ids.map((id) => targets.get(id) as number) },
      candidates: flat(pool),
      C,
      classWeights: probeClassWeights(trainLabels, b.data.length, probeWeighting(weighting)),
    });
    return { scores: result.scores, note: `validation influence from ${train.ids.length} training and ${val.ids.length} validation cases (C = ${C})` };
  } catch (err) {
    // The influence share is a refinement: inputs it cannot use (e.g. embeddings of another width) leave margin to do it.
    if (err instanceof AcquisitionInputError) return { note: `no validation influence: ${err.message.replace(/^influence: /, '')}` };
    throw err;
  }
}

export function executeSuggest(ws: Workspace, request: SuggestRequest): SuggestOutcome {
  if (!(STRATEGY_NAMES as readonly string[]).includes(request.strategy)) {
    throw Object.assign(new Error(`unknown strategy "${request.strategy}"; choose one of ${STRATEGY_NAMES.join(', ')}`), { code: 'invalid-request' });
  }
  // Cases held out for testing are never suggested (they are labelled for the final word on a version, not to train it).
  const heldOut = new Set(ws.splits.caseIds(request.taskId, 'test'));
  const unlabeled = ws.worklistIds('unlabeled', request.taskId).filter((id) => !heldOut.has(id));
  const version = request.versionId !== undefined ? ws.versions.get(request.versionId) : ws.versions.active(request.taskId);
  const task = ws.tasks.get(request.taskId);
  // Auto before any trained version: no embeddings exist yet, so the first batch is random.
  const coldAuto = request.strategy === 'auto' && !version;
  // Mixed before any trained version is all random (it says so in each reason).
  const coldMixed = request.strategy === 'mixed' && !version;
  const needsModel = request.strategy !== 'random' && !coldAuto && !coldMixed;
  if (needsModel && !version) throw Object.assign(new Error('this strategy needs a trained version: train one first, or use random'), { code: 'not-found' });

  let pool = unlabeled;
  let probabilities: number[][] | undefined;
  let embeddings: Float32Array[] | undefined;
  let labeledEmbeddings: Float32Array[] | undefined;
  let unpredicted = 0;
  let labeledCount: number | undefined;
  if (needsModel && version) {
    const byCase = new Map(ws.predictions.list(version.id).map((p) => [p.caseId, p]));
    pool = unlabeled.filter((id) => byCase.has(id));
    unpredicted = unlabeled.length - pool.length;
    probabilities = pool.map((id) => byCase.get(id)!.probabilities);
    if (['kcenter', 'hybrid', 'bald', 'typiclust', 'auto', 'mixed'].includes(request.strategy)) {
      const labeled = ws.worklistIds('labeled', request.taskId);
      const stored = ws.predictions.embeddings(version.id, [...pool, ...labeled]);
      embeddings = pool.map((id) => stored.get(id) ?? new Float32Array(0));
      labeledCount = labeled.length;
      labeledEmbeddings = labeled.map((id) => stored.get(id)).filter((e): e is Float32Array => e !== undefined && e.length > 0);
    }
  }
  if (pool.length === 0) return { strategy: request.strategy, versionId: version?.id, suggested: [], pool: 0, unpredicted };

  let mcSamples: number[][][] | undefined;
  if (request.strategy === 'bald' && version && embeddings) {
    const weights = parseSafetensors(ws.versions.weights(version.id), `version ${version.id}`).tensors;
    const w = weights.get('head.weight');
    const b = weights.get('head.bias');
    if (!w || !b) throw new Error(`version ${version.id} has no head tensors`);
    mcSamples = headDropoutSamples(embeddings, w.data, b.data, b.data.length, request.mcSamples ?? 20, request.dropout ?? 0.2, request.seed ?? 0);
  }
  let influence: { scores?: Float64Array; note: string } | undefined;
  if (request.strategy === 'mixed' && version && embeddings?.every((e) => e.length > 0)) influence = poolInfluence(ws, request.taskId, version, embeddings);
  else if (request.strategy === 'mixed' && version) influence = { note: 'no validation influence: some unlabelled cases have no stored embedding' };
  const picks = suggest(
    coldAuto ? 'random' : request.strategy,
    {
      numCases: pool.length,
      probabilities,
      influence: influence?.scores,
      mcSamples,
      // Mixed reads embeddings only through its influence scores.
      embeddings: embeddings?.length && request.strategy !== 'mixed' ? embeddings : undefined,
      labeledEmbeddings: labeledEmbeddings?.length ? labeledEmbeddings : undefined,
    },
    request.count,
    { seed: request.seed ?? 0, labeledCount, classNames: task.classes.map((c) => c.name), ordinal: task.kind === 'ordinal' },
  );
  const suggested = picks.map((p) => ({ caseId: pool[p.index], rank: p.rank, score: p.score, reason: coldAuto ? `auto, no trained version yet: ${p.reason}` : p.reason }));
  ws.suggestions.replace({
    taskId: request.taskId,
    strategy: request.strategy,
    versionId: version?.id,
    items: suggested.map((s) => ({ caseId: s.caseId, score: s.score, reason: s.reason, rank: s.rank })),
  });
  return { strategy: request.strategy, versionId: version?.id, suggested, pool: pool.length, unpredicted, influence: influence?.note };
}
