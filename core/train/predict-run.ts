/**
 * The active version predicts cases (by default every non-quarantined case, so the worklist can
 * also show where the model disagrees with a label) and stores probabilities, confidence,
 * uncertainty (entropy) and the pooled embedding for diversity sampling.
 */
import { activeBackend } from '../model/backend';
import type { Workspace } from '../store';
import { TrainingCancelled } from './cancellation';
import { predictSamples } from './evaluation';
import { ensureInputs, InputCache } from './input-cache';
import { loadVersionModel, loadWorkspaceBackbone, versionManifest } from './model-loader';
import { startReplicasFor, type ReplicaPool } from './replica-pool';

export interface PredictRequest {
  taskId: number;
  /** Default: the task's active version. */
  versionId?: number;
  /** Which cases: all (default) or only unlabeled ones. */
  scope?: 'all' | 'unlabeled';
  /** Exactly these cases instead of a scope (the learning loop's bounded round). */
  caseIds?: number[];
  batchSize?: number;
}

export interface PredictProgress {
  phase: 'preparing' | 'predicting' | 'saving';
  done: number;
  total: number;
}

export interface PredictOutcome {
  versionId: number;
  predicted: number;
  failures: { caseId: number; reason: string }[];
  seconds: number;
}

function entropy(p: Float32Array): number {
  let h = 0;
  for (const v of p) if (v > 0) h -= v * Math.log(v);
  return h;
}

export async function executePrediction(
  ws: Workspace,
  request: PredictRequest,
  options: { signal?: AbortSignal; onProgress?: (p: PredictProgress) => void } = {},
): Promise<PredictOutcome> {
  const started = performance.now();
  const version = request.versionId !== undefined ? ws.versions.get(request.versionId) : ws.versions.active(request.taskId);
  if (!version) throw Object.assign(new Error('this task has no trained version yet: train one first'), { code: 'not-found' });
  if (version.taskId !== request.taskId) throw Object.assign(new Error(`version ${version.id} belongs to another task`), { code: 'invalid-request' });
  const manifest = versionManifest(version);
  const backbone = await loadWorkspaceBackbone(ws, manifest.backbone.id);
  const model = loadVersionModel(ws, version, backbone);
  let replicas: ReplicaPool | null = null;
  try {
    const ids = request.caseIds ?? ws.worklistIds(request.scope ?? 'all', request.taskId);
    const cases = ws.cases.all(ids);
    const cache = new InputCache(ws.dir, manifest.preprocessing);
    const ensured = await ensureInputs(cache, cases, {
      signal: options.signal,
      onProgress: (done, total) => options.onProgress?.({ phase: 'preparing', done, total }),
    });
    const ready = cases.filter((c) => ensured.inputs.has(c.id));
    const normalization = { mean: manifest.normalization.mean, std: manifest.normalization.std } as never;
    const kind = manifest.adapter.task;
    const batchSize = request.batchSize ?? 16;
    // Worth starting threads only when every replica gets at least a batch.
    replicas = (await startReplicasFor(model, { task: kind, numClasses: model.adapter.numClasses, images: Math.floor(ready.length / batchSize), backend: activeBackend()?.name })).pool;
    const pred = await predictSamples(model, ready.map((c) => ensured.inputs.get(c.id)!), {
      replicas,
      task: kind,
      size: manifest.preprocessing.size,
      normalization,
      signal: options.signal,
      batchSize,
      onProgress: (done, total) => options.onProgress?.({ phase: 'predicting', done, total }),
    });
    if (options.signal?.aborted) throw new TrainingCancelled();
    options.onProgress?.({ phase: 'saving', done: 0, total: ready.length });
    const C = model.adapter.numClasses;
    const D = model.backbone.config.embedDim;
    ws.predictions.put(
      version.id,
      ready.map((c, i) => {
        const probs = pred.probabilities.subarray(i * C, (i + 1) * C);
        return {
          caseId: c.id,
          probabilities: Array.from(probs),
          uncertainty: kind === 'multilabel' ? undefined : entropy(probs),
          embedding: pred.features.slice(i * D, (i + 1) * D),
        };
      }),
    );
    return { versionId: version.id, predicted: ready.length, failures: ensured.failures, seconds: (performance.now() - started) / 1000 };
  } finally {
    await replicas?.close();
    model.dispose();
  }
}
