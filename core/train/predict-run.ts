/**
 * The active version predicts cases (by default every non-quarantined case, so the worklist can
 * also show where the model disagrees with a label) and stores probabilities, confidence,
 * uncertainty (entropy) and the pooled embedding for diversity sampling.
 */
import { activeBackend } from '../model/backend';
import type { Workspace } from '../store';
import { TrainingCancelled } from './cancellation';
import { predictSamples, type PredictOptions, type Predictions } from './evaluation';
import type { Normalization } from '../imaging/model-input';
import type { AdaptedViT } from '../model/model';
import { PrefixCache } from './prefix-cache';
import { workspacePrefixStore, type PrefixStore } from './prefix-store';
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
  /** Cases whose frozen-prefix tokens were read from the workspace's store (adapters starting at block k > 0). */
  prefixFromDisk?: number;
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
    const normalization = { mean: manifest.normalization.mean, std: manifest.normalization.std } as unknown as Normalization;
    const kind = manifest.adapter.task;
    const batchSize = request.batchSize ?? 16;
    // Worth starting threads only when every replica gets at least a batch.
    replicas = (await startReplicasFor(model, { task: kind, numClasses: model.adapter.numClasses, images: Math.floor(ready.length / batchSize), backend: activeBackend()?.name })).pool;
    const inputs = ready.map((c) => ensured.inputs.get(c.id)!);
    const store = workspacePrefixStore(ws.dir, model, manifest.backbone.sha256, manifest.preprocessing, normalization);
    const pred = await predictFromPrefix(model, inputs, store, {
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
    return { versionId: version.id, predicted: ready.length, failures: ensured.failures, seconds: (performance.now() - started) / 1000, ...(store ? { prefixFromDisk: pred.fromDisk } : {}) };
  } finally {
    await replicas?.close();
    model.dispose();
  }
}

/** Images whose prefix tokens are held in memory at once when scoring from the store (ViT-S: ~75 MB per 256). */
const PREFIX_CHUNK = 256;

/**
 * Scores inputs from their frozen-prefix tokens when the adapter starts at block k > 0: tokens stored
 * by an earlier run or round (same backbone, start layer and preprocessing) are read from disk, the
 * others computed once and written, and only blocks k..L−1 run per version. The tokens are float16-
 * rounded either way, as in training from the store, so a case scores the same whether they were
 * read or computed. Without a store (k = 0) this is predictSamples.
 */
export async function predictFromPrefix(model: AdaptedViT, inputs: Uint8Array[], store: PrefixStore | null, options: PredictOptions): Promise<Predictions & { fromDisk: number }> {
  if (!store) return { ...(await predictSamples(model, inputs, options)), fromDisk: 0 };
  const C = model.adapter.numClasses;
  const D = model.backbone.config.embedDim;
  const probabilities = new Float32Array(inputs.length * C);
  const features = new Float32Array(inputs.length * D);
  let fromDisk = 0;
  for (let start = 0; start < inputs.length; start += PREFIX_CHUNK) {
    const chunk = inputs.slice(start, start + PREFIX_CHUNK);
    const prefixCache = await PrefixCache.build(model, chunk, {
      size: options.size,
      normalization: options.normalization,
      batchSize: options.batchSize,
      replicas: options.replicas,
      store,
      checkCancelled: () => {
        if (options.signal?.aborted) throw new TrainingCancelled();
      },
    });
    fromDisk += prefixCache.fromDisk;
    try {
      const part = await predictSamples(model, chunk, {
        ...options,
        prefixCache,
        onProgress: (done) => options.onProgress?.(start + done, inputs.length),
      });
      probabilities.set(part.probabilities, start * C);
      features.set(part.features, start * D);
    } finally {
      prefixCache.clear();
    }
  }
  return { probabilities, features, fromDisk };
}
