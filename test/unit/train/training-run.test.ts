import { describe, expect, it } from 'vitest';
import type { Workspace } from '../../../core/store';
import { parseTrainJob } from '../../../core/train/job';
import { executeTrainingRun, type RunEvent } from '../../../core/train/training-run';
import { executePrediction } from '../../../core/train/predict-run';
import { executeSuggest, headDropoutSamples, influenceCasesToScore, poolInfluence } from '../../../core/active/suggest-run';
import { useTrainFixture } from '../../helpers/train-fixture';

let ws: Workspace;
let taskId: number;
let backboneId: number;

useTrainFixture((f) => ({ ws, taskId, backboneId } = f));

const job = (extra: Record<string, unknown> = {}) =>
  parseTrainJob({ taskId, backboneId, adapter: { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2 }, epochs: 2, batchSize: 4, ...extra });

describe('executeTrainingRun', () => {
  it('trains a first version from labelled DICOM-free photos and caches inputs; at chance it stays a candidate until promoted by hand', async () => {
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const events: RunEvent[] = [];
    const outcome = await executeTrainingRun(ws, run.id, job(), { onEvent: (e) => events.push(e) });
    // Four validation cases: the AUC interval contains 0.5, so even a task's first version is not made active.
    expect(outcome).toMatchObject({ status: 'done', promoted: false, reason: expect.stringMatching(/^kept as a candidate: the model is at chance/) });
    expect(ws.versions.get(outcome.versionId!).status).toBe('candidate');
    expect(ws.versions.active(taskId)).toBeUndefined();
    ws.versions.promote(outcome.versionId!);
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
    expect(events.at(-1)).toMatchObject({ status: 'done', fraction: 1, versionId: version.id, promoted: false });
    expect(events.at(-1)!.message).toContain(`version ${version.id} is a candidate: kept as a candidate: the model is at chance`);
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

  it('says the same thing about promotion in the run log, the outcome and the versions table, for a worse run and a forced one', async () => {
    const check = async (extra: Record<string, unknown>) => {
      const run = ws.runs.create({ taskId, method: 'dvpt' });
      const events: RunEvent[] = [];
      const outcome = await executeTrainingRun(ws, run.id, job(extra), { onEvent: (e) => events.push(e) });
      const version = ws.versions.get(outcome.versionId!);
      const stored = (version.metrics as { promotion: { promoted: boolean; reason: string } }).promotion;
      expect(stored).toEqual({ promoted: outcome.promoted, atChance: expect.any(Boolean), reason: outcome.reason });
      expect(version.status === 'active').toBe(outcome.promoted);
      expect(events.at(-1)!.message).toContain(outcome.reason!);
      expect(events.at(-1)!.message).toMatch(/^trained \d+ epochs?.*; kept epoch \d+; version \d+ (is now active|is a candidate): /);
      expect((version.metrics as { intervals: Record<string, { n: number }> }).intervals.macroAuc.n).toBe((version.metrics as { valCount: number }).valCount);
      return outcome;
    };
    // A fresh adapter barely trained, on no more labels than the active version: not better beyond noise.
    const worse = await check({ warmStart: 'none', epochs: 1, lr: 1e-7, seed: 7 });
    expect(worse.promoted).toBe(false);
    expect(worse.reason).toMatch(/^kept as a candidate: /);
    // Asked to promote: the table and the log say so, whatever the score.
    const forced = await check({ promote: 'always' });
    expect(forced.promoted).toBe(true);
    expect(forced.reason).toMatch(/^promoted as asked/);
  });

  it('a grid run tries learning rate × class weighting, keeps the best on validation and says so; the budget stops it', async () => {
    type Stored = { grid: { trials: { lr: number; classWeighting: string; selection: number | null }[]; skipped: unknown[]; chosen: number; metric: string }; selection: { value: number } };
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const events: RunEvent[] = [];
    const outcome = await executeTrainingRun(ws, run.id, job({ epochs: 1, grid: true, promote: 'never' }), { onEvent: (e) => events.push(e) });
    expect(outcome.status).toBe('done');
    const version = ws.versions.get(outcome.versionId!);
    const metrics = version.metrics as unknown as Stored;
    const { trials, chosen } = metrics.grid;
    expect(trials.map((t) => [t.lr, t.classWeighting])).toEqual([[1e-3, 'inverse'], [1e-3 / 3, 'inverse'], [3e-3, 'inverse'], [1e-3, 'none'], [1e-3 / 3, 'none'], [3e-3, 'none']]);
    const best = Math.max(...trials.map((t) => t.selection ?? -Infinity));
    expect(trials[chosen].selection).toBe(best);
    // The version is the kept setting's: its score, and its settings in the provenance.
    expect(metrics.selection.value).toBeCloseTo(best, 12);
    const train = (version.config as { train: { lr: number; classWeighting: string; grid: boolean } }).train;
    expect([train.lr, train.classWeighting, train.grid]).toEqual([trials[chosen].lr, trials[chosen].classWeighting, true]);
    expect(outcome.grid).toMatch(/^grid: 6 settings tried in \d+ s \(budget 900 s\); kept /);
    expect(events.at(-1)!.message).toContain(outcome.grid!);
    expect(events.filter((e) => e.message?.startsWith('grid setting 6/6')).length).toBeGreaterThan(0);
    // Progress only moves forward over the settings.
    const fractions = events.filter((e) => e.status === undefined || e.status === 'running').map((e) => e.fraction);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1] - 1e-9)).toBe(true);

    // A budget the first setting already spends: the job's own setting alone, the rest reported skipped.
    const tight = await executeTrainingRun(ws, ws.runs.create({ taskId, method: 'dvpt' }).id, job({ epochs: 1, grid: true, gridBudgetSeconds: 0.001, promote: 'never' }));
    const tightGrid = (ws.versions.get(tight.versionId!).metrics as unknown as Stored).grid;
    expect([tightGrid.trials.length, tightGrid.skipped.length, tightGrid.chosen]).toEqual([1, 5, 0]);
    expect(tight.grid).toMatch(/5 skipped for the budget\); kept the job’s own settings/);

    // The linear probe: with and without class weights only.
    const probe = await executeTrainingRun(ws, ws.runs.create({ taskId, method: 'linear' }).id, job({ adapter: { method: 'linear' }, grid: true, promote: 'never' }));
    expect((ws.versions.get(probe.versionId!).metrics as unknown as Stored).grid.trials.map((t) => t.classWeighting)).toEqual(['inverse', 'none']);
  });

  it('a grid run cancelled in its second setting leaves no version', async () => {
    const before = ws.versions.list(taskId).length;
    const run = ws.runs.create({ taskId, method: 'dvpt' });
    const controller = new AbortController();
    const outcome = await executeTrainingRun(ws, run.id, job({ epochs: 1, grid: true }), {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.message?.startsWith('grid setting 2/')) controller.abort();
      },
    });
    expect(outcome.status).toBe('cancelled');
    expect(ws.versions.list(taskId)).toHaveLength(before);
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

describe('prediction and suggestions from the active version', () => {
  it('predicts every case with probabilities, entropy and an embedding', async () => {
    // Leave five cases unlabeled so there is something to suggest.
    const ids = ws.listCases({ limit: 100 }).items.map((c) => c.id).slice(0, 5);
    for (const id of ids) ws.labels.clear(id, taskId, 'test');
    const progress: string[] = [];
    const outcome = await executePrediction(ws, { taskId }, { onProgress: (p) => progress.push(p.phase) });
    const active = ws.versions.active(taskId)!;
    expect(outcome).toMatchObject({ versionId: active.id, predicted: 20, failures: [] });
    expect(progress).toContain('predicting');
    const p = ws.predictions.get(active.id, ids[0])!;
    expect(p.probabilities).toHaveLength(2);
    expect(p.probabilities[0] + p.probabilities[1]).toBeCloseTo(1, 5);
    expect(p.uncertainty).toBeGreaterThan(0);
    expect(p.uncertainty).toBeLessThanOrEqual(Math.log(2) + 1e-6);
    expect(ws.predictions.embedding(active.id, ids[0])).toHaveLength(48);
  });

  it.each(['entropy', 'margin', 'least-confidence', 'bald', 'kcenter', 'hybrid', 'random'] as const)(
    'suggests unlabeled cases only, ranked with reasons (%s)',
    (strategy) => {
      const unlabeled = new Set(ws.listCases({ filter: 'unlabeled', taskId, limit: 100 }).items.map((c) => c.id));
      expect(unlabeled.size).toBe(5);
      const outcome = executeSuggest(ws, { taskId, strategy, count: 3, seed: 1 });
      expect(outcome.pool).toBe(5);
      expect(outcome.suggested.map((s) => s.rank)).toEqual([1, 2, 3]);
      for (const s of outcome.suggested) {
        expect(unlabeled.has(s.caseId)).toBe(true);
        expect(s.reason.length).toBeGreaterThan(5);
      }
      const stored = ws.suggestions.list(taskId);
      expect(stored.map((s) => [s.caseId, s.rank])).toEqual(outcome.suggested.map((s) => [s.caseId, s.rank]));
      expect(stored[0].strategy).toBe(strategy);
    },
  );

  it('mixed gives a quarter of its batch to validation influence once the labelled cases are scored', () => {
    // The prediction above scored every case, the labelled training and validation ones included.
    expect(influenceCasesToScore(ws, taskId, ws.versions.active(taskId)!.id)).toEqual([]);
    const outcome = executeSuggest(ws, { taskId, strategy: 'mixed', count: 4, seed: 1 });
    expect(outcome.influence).toMatch(/^validation influence from \d+ training and \d+ validation cases \(C = 1\)$/);
    const reasons = outcome.suggested.map((s) => s.reason);
    expect(reasons.filter((r) => r.startsWith('random share'))).toHaveLength(2);
    expect(reasons.filter((r) => /expected to lower the validation loss by [\d.e-]+ \(influence\)/.test(r))).toHaveLength(1);
    expect(reasons.filter((r) => r.startsWith('margin'))).toHaveLength(1);
    // Labelled cases a version never scored leave it without influence (mixed then uses margin), and say so.
    // 20 labelled cases, less the 5 unlabelled above (they keep their split but are no longer labelled).
    expect(poolInfluence(ws, taskId, { id: 10_000, config: {}, metrics: {} }, [])).toEqual({ note: 'no validation influence: 15 labelled cases are not scored by version 10000 yet' });
    // Inputs it cannot use never stop the suggestions: the share falls to margin, with the reason.
    const active = ws.versions.active(taskId)!;
    expect(poolInfluence(ws, taskId, active, [new Float32Array(3)]).note).toBe('no validation influence: candidates hold 3 values, not a multiple of D = 48');
  });

  it('MC dropout on the head agrees with itself when the rate is 0 and spreads otherwise', () => {
    const e = [Float32Array.from([1, -1, 0.5])];
    const w = Float32Array.from([1, 0, 2, -1, 1, 0]);
    const b = Float32Array.from([0, 0.5]);
    const none = headDropoutSamples(e, w, b, 2, 5, 0, 1);
    for (const pass of none) expect(pass[0]).toEqual(none[0][0]);
    const some = headDropoutSamples(e, w, b, 2, 30, 0.5, 1);
    expect(new Set(some.map((pass) => pass[0][0].toFixed(6))).size).toBeGreaterThan(1);
  });

  it('refuses an unknown strategy and model strategies without a version', () => {
    expect(() => executeSuggest(ws, { taskId, strategy: 'oracle' as never, count: 3 })).toThrow(/unknown strategy/);
    const fresh = ws.tasks.create({ name: 'fresh', kind: 'multiclass', classes: ['a', 'b'] });
    expect(() => executeSuggest(ws, { taskId: fresh.id, strategy: 'entropy', count: 3 })).toThrow(/train one first/);
    expect(executeSuggest(ws, { taskId: fresh.id, strategy: 'random', count: 3 }).suggested).toHaveLength(3);
  });
});
