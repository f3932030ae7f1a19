/**
 * Builds the next batch of suggested cases for a task from the active version's stored predictions:
 * unlabeled, non-quarantined cases, scored by the chosen strategy, ranked and written to the
 * suggestions queue with the reason each was picked.
 */
import { parseSafetensors } from '../model/safetensors';
import type { Workspace } from '../store';
import { seededRandom } from '../util/prng';
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

export function executeSuggest(ws: Workspace, request: SuggestRequest): SuggestOutcome {
  if (!(STRATEGY_NAMES as readonly string[]).includes(request.strategy)) {
    throw Object.assign(new Error(`unknown strategy "${request.strategy}"; choose one of ${STRATEGY_NAMES.join(', ')}`), { code: 'invalid-request' });
  }
  // Cases held out for testing are never suggested (they are labelled for the final word on a version, not to train it).
  const heldOut = new Set(ws.splits.caseIds(request.taskId, 'test'));
  const unlabeled = ws.worklistIds('unlabeled', request.taskId).filter((id) => !heldOut.has(id));
  const version = request.versionId !== undefined ? ws.versions.get(request.versionId) : ws.versions.active(request.taskId);
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
    if (['kcenter', 'hybrid', 'bald', 'typiclust', 'auto'].includes(request.strategy)) {
      const embedding = (id: number) => ws.predictions.embedding(version.id, id);
      embeddings = pool.map((id) => embedding(id) ?? new Float32Array(0));
      const labeled = ws.worklistIds('labeled', request.taskId);
      labeledCount = labeled.length;
      labeledEmbeddings = labeled.map(embedding).filter((e): e is Float32Array => e !== undefined && e.length > 0);
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
  const picks = suggest(
    coldAuto ? 'random' : request.strategy,
    {
      numCases: pool.length,
      probabilities,
      mcSamples,
      embeddings: embeddings?.length ? embeddings : undefined,
      labeledEmbeddings: labeledEmbeddings?.length ? labeledEmbeddings : undefined,
    },
    request.count,
    { seed: request.seed ?? 0, labeledCount },
  );
  const suggested = picks.map((p) => ({ caseId: pool[p.index], rank: p.rank, score: p.score, reason: coldAuto ? `auto, no trained version yet: ${p.reason}` : p.reason }));
  ws.suggestions.replace({
    taskId: request.taskId,
    strategy: request.strategy,
    versionId: version?.id,
    items: suggested.map((s) => ({ caseId: s.caseId, score: s.score, reason: s.reason })),
  });
  return { strategy: request.strategy, versionId: version?.id, suggested, pool: pool.length, unpredicted };
}
