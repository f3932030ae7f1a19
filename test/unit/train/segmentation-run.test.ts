import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/model/backend';
import { readBinaryMask } from '../../../core/segmentation/png-mask';
import { classCounts, dice, iou } from '../../../core/segmentation/metrics';
import { Workspace } from '../../../core/store';
import { parseTrainJob } from '../../../core/train/job';
import { releaseBackbones } from '../../../core/train/model-loader';
import { executeSegmentationRun, loadSegmentationVersion } from '../../../core/train/segmentation-run';
import { loadWorkspaceBackbone } from '../../../core/train/model-loader';
import { argmaxLabels, meanForegroundDice, predictImage } from '../../../core/segmentation/inference';
import { decodeImageFile } from '../../../core/imaging/decode-file';
import { frameToRgb8 } from '../../../core/imaging/model-input';
import { FUNDUS_DIR, PARITY_DIR } from '../../helpers/paths';

/**
 * A segmentation run through the same runs and versions as classification: DRIVE photographs with their
 * manual vessel masks stored as masks, the tiny parity ViT, a DVPT adapter with the segmentation head.
 */
const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const IDS = ['21', '22', '23', '24', '25'];

let tmp: string;
let ws: Workspace;
let taskId: number;
let backboneId: number;
let caseByName: Map<string, number>;

beforeAll(async () => {
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-segrun-'));
  ws = Workspace.create(path.join(tmp, 'ws'));
  await ws.import(IDS.map((id) => path.join(DRIVE, 'images', `${id}_training.tif`)));
  backboneId = ws.versions.addBackbone({
    name: 'parity-tiny',
    arch: 'vit',
    config: JSON.parse(fs.readFileSync(path.join(PARITY_DIR, 'backbone.json'), 'utf8')),
    weights: fs.readFileSync(path.join(PARITY_DIR, 'backbone-timm.safetensors')),
  }).id;
  taskId = ws.tasks.create({ name: 'Vessels', kind: 'segmentation', classes: ['vessel'] }).id;
  caseByName = new Map(ws.listCases({ limit: 100 }).items.map((c) => [c.displayName.split('_')[0], c.id]));
  // Three painted cases: two to train on, one to validate on; 24 and 25 stay unlabelled.
  for (const id of IDS.slice(0, 3)) {
    const mask = await readBinaryMask(path.join(DRIVE, '1st_manual', `${id}_manual1.gif`));
    ws.masks.save({ taskId, caseId: caseByName.get(id)!, frame: 0, rows: mask.height, columns: mask.width, labels: mask.labels, author: 'test', source: 'import' });
  }
  ws.splits.assign(taskId, ['21', '22'].map((id) => caseByName.get(id)!), 'train');
  ws.splits.assign(taskId, ['23'].map((id) => caseByName.get(id)!), 'val');
}, 120_000);

afterAll(() => {
  ws?.close();
  releaseBackbones();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const decodeRgb = async (id: string) => frameToRgb8(await decodeImageFile(path.join(DRIVE, 'images', `${id}_training.tif`)), 0, 'auto');

const job = (extra: object = {}) =>
  parseTrainJob({ taskId, backboneId, adapter: { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2 }, epochs: 1, batchSize: 8, lr: 3e-3, ...extra });

describe('segmentation training run', () => {
  it('trains from the stored masks, stores a version scored by mean Dice with a CI, predicts masks and ranks suggestions', async () => {
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const outcome = await executeSegmentationRun(ws, run.id, job());
    expect(outcome.status, outcome.error).toBe('done');
    const version = ws.versions.get(outcome.versionId!);
    expect(version.status).toBe('active'); // the task's first version
    const metrics = version.metrics as { kind: string; meanDice: { value: number; lo: number; hi: number; n: number }; perImageDice: number[]; trainCount: number; valCount: number };
    expect(metrics).toMatchObject({ kind: 'segmentation', trainCount: 2, valCount: 1 });
    expect(metrics.perImageDice).toHaveLength(1);
    expect(metrics.meanDice.value).toBeGreaterThanOrEqual(0);
    expect(metrics.meanDice.value).toBeLessThanOrEqual(1);
    expect(metrics.meanDice.lo).toBeLessThanOrEqual(metrics.meanDice.value);
    expect(metrics.meanDice.hi).toBeGreaterThanOrEqual(metrics.meanDice.value);
    expect(ws.runs.get(run.id)).toMatchObject({ status: 'done', resultVersionId: version.id });

    // Every case of the task got a predicted mask at image resolution; the unlabelled ones are the suggestions.
    for (const id of IDS) {
      const p = ws.masks.prediction(version.id, caseByName.get(id)!, 0)!;
      expect(p, id).toBeDefined();
      expect([p.columns, p.rows]).toEqual([565, 584]);
      expect(p.labels.every((v) => v <= 1)).toBe(true);
      expect(p.uncertainty).toBeGreaterThanOrEqual(0);
    }
    const suggested = ws.suggestions.list(taskId);
    expect(suggested.map((s) => s.caseId).sort()).toEqual(['24', '25'].map((id) => caseByName.get(id)!).sort());
    expect(suggested[0]).toMatchObject({ strategy: 'mask-entropy', versionId: version.id });
  }, 300_000);

  it('warm-starts a second version from the active one and compares them on the same validation images', async () => {
    const active = ws.versions.active(taskId)!;
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const outcome = await executeSegmentationRun(ws, run.id, job({ seed: 7, promote: 'never' }));
    expect(outcome.status, outcome.error).toBe('done');
    const version = ws.versions.get(outcome.versionId!);
    expect(version.status).toBe('candidate');
    expect(version.metrics as object).toMatchObject({ comparedWith: { versionId: active.id, rescored: true }, warmStartedFrom: active.id });
    expect(ws.runs.get(run.id).progress.map((p) => p.message).join('\n')).toContain(`warm start from version ${active.id}`);
    // Another adapter does not fit the active version: naming that version is refused.
    const named = await executeSegmentationRun(ws, ws.runs.create({ taskId, method: 'lora' }).id, job({ adapter: { method: 'lora', rank: 2 }, warmStart: active.id }));
    expect(named).toMatchObject({ status: 'failed', error: `version ${active.id} cannot warm-start this job: its adapter, head or backbone differs` });
  }, 300_000);

  it('validates every epoch and stops early as classification runs do, stating the epoch kept', async () => {
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    // A learning rate too small to change the argmax masks: epoch 2 cannot improve on epoch 1.
    const outcome = await executeSegmentationRun(ws, run.id, job({ epochs: 4, patience: 1, minEpochs: 1, lr: 1e-9, warmStart: 'none', promote: 'never' }));
    expect(outcome.status, outcome.error).toBe('done');
    expect(outcome.epochs).toBe('trained 2 epochs, stopped early (no improvement for 1 epochs); kept epoch 1');
    const log = ws.runs.get(run.id).progress.map((p) => p.message).filter(Boolean).join('\n');
    expect(log).toMatch(/epoch 1\/4: loss [\d.]+, validation mean Dice [\d.]+, pixel CE [\d.]+/);
    expect(log).toContain('stopped early at epoch 2 (no improvement of the validation mean Dice or loss for 1 epoch); keeping epoch 1');
    const metrics = ws.versions.get(outcome.versionId!).metrics as { history: unknown[]; bestEpoch: number; stoppedEarly: boolean };
    expect(metrics).toMatchObject({ bestEpoch: 1, stoppedEarly: true });
    expect(metrics.history).toHaveLength(2);
  }, 300_000);

  it('stores the best epoch’s tensors: the version re-scored from its weights gives its stored Dice', async () => {
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const outcome = await executeSegmentationRun(ws, run.id, job({ epochs: 3, patience: 0, lr: 3e-2, warmStart: 'none', promote: 'never', seed: 11 }));
    expect(outcome.status, outcome.error).toBe('done');
    const version = ws.versions.get(outcome.versionId!);
    const metrics = version.metrics as {
      history: { selection: { value: number } }[];
      bestEpoch: number;
      meanDice: { value: number };
      perClass: { name: string; dice: { value: number; n: number } | null; iou: { value: number } | null }[];
      meanIou: { value: number } | null;
    };
    const values = metrics.history.map((h) => h.selection.value);
    expect(values).toHaveLength(3);
    expect(metrics.bestEpoch).toBe(values.indexOf(Math.max(...values)) + 1);
    expect(metrics.meanDice.value).toBe(Math.max(...values));
    const backbone = await loadWorkspaceBackbone(ws, backboneId);
    const loaded = loadSegmentationVersion(ws, version, backbone)!;
    try {
      const im = { ...(await decodeRgb('23')), labels: (await readBinaryMask(path.join(DRIVE, '1st_manual', '23_manual1.gif'))).labels };
      const probs = predictImage(loaded.model, im, loaded.manifest.tile, loaded.manifest.normalization);
      const predicted = argmaxLabels(probs, 2);
      expect(meanForegroundDice(predicted, im.labels, 2)).toBeCloseTo(metrics.meanDice.value, 10);
      // Per class (one: vessel) Dice and IoU of the kept epoch, from the same masks.
      const vessel = classCounts(predicted, im.labels, 2)[1];
      expect(metrics.perClass).toHaveLength(1);
      expect(metrics.perClass[0].dice?.value).toBeCloseTo(dice(vessel), 10);
      expect(metrics.perClass[0].iou?.value).toBeCloseTo(iou(vessel), 10);
      expect(metrics.meanIou?.value).toBeCloseTo(iou(vessel), 10);
    } finally {
      loaded.model.dispose();
    }
  }, 300_000);

  it('fails with a clear message when no mask lies in the training split', async () => {
    const other = ws.tasks.create({ name: 'Lesions', kind: 'segmentation', classes: ['lesion'] }).id;
    const run = ws.runs.create({ taskId: other, method: 'dvpt' });
    const outcome = await executeSegmentationRun(ws, run.id, job({ taskId: other }));
    expect(outcome).toMatchObject({ status: 'failed', error: 'no painted masks in the training split yet' });
  });
});
