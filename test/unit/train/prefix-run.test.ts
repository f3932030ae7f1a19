import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Workspace } from '../../../core/store';
import { parseTrainJob } from '../../../core/train/job';
import { versionManifest } from '../../../core/train/model-loader';
import { executePrediction } from '../../../core/train/predict-run';
import { workspacePrefixRoot } from '../../../core/train/prefix-store';
import { executeTrainingRun } from '../../../core/train/training-run';
import { useTrainFixture } from '../../helpers/train-fixture';

// A real run in a workspace (20 DRIVE photos, the depth-3 fixture ViT) with adapters in the last block.
let ws: Workspace;
let taskId: number;
let backboneId: number;

useTrainFixture((f) => ({ ws, taskId, backboneId } = f));

const messages = (runId: number) => ws.runs.get(runId).progress.map((e) => (e as { message?: string }).message ?? '');

describe('training runs with the frozen-prefix cache', () => {
  it('DVPT in the last block: the config stores startLayer, the run log says the cache was built and how long it took', async () => {
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const job = parseTrainJob({ taskId, backboneId, adapter: { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2, lastLayers: 1 }, epochs: 2, batchSize: 4 });
    const outcome = await executeTrainingRun(ws, run.id, job);
    expect(outcome.status).toBe('done');
    const version = ws.versions.get(outcome.versionId!);
    expect(versionManifest(version).adapter).toMatchObject({ method: 'dvpt', startLayer: 2, share: 2 });
    expect(version.metrics).toMatchObject({ prefixCache: { used: true, startLayer: 2, seconds: expect.any(Number) } });
    const log = messages(run.id);
    expect(log.find((m) => m.startsWith('prefix cache on: frozen blocks 0..1 run once per image'))).toBeTruthy();
    expect(log.find((m) => /^prefix cache built in \d+\.\d s \(\d+ MB, 0 of 20 images read from the workspace's float16 store\); epochs compute blocks 2\.\.2$/.test(m))).toBeTruthy();
  });

  it('a warm run reads the frozen prefix from the workspace; predictions score from it; another preprocessing misses', async () => {
    const adapter = { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2, lastLayers: 1 } as const;
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const outcome = await executeTrainingRun(ws, run.id, parseTrainJob({ taskId, backboneId, adapter, epochs: 1, batchSize: 4, warmStart: 'active' }));
    expect(outcome.status).toBe('done');
    expect(messages(run.id).find((m) => m.includes("20 of 20 images read from the workspace's float16 store"))).toBeTruthy();
    expect(ws.versions.get(outcome.versionId!).metrics).toMatchObject({ prefixCache: { used: true, fromDisk: 20 } });

    // Scoring reads the same tokens (blocks 0..1 are not run again) and matches a full forward pass up to float16 rounding.
    const fromStore = await executePrediction(ws, { taskId, versionId: outcome.versionId, scope: 'all' });
    expect(fromStore).toMatchObject({ predicted: 20, prefixFromDisk: 20 });
    const stored = new Map(ws.predictions.list(outcome.versionId!).map((p) => [p.caseId, p.probabilities]));
    process.env.MEDTUNE_PREFIX_STORE = 'off';
    try {
      const full = await executePrediction(ws, { taskId, versionId: outcome.versionId, scope: 'all' });
      expect(full.prefixFromDisk).toBeUndefined();
    } finally {
      delete process.env.MEDTUNE_PREFIX_STORE;
    }
    let worst = 0;
    for (const p of ws.predictions.list(outcome.versionId!)) p.probabilities.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - stored.get(p.caseId)![i]))));
    expect(worst).toBeGreaterThan(0); // the two paths really differ (float16 tokens vs exact)...
    expect(worst).toBeLessThan(5e-3); // ...by rounding only

    // Another preprocessing is another key: nothing is read, and the tokens are stored beside the first ones.
    const stretched = ws.runs.create({ taskId, method: 'dvpt' });
    const other = await executeTrainingRun(ws, stretched.id, parseTrainJob({ taskId, backboneId, adapter, epochs: 1, batchSize: 4, warmStart: 'none', intensity: 'stretch' }));
    expect(other.status).toBe('done');
    expect(messages(stretched.id).find((m) => m.includes("0 of 20 images read from the workspace's float16 store"))).toBeTruthy();
    expect(fs.readdirSync(workspacePrefixRoot(ws.dir))).toHaveLength(2);
  });

  it('with augmentation or prefixCache "off" the run log says why the cache was not used', async () => {
    for (const [extra, reason] of [
      [{ augmentation: 'fundus' }, 'prefix cache off: augmentation changes the images every epoch'],
      [{ prefixCache: 'off' }, 'prefix cache off: turned off for this run'],
    ] as const) {
      const run = ws.runs.create({ taskId, method: 'ept' });
      const job = parseTrainJob({ taskId, backboneId, adapter: { method: 'ept', promptLength: 4, lastLayers: 2 }, epochs: 1, batchSize: 4, warmStart: 'none', ...extra });
      const outcome = await executeTrainingRun(ws, run.id, job);
      expect(outcome.status).toBe('done');
      expect(messages(run.id)).toContain(reason);
      expect(ws.versions.get(outcome.versionId!).metrics).toMatchObject({ prefixCache: { used: false, reason } });
    }
  });
});
