import fs from 'node:fs';
import path from 'node:path';
import { executeSuggest } from '../active/suggest-run';
import type { Handlers } from '../api/dispatch';
import { ApiFailure } from '../api/errors';
import type { RunInfoT, VersionInfoT } from '../api/training-contract';
import { adapterChoiceFromFields } from '../model/adapters/registry';
import { loadBackboneFile } from '../model/checkpoint';
import { exportVersion } from '../train/export-version';
import type { TrainJobInput } from '../train/job';
import { describeForecast, versionCurve } from '../train/version-curve';
import type { AdapterVersion, Backbone, TrainRun, Workspace } from '../store';
import type { AppSession } from './session';

type TrainingHandlers = Pick<
  Handlers,
  'backbones.list' | 'backbones.import' | 'train.start' | 'train.cancel' | 'train.runs' | 'versions.list' | 'versions.promote' | 'versions.rollback' | 'versions.forecast' | 'versions.export' | 'predict.start' | 'suggest.run' | 'loop.status'
>;

function runInfo(r: TrainRun, withLog: boolean): RunInfoT {
  const { config: _config, progress, parentVersionId: _parent, ...rest } = r;
  return { ...rest, ...(withLog ? { progress } : {}) };
}

function versionInfo(ws: Workspace, v: AdapterVersion): VersionInfoT {
  const { config: _config, weightsSha256, note: _note, ...rest } = v;
  let sizeBytes: number | undefined;
  try {
    sizeBytes = fs.statSync(ws.blobs.locate(weightsSha256)).size;
  } catch {
    sizeBytes = undefined;
  }
  return { ...rest, metrics: v.metrics, labelSnapshot: v.labelSnapshot as Record<string, unknown>, sizeBytes };
}

function backboneInfo(b: Backbone) {
  const count = (b.config as { parameterCount?: unknown }).parameterCount;
  return { ...b, parameterCount: typeof count === 'number' ? count : undefined };
}

/** Backbones, training runs, versions, prediction and suggestions, over the session's TrainingService. */
export function createTrainingHandlers(session: AppSession): TrainingHandlers {
  const ws = () => session.requireWorkspace();
  const newestBackbone = (w: Workspace) => {
    const all = w.versions.backbones();
    if (all.length === 0) throw new ApiFailure('not-found', 'No backbone yet: import a ViT .safetensors file in Settings first.');
    return all[all.length - 1].id;
  };
  return {
    'backbones.list': () => ws().versions.backbones().map(backboneInfo),
    'backbones.import': async (req) => {
      const w = ws();
      let loaded: Awaited<ReturnType<typeof loadBackboneFile>>;
      try {
        loaded = await loadBackboneFile(req.file, { imageSize: req.imageSize });
      } catch (err) {
        // Unreadable files, unknown keys, bad shapes: the message names the file and the key.
        throw new ApiFailure('invalid-request', (err as Error).message);
      }
      let parameterCount = 0;
      for (const t of loaded.weights.values()) parameterCount += t.data.length;
      const b = w.versions.addBackbone({
        name: req.name ?? path.basename(req.file).replace(/\.safetensors$/i, ''),
        arch: 'vit',
        config: { ...loaded.config, normalization: req.normalization, parameterCount },
        weights: fs.readFileSync(req.file),
      });
      session.loop.announce(w);
      return { ...backboneInfo(b), parameterCount, configSource: loaded.configSource, assumptions: loaded.assumptions };
    },
    'train.start': (req) => {
      const w = ws();
      const taskId = session.requireTask(req.taskId);
      // The method's own options (its plug-in's descriptor list) that the request sets; the job schema checks them.
      const adapter = adapterChoiceFromFields(req.method, req) as TrainJobInput['adapter'];
      const run = session.training.for(w).enqueueTraining({
        taskId,
        backboneId: req.backboneId ?? newestBackbone(w),
        adapter,
        epochs: req.epochs,
        batchSize: req.batchSize,
        microBatchSize: req.microBatchSize,
        lr: req.lr,
        augmentation: req.augmentation,
        warmStart: req.fresh ? 'none' : 'active',
        prefixCache: req.prefixCache,
        grid: req.grid,
        gridBudgetSeconds: req.gridBudgetSeconds,
      });
      return runInfo(run, false);
    },
    'train.cancel': (req) => ({ cancelled: session.training.for(ws()).cancelRun(req.runId) }),
    'train.runs': (req) => ws().runs.list(req.taskId, req.limit).map((r) => runInfo(r, req.withLog)),
    'versions.list': (req) => {
      const w = ws();
      return w.versions.list(session.requireTask(req.taskId)).map((v) => versionInfo(w, v));
    },
    // A version made active by hand is scored like a promoted run's (a round under way for another is cancelled).
    'versions.promote': (req) => {
      const v = ws().versions.promote(req.versionId);
      session.loop.activated(ws(), v.taskId, v.id);
      return versionInfo(ws(), v);
    },
    'versions.rollback': (req) => {
      const v = ws().versions.rollback(session.requireTask(req.taskId));
      session.loop.activated(ws(), v.taskId, v.id);
      return versionInfo(ws(), v);
    },
    'versions.forecast': (req) => {
      const curve = versionCurve(ws(), session.requireTask(req.taskId));
      return { ...curve, lines: describeForecast(curve) };
    },
    'versions.export': (req) => exportVersion(ws(), req.versionId, req.dir),
    'predict.start': async (req) => {
      if (ws().tasks.get(session.requireTask(req.taskId)).kind === 'segmentation') {
        throw new ApiFailure('unsupported', 'A segmentation version predicts the masks of the task’s cases at the end of its training run; train again to predict anew.');
      }
      const outcome = await session.training.for(ws()).predict({ taskId: session.requireTask(req.taskId), scope: req.scope });
      return { versionId: outcome.versionId, predicted: outcome.predicted, seconds: outcome.seconds };
    },
    'loop.status': (req) => session.loop.status(ws(), session.requireTask(req.taskId)),
    'suggest.run': (req) => executeSuggest(ws(), { taskId: session.requireTask(req.taskId), strategy: req.strategy, count: req.count }),
  };
}
