import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../../../core/store';
import { parseTrainJob } from '../../../core/train/job';
import { releaseBackbones } from '../../../core/train/model-loader';
import { executeTrainingRun, type RunEvent } from '../../../core/train/training-run';
import { initBackend } from '../../../core/model/backend';
import { FUNDUS_DIR, PARITY_DIR } from '../../helpers/paths';

let tmp: string;
let ws: Workspace;
let taskId: number;
let backboneId: number;

beforeAll(async () => {
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-train-run-'));
  ws = Workspace.create(path.join(tmp, 'ws'));
  const report = await ws.import([path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images')]);
  expect(report.imported).toBe(20);
  backboneId = ws.versions.addBackbone({
    name: 'parity-tiny',
    arch: 'vit',
    config: JSON.parse(fs.readFileSync(path.join(PARITY_DIR, 'backbone.json'), 'utf8')),
    weights: fs.readFileSync(path.join(PARITY_DIR, 'backbone-timm.safetensors')),
  }).id;
  taskId = ws.tasks.create({ name: 'referable', kind: 'multiclass', classes: ['no', 'yes'] }).id;
  const cases = ws.listCases({ limit: 100 }).items;
  ws.labels.setMany(cases.map((c, i) => ({ caseId: c.id, taskId, value: i % 3 === 0 ? 'yes' : 'no', author: 'test' })));
});

afterAll(() => {
  ws?.close();
  releaseBackbones();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const job = (extra: Record<string, unknown> = {}) =>
  parseTrainJob({ taskId, backboneId, adapter: { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2 }, epochs: 2, batchSize: 4, ...extra });

describe('executeTrainingRun', () => {
  it('trains a first version from labelled DICOM-free photos, caches inputs and makes it active', async () => {
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const events: RunEvent[] = [];
    const outcome = await executeTrainingRun(ws, run.id, job(), { onEvent: (e) => events.push(e) });
    expect(outcome).toMatchObject({ status: 'done', promoted: true });
    const version = ws.versions.get(outcome.versionId!);
    expect(version.status).toBe('active');
    expect(version.method).toBe('dvpt');
    expect(version.metrics).toMatchObject({ trainCount: expect.any(Number), valCount: expect.any(Number), bestEpoch: expect.any(Number) });
    expect((version.metrics as { trainCount: number }).trainCount + (version.metrics as { valCount: number }).valCount).toBe(20);
    const finished = ws.runs.get(run.id);
    expect(finished.status).toBe('done');
    expect(finished.backend).toBeTruthy();
    expect(finished.progress.length).toBeGreaterThan(2);
    const phases = new Set(events.map((e) => e.phase));
    for (const p of ['preparing', 'training', 'comparing', 'saving', 'finished']) expect(phases).toContain(p);
    expect(events.at(-1)).toMatchObject({ status: 'done', fraction: 1, versionId: version.id });
    expect(events.find((e) => e.message?.includes('decoded'))!.message).toContain('20 decoded, 0 from cache');
  });

  it('warm-starts the next run from the active version, never decodes again, and compares on the same cases', async () => {
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const events: RunEvent[] = [];
    const outcome = await executeTrainingRun(ws, run.id, job(), { onEvent: (e) => events.push(e) });
    expect(outcome.status).toBe('done');
    const version = ws.versions.get(outcome.versionId!);
    expect(version.parentId).toBe(1);
    expect(version.metrics).toMatchObject({ comparedWith: { versionId: 1, rescored: true } });
    expect(events.find((e) => e.message?.includes('decoded'))!.message).toContain('0 decoded, 20 from cache');
    expect(events.find((e) => e.message?.includes('warm start'))).toBeTruthy();
    expect(ws.versions.list(taskId).filter((v) => v.status === 'active')).toHaveLength(1);
  });

  it('a cancelled run is marked so and leaves no version', async () => {
    const before = ws.versions.list(taskId).length;
    const run = ws.runs.create({ taskId, method: 'ept' });
    const controller = new AbortController();
    const outcome = await executeTrainingRun(ws, run.id, job({ adapter: { method: 'ept', promptLength: 4 }, epochs: 5 }), {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.phase === 'training' && e.step === 1) controller.abort();
      },
    });
    expect(outcome.status).toBe('cancelled');
    expect(ws.runs.get(run.id).status).toBe('cancelled');
    expect(ws.versions.list(taskId)).toHaveLength(before);
  });

  it('a run that cannot train fails with a reason and leaves no version', async () => {
    const seg = ws.tasks.create({ name: 'vessels', kind: 'segmentation', classes: ['vessel'] });
    const run = ws.runs.create({ taskId: seg.id });
    const outcome = await executeTrainingRun(ws, run.id, parseTrainJob({ taskId: seg.id, backboneId }));
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/segmentation/);
    expect(ws.runs.get(run.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/segmentation/) });
    const empty = ws.tasks.create({ name: 'empty', kind: 'multiclass', classes: ['a', 'b'] });
    const run2 = ws.runs.create({ taskId: empty.id });
    const outcome2 = await executeTrainingRun(ws, run2.id, parseTrainJob({ taskId: empty.id, backboneId }));
    expect(outcome2).toMatchObject({ status: 'failed', error: expect.stringMatching(/no labelled cases/) });
  });
});
