/**
 * One training run in a workspace, start to finish: labelled cases of the task → cached inputs →
 * (warm-started) adapter → trainAdapter → a new adapter version with its metrics on the fixed
 * validation cases → promoted only if it beats the active version on those same cases.
 * The run row records every phase; a cancelled or failed run leaves no version behind.
 */
import { APP_VERSION } from '../app-info';
import { HALF_NORMALIZATION, IMAGENET_NORMALIZATION, type Normalization } from '../imaging/model-input';
import { activeBackend, initBackend } from '../model/backend';
import { parseAdapterConfig, type AdapterConfig } from '../model/adapter-config';
import { AdaptedViT } from '../model/model';
import { serializeSafetensors } from '../model/safetensors';
import type { AdapterVersion, LabelTask, Workspace } from '../store';
import { AUGMENTATION_PRESETS } from './augment';
import { TrainingCancelled } from './cancellation';
import { evaluateSamples, predictSamples } from './evaluation';
import { chooseTrial, describeGrid, fitsBudget, gridSettings, type GridReport, type GridSetting, type GridTrial } from './grid';
import { ensureInputs, InputCache, type Preprocessing } from './input-cache';
import { bootstrapMetrics, majorityAccuracy, pairedSelectionDifference, type Interval, type MetricLabels } from './bootstrap';
import { resolveAdapterChoice, type TrainJob } from './job';
import type { MetricsSummary } from './metrics';
import { loadVersionModel, loadWorkspaceBackbone, versionManifest, type VersionManifest } from './model-loader';
import { labelTargets, softReadTargets } from './label-targets';
import { decidePromotion, versionWarnings } from './promotion';
import { workspacePrefixStore } from './prefix-store';
import { startReplicasFor, type ReplicaPool } from './replica-pool';
import { trainAdapter, type TrainResult } from './trainer';
import type { Sample, TrainTaskKind } from './types';

export type RunPhase = 'preparing' | 'training' | 'validating' | 'saving' | 'comparing' | 'finished';

/** Progress of a run as the UI and CLI see it. */
export interface RunEvent {
  runId: number;
  taskId: number;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  phase: RunPhase;
  /** Overall progress 0..1. */
  fraction: number;
  epoch?: number;
  epochs?: number;
  step?: number;
  totalSteps?: number;
  loss?: number;
  lr?: number;
  metric?: { name: string; value: number | null };
  etaSeconds?: number;
  message?: string;
  versionId?: number;
  promoted?: boolean;
  error?: string;
}

export interface RunOutcome {
  status: 'done' | 'failed' | 'cancelled';
  versionId?: number;
  promoted?: boolean;
  /** Why the version was (not) promoted: the sentence the run log and the versions table show. */
  reason?: string;
  /** "trained 12 epochs, stopped early (no improvement for 5 epochs); kept epoch 7". */
  epochs?: string;
  /** A grid run: what it tried and kept (grid.ts describeGrid). */
  grid?: string;
  /** What the version carries wherever it is shown (small validation set, below the majority class, …). */
  warnings?: string[];
  metrics?: MetricsSummary;
  error?: string;
}

/** Normalisation of the backbone's pretraining; ImageNet statistics unless the backbone config says otherwise. */
export function backboneNormalization(config: unknown): Normalization {
  const c = config as { normalization?: string | Normalization } | undefined;
  if (c?.normalization === 'half' || c?.normalization === 'inception') return HALF_NORMALIZATION;
  if (c?.normalization && typeof c.normalization === 'object') return c.normalization;
  return IMAGENET_NORMALIZATION;
}

function trainKind(task: LabelTask): TrainTaskKind {
  if (task.kind === 'segmentation') throw Object.assign(new Error(`task "${task.name}" is a segmentation task; adapters train classification heads only`), { code: 'unsupported' });
  return task.kind;
}


function adapterConfigFor(job: TrainJob, task: LabelTask, depth: number): AdapterConfig {
  return parseAdapterConfig({ ...resolveAdapterChoice(job.adapter, depth), numClasses: task.classes.length, task: trainKind(task) }, 'training job');
}

/** Warm start is possible when the chosen version has the same adapter shape on the same backbone. */
function warmStartVersion(ws: Workspace, job: TrainJob, adapter: AdapterConfig, backboneSha: string): AdapterVersion | undefined {
  if (job.warmStart === 'none') return undefined;
  const v = job.warmStart === 'active' ? ws.versions.active(job.taskId) : ws.versions.get(job.warmStart);
  if (!v) return undefined;
  let manifest: VersionManifest;
  try {
    manifest = versionManifest(v);
  } catch {
    return undefined;
  }
  const same = JSON.stringify({ ...manifest.adapter }) === JSON.stringify({ ...adapter }) && manifest.backbone.sha256 === backboneSha;
  if (!same && job.warmStart !== 'active') {
    throw Object.assign(new Error(`version ${v.id} cannot warm-start this job: its adapter or backbone differs`), { code: 'invalid-request' });
  }
  return same ? v : undefined;
}

/**
 * A run's event sink: every event goes to the listener; the run log keeps phase changes and messages, and at
 * most one plain training-step entry per `stepEveryMs` (Infinity: none).
 */
export function runEventEmitter(ws: Workspace, runId: number, taskId: number, onEvent: ((e: RunEvent) => void) | undefined, stepEveryMs: number) {
  let lastLogged = 0;
  return (e: Omit<RunEvent, 'runId' | 'taskId' | 'status'> & { status?: RunEvent['status'] }): void => {
    const event: RunEvent = { runId, taskId, status: 'running', ...e };
    onEvent?.(event);
    const now = Date.now();
    if (event.status === 'running' && (event.phase !== 'training' || event.message || now - lastLogged > stepEveryMs)) {
      lastLogged = now;
      const { runId: _r, taskId: _t, status: _s, ...entry } = event;
      ws.runs.progress(runId, entry);
    }
  };
}

export async function executeTrainingRun(
  ws: Workspace,
  runId: number,
  job: TrainJob,
  options: { signal?: AbortSignal; onEvent?: (e: RunEvent) => void } = {},
): Promise<RunOutcome> {
  const { signal } = options;
  const backend = activeBackend() ?? (await initBackend());
  ws.runs.start(runId, backend.name);
  const emit = runEventEmitter(ws, runId, job.taskId, options.onEvent, 5000);
  let model: AdaptedViT | null = null;
  /** A grid setting's model while it trains (disposed if the run stops then). */
  let training: AdaptedViT | null = null;
  let replicas: ReplicaPool | null = null;
  try {
    const task = ws.tasks.get(job.taskId);
    const kind = trainKind(task);
    emit({ phase: 'preparing', fraction: 0, message: `backend ${backend.name}; loading backbone` });
    const backbone = await loadWorkspaceBackbone(ws, job.backboneId);
    const adapter = adapterConfigFor(job, task, backbone.model.config.depth);
    const size = backbone.model.config.imageSize;
    const normalization = backboneNormalization(ws.versions.backbone(job.backboneId).config);
    const preprocessing: Preprocessing = { size, aspect: job.aspect, fundusFov: job.fundusFov, intensity: job.intensity };

    const targets = labelTargets(ws, task);
    // 'soft' (several readers): training cases once per read, disagreements included; validation and test keep hard labels.
    const soft = softReadTargets(ws, task);
    const cases = ws.cases.all([...new Set([...targets.keys(), ...soft.keys()])]);
    const cache = new InputCache(ws.dir, preprocessing);
    const ensured = await ensureInputs(cache, cases, {
      signal,
      onProgress: (done, total) => emit({ phase: 'preparing', fraction: 0.1 * (done / total), message: `preparing images ${done}/${total}` }),
    });
    const toSamples = (id: number, split: 'train' | 'val' | 'test'): Sample[] => {
      const input = ensured.inputs.get(id);
      const labels = split === 'train' && soft.has(id) ? soft.get(id)! : targets.has(id) ? [targets.get(id)!] : [];
      return input ? labels.map((label) => ({ input, label })) : [];
    };
    // The task's own splits (assigned when each case was first labelled); test cases are never trained on.
    const splits = ws.splits.forTask(task.id);
    const inSplit = (split: 'train' | 'val' | 'test') => cases.filter((c) => (splits.get(c.id)?.split ?? c.split) === split).flatMap((c) => toSamples(c.id, split));
    const train = inSplit('train');
    const val = inSplit('val');
    const test = inSplit('test');
    if (train.length === 0) throw Object.assign(new Error('no labelled cases in the training split yet'), { code: 'invalid-request' });

    const parent = warmStartVersion(ws, job, adapter, backbone.sha256);
    const freshModel = () => (parent ? loadVersionModel(ws, parent, backbone) : AdaptedViT.initialise(backbone.model, adapter, job.seed));
    const probe = adapter.method === 'linear' && job.linearSolver === 'probe' && kind !== 'multilabel';
    const own: GridSetting = { lr: job.lr, classWeighting: job.classWeighting };
    // Settings are compared on the validation cases, so without any there is nothing to choose by.
    const settings = job.grid && val.length > 0 ? gridSettings(own, { probe }) : [own];
    if (job.grid && val.length === 0) emit({ phase: 'training', fraction: 0.1, message: 'grid not tried: no validation cases to compare settings on' });
    const trials: GridTrial[] = [];
    let result: TrainResult | undefined;
    let kept: GridSetting = own;
    let skipped: GridSetting[] = [];
    const gridStarted = performance.now();
    for (const [i, setting] of settings.entries()) {
      if (!fitsBudget(trials, (performance.now() - gridStarted) / 1000, job.gridBudgetSeconds)) {
        skipped = settings.slice(i);
        break;
      }
      const from = 0.1 + (0.8 * i) / settings.length;
      const span = 0.8 / settings.length;
      const candidate = freshModel();
      training = candidate;
      const label = settings.length > 1 ? `grid setting ${i + 1}/${settings.length} (lr ${setting.lr.toExponential(1)}, class weighting ${setting.classWeighting}): ` : '';
      emit({
        phase: 'training',
        fraction: from,
        message: label + `${train.length} training / ${val.length} validation${test.length ? ` / ${test.length} held-out test` : ''} cases (${ensured.decoded} decoded, ${ensured.fromCache} from cache); ${parent ? `warm start from version ${parent.id}` : 'fresh adapter'}; ${candidate.trainableParameterCount()} trainable parameters` +
          (ensured.failures.length ? `; ${ensured.failures.length} cases could not be read and were left out` : ''),
      });
      const started = await startReplicasFor(candidate, { task: kind, numClasses: task.classes.length, images: train.length, backend: activeBackend()?.name });
      replicas = started.pool;
      emit({ phase: 'training', fraction: from, message: `computing on ${started.message} (${activeBackend()?.name ?? 'unknown'} backend)` });
      const trial = await trainAdapter(
        candidate,
        train,
        val,
        {
          epochs: job.epochs,
          batchSize: job.batchSize,
          microBatchSize: job.microBatchSize,
          lr: setting.lr,
          minLr: setting.lr / 100,
          warmupFraction: 0.1,
          optimizer: job.optimizer,
          weightDecay: job.weightDecay,
          patience: job.patience,
          minEpochs: job.minEpochs,
          linearSolver: job.linearSolver,
          classWeighting: setting.classWeighting,
          augmentation: job.augmentation === 'none' ? null : AUGMENTATION_PRESETS[job.augmentation],
          seed: job.seed,
          prefixCache: job.prefixCache,
        },
        {
          task: kind,
          numClasses: task.classes.length,
          size,
          normalization,
          signal,
          replicas,
          // Warm runs read the frozen prefix of the images they saw before; a new backbone or preprocessing is another key.
          prefixStore: workspacePrefixStore(ws.dir, candidate, backbone.sha256, preprocessing, normalization),
          onProgress: (p) => {
            if (p.phase === 'caching') {
              // Before epoch 1 the frozen prefix runs once per image. The run log keeps the decision and
              // the build time; per-batch counts go to listeners only.
              const event = { phase: 'preparing' as const, fraction: from, message: label + p.message };
              if (p.totalSteps === 0 || p.step === p.totalSteps) emit(event);
              else options.onEvent?.({ runId, taskId: job.taskId, status: 'running', ...event });
              return;
            }
            emit({
              phase: p.phase,
              fraction: from + span * (p.step / p.totalSteps),
              epoch: p.epoch,
              epochs: p.epochs,
              step: p.step,
              totalSteps: p.totalSteps,
              loss: p.loss,
              lr: p.lr,
              etaSeconds: p.etaSeconds,
              metric: p.metrics ? { name: p.metrics.selection.name, value: finiteOrNull(p.metrics.selection.value) } : undefined,
              message: p.message ? label + p.message : undefined,
            });
          },
        },
      );
      await replicas?.close();
      replicas = null;
      trials.push({ ...setting, selection: finiteOrNull(trial.bestMetrics?.selection.value ?? NaN), bestEpoch: trial.bestEpoch, epochsRun: trial.history.length, seconds: trial.seconds });
      if (chooseTrial(trials) === trials.length - 1) {
        model?.dispose();
        model = candidate;
        result = trial;
        kept = setting;
      } else {
        candidate.dispose();
      }
      training = null;
    }
    if (!model || !result) throw new Error('no setting was trained');
    const grid: GridReport | undefined =
      settings.length > 1
        ? { metric: result.bestMetrics?.selection.name ?? 'loss', trials, skipped, chosen: chooseTrial(trials), budgetSeconds: job.gridBudgetSeconds, seconds: (performance.now() - gridStarted) / 1000 }
        : undefined;
    if (grid) emit({ phase: 'training', fraction: 0.9, message: describeGrid(grid) });

    // Score the kept epoch and the active version on exactly the same validation cases, before anything is written.
    emit({ phase: 'comparing', fraction: 0.92 });
    const valLabels: MetricLabels = kind === 'multilabel' ? val.map((s) => s.label as number[]) : val.map((s) => s.label as number);
    const scoreVal = async (m: AdaptedViT) => (await predictSamples(m, val.map((s) => s.input), { task: kind, size, normalization, signal })).probabilities;
    const candidateProbs = val.length > 0 ? await scoreVal(model) : null;
    const active = ws.versions.active(job.taskId);
    let activeMetrics: MetricsSummary | undefined;
    let difference: Interval | undefined;
    if (active && candidateProbs) {
      try {
        const activeModel = loadVersionModel(ws, active, backbone);
        try {
          const activeProbs = await scoreVal(activeModel);
          activeMetrics = evaluateSamples(kind, activeProbs, val, task.classes.length);
          difference = pairedSelectionDifference(kind, candidateProbs, activeProbs, valLabels, task.classes.length);
        } finally {
          activeModel.dispose();
        }
      } catch (err) {
        if (err instanceof TrainingCancelled) throw err;
        // A version on another backbone cannot be re-scored here; its stored metric is used below.
      }
    }
    const intervals = candidateProbs ? bootstrapMetrics(kind, candidateProbs, valLabels, task.classes.length) : {};
    const selectionName = result.bestMetrics?.selection.name ?? (kind === 'ordinal' ? 'kappaQuadratic' : kind === 'multilabel' ? 'mAP' : 'macroAuc');
    const newValue = result.bestMetrics?.selection.value ?? NaN;
    const activeValue = activeMetrics?.selection.value ?? storedSelection(active);
    const singleLabel = kind !== 'multilabel';
    const majority = singleLabel && val.length > 0 ? majorityAccuracy(valLabels as number[], task.classes.length) : undefined;
    const accuracy = result.bestMetrics?.kind !== 'multilabel' ? result.bestMetrics?.accuracy : undefined;
    const snapshot = ws.versions.snapshot(job.taskId);
    const decision = decidePromotion({
      policy: job.promote,
      metric: selectionName,
      candidate: intervals[selectionName] ?? { value: newValue, lo: NaN, hi: NaN, n: val.length, level: 0.95 },
      candidateLabels: snapshot.labelCount,
      accuracy,
      majorityAccuracy: majority,
      active: active
        ? { versionId: active.id, labels: (active.labelSnapshot as { labelCount?: number }).labelCount ?? 0, selection: activeValue, difference }
        : undefined,
    });
    const valClasses = new Set(singleLabel ? (valLabels as number[]) : []);
    const warnings = versionWarnings({
      valCount: val.length,
      missingClasses: singleLabel ? task.classes.filter((_, i) => !valClasses.has(i)).map((c) => c.name) : [],
      accuracy,
      majorityAccuracy: majority,
    });
    const promote = decision.promote;
    // The held-out test split: scored once per version, never used for any choice.
    let testMetrics: { n: number; summary: MetricsSummary; intervals: Record<string, Interval> } | undefined;
    if (test.length > 0) {
      const testProbs = (await predictSamples(model, test.map((s) => s.input), { task: kind, size, normalization, signal })).probabilities;
      const testLabels: MetricLabels = kind === 'multilabel' ? test.map((s) => s.label as number[]) : test.map((s) => s.label as number);
      testMetrics = {
        n: test.length,
        summary: evaluateSamples(kind, testProbs, test, task.classes.length),
        intervals: bootstrapMetrics(kind, testProbs, testLabels, task.classes.length, { seed: 'test-bootstrap' }),
      };
    }

    if (signal?.aborted) throw new TrainingCancelled();
    emit({ phase: 'saving', fraction: 0.96 });
    const manifest: VersionManifest = {
      adapter,
      classes: task.classes.map((c) => c.name),
      backbone: { id: job.backboneId, sha256: backbone.sha256, config: backbone.model.config },
      preprocessing,
      normalization: { mean: [...normalization.mean], std: [...normalization.std] },
      // The settings the kept model was trained with (a grid may have chosen other than the job's).
      train: { ...job, lr: kept.lr, classWeighting: kept.classWeighting },
      appVersion: APP_VERSION,
    };
    const weights = serializeSafetensors(result.bestTensors, { format: 'pt', method: adapter.method });
    const version = ws.versions.add({
      taskId: job.taskId,
      backboneId: job.backboneId,
      parentId: parent?.id,
      method: adapter.method,
      config: manifest as unknown as Record<string, unknown>,
      weights,
      metrics: {
        ...(result.bestMetrics ?? {}),
        trainCount: train.length,
        valCount: val.length,
        testCount: test.length,
        test: testMetrics ?? null,
        bestEpoch: result.bestEpoch,
        stoppedEarly: result.stoppedEarly,
        history: result.history,
        seconds: result.seconds,
        prefixCache: result.prefixCache,
        probe: result.probe ?? null,
        grid: grid ?? null,
        backend: backend.name,
        trainableParameters: model.trainableParameterCount(),
        comparedWith: active
          ? { versionId: active.id, selection: finiteOrNull(activeValue), rescored: activeMetrics !== undefined, difference: difference ?? null }
          : null,
        intervals,
        majorityAccuracy: majority ?? null,
        promotion: { promoted: promote, atChance: decision.atChance, reason: decision.reason },
        warnings,
      },
      trainRunId: runId,
      status: promote ? 'active' : 'candidate',
    });
    ws.runs.finish(runId, version.id);
    const promoted = version.status === 'active';
    emit({
      phase: 'finished',
      status: 'done',
      fraction: 1,
      versionId: version.id,
      promoted,
      metric: { name: result.bestMetrics?.selection.name ?? 'loss', value: finiteOrNull(newValue) },
      message:
        `${epochSummary(result.history.length, result.bestEpoch, result.stoppedEarly, job.patience)}; ` +
        (grid ? `${describeGrid(grid)}; ` : '') +
        `version ${version.id} ${promoted ? 'is now active' : 'is a candidate'}: ${decision.reason}${warnings.length ? `. Warnings: ${warnings.join('; ')}` : ''}`,
    });
    return {
      status: 'done',
      versionId: version.id,
      promoted,
      reason: decision.reason,
      epochs: epochSummary(result.history.length, result.bestEpoch, result.stoppedEarly, job.patience),
      grid: grid ? describeGrid(grid) : undefined,
      warnings,
      metrics: result.bestMetrics,
    };
  } catch (err) {
    const cancelled = err instanceof TrainingCancelled || (err as Error)?.name === 'AbortError' || signal?.aborted;
    const message = cancelled ? 'cancelled' : err instanceof Error ? err.message : String(err);
    if (!cancelled && !(err as { code?: string })?.code) console.error(`[medtune] training run ${runId} failed:`, err);
    if (cancelled) ws.runs.cancel(runId);
    else ws.runs.fail(runId, message);
    const status = cancelled ? 'cancelled' : 'failed';
    options.onEvent?.({ runId, taskId: job.taskId, status, phase: 'finished', fraction: 1, error: cancelled ? undefined : message });
    return { status, error: cancelled ? undefined : message };
  } finally {
    await replicas?.close();
    model?.dispose();
    if (training !== model) training?.dispose();
  }
}

/** "trained 12 of 20 epochs, stopped early (no improvement for 5 epochs); kept epoch 7". */
export function epochSummary(ran: number, bestEpoch: number, stoppedEarly: boolean, patience: number): string {
  const early = stoppedEarly ? `, stopped early (no improvement for ${patience} epochs)` : '';
  return `trained ${ran} epoch${ran === 1 ? '' : 's'}${early}; kept epoch ${bestEpoch}`;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function storedSelection(v: AdapterVersion | undefined): number {
  const s = (v?.metrics as { selection?: { value?: number | null } } | undefined)?.selection?.value;
  return typeof s === 'number' ? s : NaN;
}
