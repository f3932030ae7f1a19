/**
 * A training run of a segmentation task (issue 16), in the same queue, run rows and versions as the
 * classification runs: the task's current masks → tiles at the backbone's input size → an adapter (DVPT,
 * EPT, LoRA or linear = frozen tokens) with the SETR-PUP-like head, Dice + CE → a version scored by mean
 * foreground Dice per validation image with a bootstrap CI → promoted by the same rules (paired on the same
 * images) → the promoted version predicts the task's cases (predicted masks) and ranks the unlabelled ones
 * by mean pixel entropy over the predicted foreground and its border (the suggestions).
 */
import * as tf from '@tensorflow/tfjs-core';
import { APP_VERSION } from '../app-info';
import { decodeImageFile } from '../imaging/decode-file';
import { frameToRgb8, type Normalization } from '../imaging/model-input';
import { activeBackend, initBackend } from '../model/backend';
import { parseAdapterConfig } from '../model/adapter-config';
import { parseSafetensors, serializeSafetensors, type NamedTensorData } from '../model/safetensors';
import { DEFAULT_SEGMENTATION_HEAD, SegmentationModel, type SegmentationHeadConfig } from '../model/segmentation-head';
import { argmaxLabels, foregroundEntropy, meanForegroundDice, predictImage, sampleTiles, tileBatch, type MaskedImage } from '../segmentation/inference';
import { bootstrapMeanCi, classCounts, dice as diceOf, iou as iouOf, type ClassCounts } from '../segmentation/metrics';
import type { AdapterVersion, LabelTask, Workspace } from '../store';
import { mulberry32 } from '../util/prng';
import { TrainingCancelled, throwIfAborted } from './cancellation';
import { EarlyStopping } from './early-stopping';
import { resolveAdapterChoice, type TrainJob } from './job';
import { minimumEpochs } from './trainer';
import { loadWorkspaceBackbone, type LoadedWorkspaceBackbone } from './model-loader';
import { backboneNormalization, epochSummary, runEventEmitter, type RunEvent, type RunOutcome } from './training-run';

/** Training tiles per training image and epoch. */
const TILES_PER_IMAGE = 8;
/** The promoted version predicts at most this many cases of the task after its run. */
const PREDICT_LIMIT = 500;

interface SegmentationManifest {
  kind: 'segmentation';
  adapter: ReturnType<typeof parseAdapterConfig>;
  head: SegmentationHeadConfig;
  classes: string[];
  backbone: { id: number; sha256: string; config: unknown };
  tile: number;
  normalization: Normalization;
  train: Record<string, unknown>;
  appVersion: string;
}

interface CaseImage extends MaskedImage {
  caseId: number;
  frame: number;
}

async function caseRgb(ws: Workspace, caseId: number, frame: number, intensity: TrainJob['intensity']): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const detail = ws.cases.get(caseId);
  return frameToRgb8(await decodeImageFile(detail.blobPath), frame, intensity);
}

/** The model of a segmentation version, or undefined when it is not one or was trained on another backbone. */
export function loadSegmentationVersion(ws: Workspace, version: AdapterVersion, backbone: LoadedWorkspaceBackbone): { model: SegmentationModel; manifest: SegmentationManifest } | undefined {
  const manifest = version.config as unknown as SegmentationManifest;
  if (manifest?.kind !== 'segmentation' || manifest.backbone?.sha256 !== backbone.sha256) return undefined;
  const adapter = parseAdapterConfig(manifest.adapter, `version ${version.id}`);
  const contents = parseSafetensors(ws.versions.weights(version.id), `version ${version.id} weights`);
  const tensors = new Map<string, NamedTensorData>([...contents.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  return { model: new SegmentationModel(backbone.model, adapter, manifest.head, 0, tensors), manifest };
}

/**
 * The version a segmentation job starts from (`warmStart`: 'active', a version id, or 'none'), as classification
 * runs do: its tensors when it is a segmentation version with the same adapter and head on the same backbone.
 * undefined = no version to start from; null = the active version does not fit (the run starts fresh and says so);
 * a named version that does not fit is refused.
 */
function warmStartSegmentation(
  ws: Workspace,
  job: TrainJob,
  adapter: ReturnType<typeof parseAdapterConfig>,
  head: SegmentationHeadConfig,
  backbone: LoadedWorkspaceBackbone,
): { version: AdapterVersion; tensors: Map<string, NamedTensorData> } | null | undefined {
  if (job.warmStart === 'none') return undefined;
  const version = job.warmStart === 'active' ? ws.versions.active(job.taskId) : ws.versions.get(job.warmStart);
  if (!version) return undefined;
  const manifest = version.config as unknown as Partial<SegmentationManifest>;
  const same =
    manifest?.kind === 'segmentation' &&
    manifest.backbone?.sha256 === backbone.sha256 &&
    JSON.stringify(manifest.adapter) === JSON.stringify(adapter) &&
    JSON.stringify(manifest.head) === JSON.stringify(head);
  if (!same) {
    if (job.warmStart !== 'active') throw Object.assign(new Error(`version ${version.id} cannot warm-start this job: its adapter, head or backbone differs`), { code: 'invalid-request' });
    return null;
  }
  const contents = parseSafetensors(ws.versions.weights(version.id), `version ${version.id} weights`);
  return { version, tensors: new Map([...contents.tensors].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }])) };
}

export async function executeSegmentationRun(
  ws: Workspace,
  runId: number,
  job: TrainJob,
  options: { signal?: AbortSignal; onEvent?: (e: RunEvent) => void } = {},
): Promise<RunOutcome> {
  const { signal } = options;
  const backend = activeBackend() ?? (await initBackend());
  ws.runs.start(runId, backend.name);
  // The run log keeps phase changes and messages (each epoch has one), no plain step entries.
  const emit = runEventEmitter(ws, runId, job.taskId, options.onEvent, Infinity);
  let model: SegmentationModel | null = null;
  const started = Date.now();
  try {
    const task = ws.tasks.get(job.taskId);
    emit({ phase: 'preparing', fraction: 0, message: `backend ${backend.name}; loading backbone` });
    const backbone = await loadWorkspaceBackbone(ws, job.backboneId);
    const tile = backbone.model.config.imageSize;
    const normalization = backboneNormalization(ws.versions.backbone(job.backboneId).config);
    const K = task.classes.length + 1;
    const adapter = parseAdapterConfig({ ...resolveAdapterChoice(job.adapter, backbone.model.config.depth), numClasses: K, task: 'multiclass' }, 'training job');
    const head: SegmentationHeadConfig = { ...DEFAULT_SEGMENTATION_HEAD, numClasses: K };

    // The task's painted masks, each with its image at full resolution, in the task's splits.
    const events = ws.masks.currentAll(task.id).filter((e) => e.foreground > 0);
    const splits = ws.splits.forTask(task.id);
    const sets: Record<'train' | 'val' | 'test', CaseImage[]> = { train: [], val: [], test: [] };
    const unreadable: string[] = [];
    for (const [i, e] of events.entries()) {
      throwIfAborted(signal);
      try {
        const image = await caseRgb(ws, e.caseId, e.frame, job.intensity);
        if (image.width !== e.columns || image.height !== e.rows) throw new Error(`the image is ${image.width}×${image.height}, its mask ${e.columns}×${e.rows}`);
        const split = splits.get(e.caseId)?.split ?? ws.cases.get(e.caseId).split;
        sets[split].push({ ...image, labels: ws.masks.event(e.id).labels, caseId: e.caseId, frame: e.frame });
      } catch (err) {
        if (err instanceof TrainingCancelled) throw err;
        unreadable.push(`case ${e.caseId}: ${(err as Error).message}`);
      }
      emit({ phase: 'preparing', fraction: 0.1 * ((i + 1) / events.length), message: `reading masked images ${i + 1}/${events.length}` });
    }
    const { train, val, test } = sets;
    if (train.length === 0) throw Object.assign(new Error('no painted masks in the training split yet'), { code: 'invalid-request' });

    // Warm start: the chosen version's adapter and head, when they have the same shapes on the same backbone.
    const parent = warmStartSegmentation(ws, job, adapter, head, backbone);
    model = new SegmentationModel(backbone.model, adapter, head, job.seed, parent?.tensors);
    const params = model.parameterCount();
    const stepsPerEpoch = Math.max(1, Math.ceil((train.length * TILES_PER_IMAGE) / job.batchSize));
    const totalSteps = job.epochs * stepsPerEpoch;
    emit({
      phase: 'training',
      fraction: 0.1,
      message:
        `${train.length} training / ${val.length} validation${test.length ? ` / ${test.length} held-out test` : ''} masks; ` +
        `${tile}×${tile} tiles at full resolution, ${TILES_PER_IMAGE} per image and epoch; ${parent ? `warm start from version ${parent.version.id}` : parent === null ? `fresh adapter (the active version's adapter, head or backbone differs)` : 'fresh adapter'}; ` +
        `${params.adapter} adapter + ${params.head} head parameters` +
        (unreadable.length ? `; left out: ${unreadable.join('; ')}` : ''),
    });

    // Mean foreground Dice per image (argmax masks), and the mean pixel cross-entropy of the probabilities.
    const scoreImages = (mdl: SegmentationModel, images: CaseImage[]) => {
      let ce = 0;
      let pixels = 0;
      const counts: ClassCounts[][] = [];
      const dice = images.map((im) => {
        throwIfAborted(signal);
        const probs = predictImage(mdl, im, tile, normalization);
        for (let i = 0; i < im.labels.length; i++) ce -= Math.log(Math.max(probs[i * K + im.labels[i]], 1e-7));
        pixels += im.labels.length;
        const predicted = argmaxLabels(probs, K);
        counts.push(classCounts(predicted, im.labels, K));
        return meanForegroundDice(predicted, im.labels, K);
      });
      return { dice, counts, crossEntropy: pixels ? ce / pixels : NaN };
    };

    // Epochs of tiles; after each, the validation images are scored and the best epoch's tensors kept
    // (classification's early stopping: `patience` epochs in which neither mean Dice nor the loss improved).
    const optimizer = tf.train.adam(job.lr);
    const next = mulberry32(job.seed);
    const minEpochs = minimumEpochs({ epochs: job.epochs, warmupFraction: 0, minEpochs: job.minEpochs });
    const history: { epoch: number; trainLoss: number; valLoss?: number; selection?: { name: string; value: number } }[] = [];
    let best: { epoch: number; value: number; dice?: number[]; counts?: ClassCounts[][]; tensors: Map<string, NamedTensorData> } | null = null;
    const stopping = new EarlyStopping(job.patience, minEpochs);
    let stoppedEarly = false;
    let loss = NaN;
    let step = 0;
    try {
      for (let epoch = 1; epoch <= job.epochs && !stoppedEarly; epoch++) {
        const vars = model.trainableVariables();
        let lossSum = 0;
        for (let b = 0; b < stepsPerEpoch; b++) {
          throwIfAborted(signal);
          step++;
          const { x, y } = tileBatch(train, sampleTiles(train, job.batchSize, tile, next), tile, normalization);
          const m = model;
          const value = tf.tidy(() => {
            const images = tf.tensor4d(x, [job.batchSize, tile, tile, 3]);
            const labels = tf.tensor3d(y, [job.batchSize, tile, tile], 'int32');
            return optimizer.minimize(() => m.loss(images, labels), true, vars)!;
          });
          loss = (await value.data())[0];
          value.dispose();
          lossSum += loss;
          emit({ phase: 'training', fraction: 0.1 + 0.7 * (step / totalSteps), epoch, epochs: job.epochs, step, totalSteps, loss, lr: job.lr });
        }
        const record: (typeof history)[number] = { epoch, trainLoss: lossSum / stepsPerEpoch };
        let value = -record.trainLoss; // without validation images, keep the lowest training loss
        let dice: number[] | undefined;
        let counts: ClassCounts[][] | undefined;
        if (val.length) {
          emit({ phase: 'validating', fraction: 0.1 + 0.7 * (step / totalSteps), epoch, epochs: job.epochs });
          const scored = scoreImages(model, val);
          dice = scored.dice;
          counts = scored.counts;
          record.valLoss = scored.crossEntropy;
          record.selection = { name: 'meanDice', value: mean(dice) };
          value = record.selection.value;
        }
        history.push(record);
        const verdict = stopping.update(value, record.valLoss);
        if (!best || verdict.best) {
          // Copies: a backend may hand out its own buffer, and the next epochs must not touch the kept values.
          const tensors = new Map([...(await model.exportTensors())].map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.data) }]));
          best = { epoch, value, dice, counts, tensors };
        }
        stoppedEarly = verdict.stop;
        const epochs = `${job.patience} epoch${job.patience === 1 ? '' : 's'}`;
        const what = val.length ? `no improvement of the validation mean Dice or loss for ${epochs}` : `no improvement for ${epochs}`;
        const stopped = stoppedEarly ? `; stopped early at epoch ${epoch} (${what}); keeping epoch ${best.epoch}` : '';
        emit({
          phase: val.length ? 'validating' : 'training',
          fraction: 0.1 + 0.7 * (step / totalSteps),
          epoch,
          epochs: job.epochs,
          step,
          totalSteps,
          loss: record.valLoss ?? record.trainLoss,
          ...(record.selection ? { metric: record.selection } : {}),
          message: `epoch ${epoch}/${job.epochs}: loss ${record.trainLoss.toFixed(4)}${record.selection ? `, validation mean Dice ${record.selection.value.toFixed(3)}, pixel CE ${record.valLoss!.toFixed(4)}` : ''}${stopped}`,
        });
      }
    } finally {
      optimizer.dispose();
    }
    // The best epoch's tensors become the version (a fresh model holding them; the last epoch's is dropped).
    if (best && best.epoch !== history.length) {
      model.dispose();
      model = new SegmentationModel(backbone.model, adapter, head, job.seed, best.tensors);
    }
    const epochs = epochSummary(history.length, best?.epoch ?? history.length, stoppedEarly, job.patience);

    // Mean foreground Dice per validation image, for this model and (on the same images) the active version.
    emit({ phase: 'validating', fraction: 0.82 });
    const perImageDice = (mdl: SegmentationModel, images: CaseImage[]) => scoreImages(mdl, images).dice;
    const kept = best?.dice && best.counts ? { dice: best.dice, counts: best.counts } : scoreImages(model, val);
    const candidateDice = kept.dice;
    const ci = bootstrapMeanCi(candidateDice);
    const classes = perClassOverlap(task.classes.map((c) => c.name), kept.counts);
    const testDice = test.length ? bootstrapMeanCi(perImageDice(model, test), { seed: 2 }) : null;
    emit({ phase: 'comparing', fraction: 0.88 });
    const active = ws.versions.active(job.taskId);
    let activeDice: number[] | undefined;
    if (active && val.length) {
      const loaded = loadSegmentationVersion(ws, active, backbone);
      if (loaded) {
        try {
          activeDice = perImageDice(loaded.model, val);
        } finally {
          loaded.model.dispose();
        }
      }
    }
    const storedActive = (active?.metrics as { meanDice?: { value?: number } } | undefined)?.meanDice?.value;
    const snapshot = ws.versions.snapshot(job.taskId);
    const activeLabels = (active?.labelSnapshot as { labelCount?: number } | undefined)?.labelCount ?? 0;
    const decision = decide(job.promote, ci, val.length, snapshot.labelCount, active, activeDice, candidateDice, activeLabels, storedActive);

    throwIfAborted(signal);
    emit({ phase: 'saving', fraction: 0.9 });
    const manifest: SegmentationManifest = {
      kind: 'segmentation',
      adapter,
      head,
      classes: task.classes.map((c) => c.name),
      backbone: { id: job.backboneId, sha256: backbone.sha256, config: backbone.model.config },
      tile,
      normalization: { mean: [...normalization.mean], std: [...normalization.std] },
      train: { ...job },
      appVersion: APP_VERSION,
    };
    const meanDice = { value: ci.mean, lo: ci.low, hi: ci.high, n: val.length, level: 0.95 };
    const version = ws.versions.add({
      taskId: job.taskId,
      backboneId: job.backboneId,
      method: adapter.method,
      config: manifest as unknown as Record<string, unknown>,
      weights: serializeSafetensors(await model.exportTensors(), { format: 'pt', method: adapter.method, head: 'segmentation' }),
      metrics: {
        kind: 'segmentation',
        selection: { name: 'meanDice', value: Number.isFinite(ci.mean) ? ci.mean : null },
        meanDice,
        // The versions table shows the selection metric with the interval stored under its name.
        intervals: { meanDice },
        perImageDice: candidateDice,
        // Dice and IoU per class (images where the class is in the reference or the prediction), and the mean IoU.
        perClass: classes.perClass,
        meanIou: classes.meanIou,
        test: testDice ? { n: test.length, meanDice: { value: testDice.mean, lo: testDice.low, hi: testDice.high } } : null,
        trainCount: train.length,
        valCount: val.length,
        testCount: test.length,
        steps: step,
        finalLoss: loss,
        bestEpoch: best?.epoch ?? history.length,
        stoppedEarly,
        history,
        warmStartedFrom: parent?.version.id ?? null,
        seconds: (Date.now() - started) / 1000,
        backend: backend.name,
        trainableParameters: params.adapter + params.head,
        comparedWith: active ? { versionId: active.id, meanDice: activeDice ? mean(activeDice) : (storedActive ?? null), rescored: activeDice !== undefined } : null,
        promotion: { promoted: decision.promote, reason: decision.reason },
        warnings: val.length < 5 ? [`only ${val.length} validation image(s): the Dice interval is wide`] : [],
      },
      trainRunId: runId,
      status: decision.promote ? 'active' : 'candidate',
    });
    const promoted = ws.versions.get(version.id).status === 'active';
    if (promoted) {
      try {
        await predictTask(ws, task, version.id, model, tile, normalization, job, signal, (done, total) =>
          emit({ phase: 'saving', fraction: 0.9 + 0.1 * (done / total), message: done === total ? `predicted masks of ${total} case(s); suggestions ranked by mask uncertainty` : undefined }),
        );
      } catch (err) {
        if (err instanceof TrainingCancelled) throw err;
        // The version stands; only its predicted masks are missing (they can be made again by predicting).
        emit({ phase: 'saving', fraction: 1, message: `predicting masks failed: ${(err as Error).message}` });
      }
    }
    ws.runs.finish(runId, version.id);
    const reason = `${epochs}; version ${version.id} ${promoted ? 'is now active' : 'is a candidate'}: ${decision.reason}`;
    emit({ phase: 'finished', status: 'done', fraction: 1, versionId: version.id, promoted, metric: { name: 'meanDice', value: Number.isFinite(ci.mean) ? ci.mean : null }, message: reason });
    return { status: 'done', versionId: version.id, promoted, reason: decision.reason, epochs };
  } catch (err) {
    const cancelled = err instanceof TrainingCancelled || signal?.aborted;
    const message = cancelled ? 'cancelled' : err instanceof Error ? err.message : String(err);
    if (!cancelled && !(err as { code?: string })?.code) console.error(`[medtune] segmentation run ${runId} failed:`, err);
    if (cancelled) ws.runs.cancel(runId);
    else ws.runs.fail(runId, message);
    const status = cancelled ? 'cancelled' : 'failed';
    options.onEvent?.({ runId, taskId: job.taskId, status, phase: 'finished', fraction: 1, error: cancelled ? undefined : message });
    return { status, error: cancelled ? undefined : message };
  } finally {
    model?.dispose();
  }
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/**
 * The classification runs' promotion rule on mean Dice: the first version becomes active; one trained on more
 * labels wins unless worse beyond noise (the paired bootstrap interval of the per-image difference entirely
 * below 0); one on no more labels must be better beyond noise (interval entirely above 0).
 */
function decide(
  policy: TrainJob['promote'],
  ci: { mean: number; low: number; high: number },
  n: number,
  labels: number,
  active: AdapterVersion | undefined,
  activeDice: number[] | undefined,
  candidateDice: number[],
  activeLabels: number,
  storedActive: number | undefined,
): { promote: boolean; reason: string } {
  const score = `mean Dice ${f2(ci.mean)} (95 % CI ${f2(ci.low)}–${f2(ci.high)}, ${n} validation image${n === 1 ? '' : 's'})`;
  if (policy === 'never') return { promote: false, reason: `${score}; not promoted (promotion off for this run)` };
  if (policy === 'always' || !active) return { promote: true, reason: `${score}; ${active ? 'promoted as asked' : 'the task’s first version'}` };
  if (n === 0) return { promote: false, reason: 'no validation images: cannot compare with the active version' };
  if (activeDice) {
    const d = bootstrapMeanCi(candidateDice.map((v, i) => v - activeDice[i]), { seed: 3 });
    const diff = `difference ${f2(d.mean)} (95 % CI ${f2(d.low)}–${f2(d.high)}) against version ${active.id} on the same images`;
    if (labels > activeLabels) return d.high < 0 ? { promote: false, reason: `${score}; worse beyond noise: ${diff}` } : { promote: true, reason: `${score}; more labels and not worse: ${diff}` };
    return d.low > 0 ? { promote: true, reason: `${score}; better beyond noise: ${diff}` } : { promote: false, reason: `${score}; not better beyond noise: ${diff}` };
  }
  const better = storedActive === undefined || ci.mean > storedActive;
  return { promote: better, reason: `${score}; version ${active.id} could not be re-scored, its stored mean Dice is ${f2(storedActive ?? NaN)}` };
}

/** The new active version's predicted masks of the task's cases, and the unlabelled ones ranked by their uncertainty. */
async function predictTask(
  ws: Workspace,
  task: LabelTask,
  versionId: number,
  model: SegmentationModel,
  tile: number,
  normalization: Normalization,
  job: TrainJob,
  signal: AbortSignal | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<void> {
  const ids = ws.worklistIds('all', task.id).slice(0, PREDICT_LIMIT);
  const labelled = new Set(ws.masks.currentAll(task.id).filter((e) => e.foreground > 0).map((e) => e.caseId));
  const K = task.classes.length + 1;
  const ranked: { caseId: number; score: number; reason: string }[] = [];
  for (const [i, caseId] of ids.entries()) {
    throwIfAborted(signal);
    try {
      const image = await caseRgb(ws, caseId, 0, job.intensity);
      const probs = predictImage(model, image, tile, normalization);
      const labels = argmaxLabels(probs, K);
      const uncertainty = foregroundEntropy(probs, labels, image.width, image.height, K);
      ws.masks.putPredictions(versionId, [{ caseId, frame: 0, rows: image.height, columns: image.width, labels, uncertainty }]);
      if (!labelled.has(caseId)) ranked.push({ caseId, score: uncertainty, reason: `mean pixel entropy ${uncertainty.toFixed(3)} over the predicted mask and its border` });
    } catch (err) {
      if (err instanceof TrainingCancelled) throw err;
      // A case that cannot be read gets no prediction; the others still do.
    }
    onProgress(i + 1, ids.length);
  }
  ws.suggestions.replace({ taskId: task.id, strategy: 'mask-entropy', versionId, items: ranked });
}

type Interval = { value: number; lo: number; hi: number; n: number; level: 0.95 };

/**
 * Per class of the task (label i + 1 in the masks): Dice and IoU over the validation images where the class occurs in the reference or the
 * prediction, each with a 95 % bootstrap interval over those images; the mean IoU per image over its classes.
 */
function perClassOverlap(names: string[], counts: ClassCounts[][]): { perClass: { name: string; dice: Interval | null; iou: Interval | null }[]; meanIou: Interval | null } {
  const interval = (values: number[], seed: number): Interval | null => {
    if (!values.length) return null;
    const ci = bootstrapMeanCi(values, { seed });
    return { value: ci.mean, lo: ci.low, hi: ci.high, n: values.length, level: 0.95 };
  };
  const perClass = names.map((name, i) => {
    const present = counts.map((c) => c[i + 1]).filter((c) => c && c.tp + c.fp + c.fn > 0);
    return { name, dice: interval(present.map(diceOf), 11 + i), iou: interval(present.map(iouOf), 31 + i) };
  });
  const imageIou = counts
    .map((c) => c.slice(1).filter((k) => k.tp + k.fp + k.fn > 0))
    .filter((present) => present.length > 0)
    .map((present) => present.reduce((sum, k) => sum + iouOf(k), 0) / present.length);
  return { perClass, meanIou: interval(imageIou, 5) };
}
