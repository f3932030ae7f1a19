import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../core/api/dispatch';
import type { LoopStateT } from '../../../core/api/training-contract';
import { createHandlers } from '../../../core/app/handlers';
import { labelsPerRun, loopSettings, roundCases } from '../../../core/app/learning-loop';
import { AppSession } from '../../../core/app/session';
import type { LabelTask } from '../../../core/store';
import { parseTrainJob } from '../../../core/train/job';
import { FUNDUS_DIR, PARITY_DIR } from '../../helpers/paths';

describe('loop policy', () => {
  const task = (loop?: object) => ({ settings: { splitFractions: { val: 0.2, test: 0 }, ...(loop ? { loop } : {}) } }) as unknown as LabelTask;

  it('scales the labels per run with the task and lets a task or the environment fix it', () => {
    const s = loopSettings(task(), {});
    expect(s).toMatchObject({ enabled: true, firstRunAt: 20, every: null });
    expect(labelsPerRun(s, 30)).toBe(10);
    expect(labelsPerRun(s, 1000)).toBe(100);
    expect(labelsPerRun(loopSettings(task({ every: 7 }), {}), 1000)).toBe(7);
    expect(loopSettings(task(), { MEDTUNE_AUTOTRAIN_EVERY: '5' })).toMatchObject({ every: 5, firstRunAt: 5 });
    expect(loopSettings(task(), { MEDTUNE_AUTOTRAIN_EVERY: '0' }).enabled).toBe(false);
  });

  it('bounds a round: the top candidates plus a window that rotates over the rest', () => {
    const all = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(roundCases(all.slice(0, 10), [], 20, 0).ids).toEqual(all.slice(0, 10));
    const seen = new Set<number>();
    let rotation = 0;
    for (let round = 0; round < 7; round++) {
      const { ids, nextRotation } = roundCases(all, [50, 51, 52], 20, rotation);
      expect(ids).toHaveLength(20);
      expect(ids).toEqual(expect.arrayContaining([50, 51, 52]));
      ids.forEach((id) => seen.add(id));
      rotation = nextRotation;
    }
    expect(seen.size).toBe(100); // every case scored within ⌈97 / 17⌉ = 6 rounds
  });
});

describe('the loop, end to end through the handlers and the trainer thread', () => {
  let tmp: string;
  let session: AppSession;
  const states: LoopStateT[] = [];
  const changes: { reason: string; versionId?: number }[] = [];
  const call = async (channel: string, request: unknown) => {
    const result = await dispatch(createHandlers(session), channel, request, { transport: 'websocket' });
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
    return result.value as never;
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-loop-'));
    session = new AppSession('reader');
    session.createWorkspace(path.join(tmp, 'ws'));
    await session.importPaths([path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images')], false);
    session.events.subscribe((event, payload) => {
      if (event === 'loop.state') states.push(payload as LoopStateT);
      if (event === 'worklist.changed') changes.push(payload as { reason: string; versionId?: number });
    });
  });

  afterAll(async () => {
    await session.training.close();
    session.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('says what it waits for, starts the first run by itself, then scores the unlabelled cases and suggests', async () => {
    const ws = session.requireWorkspace();
    const task = ws.tasks.create({ name: 'referable', kind: 'multiclass', classes: ['no', 'yes'] });
    ws.tasks.updateSettings(task.id, { loop: { firstRunAt: 8, every: 100, suggestCount: 5, strategy: 'entropy' } });
    expect(((await call('loop.status', {})) as LoopStateT).message).toMatch(/import a backbone/);
    await call('backbones.import', { file: path.join(PARITY_DIR, 'backbone-timm.safetensors'), name: 'tiny' });
    const cases = ws.listCases({ limit: 100 }).items;
    const done = new Promise<void>((resolve) => {
      const off = session.events.subscribe((event, payload) => {
        if (event === 'worklist.changed' && (payload as { reason: string }).reason === 'suggestions') {
          off();
          resolve();
        }
      });
    });
    for (const [i, c] of cases.slice(0, 7).entries()) await call('labels.set', { caseId: c.id, taskId: task.id, value: i % 2 ? 'yes' : 'no' });
    expect((await call('train.runs', {})) as unknown[]).toHaveLength(0);
    expect(((await call('loop.status', {})) as LoopStateT).message).toMatch(/first run starts after 8 labels.*\(7 so far\)/);
    await call('labels.set', { caseId: cases[7].id, taskId: task.id, value: 'yes' });
    const runs = (await call('train.runs', {})) as { id: number }[];
    expect(runs).toHaveLength(1);
    await done;
    const active = ws.versions.active(task.id)!;
    expect(active).toBeDefined();
    expect(changes.map((c) => c.reason)).toEqual(['predictions', 'suggestions']);
    const unlabelled = ws.worklistIds('unlabeled', task.id);
    expect(ws.predictions.list(active.id).map((p) => p.caseId).sort()).toEqual([...unlabelled].sort());
    expect(ws.suggestions.list(task.id)).toHaveLength(5);
    expect(ws.suggestions.list(task.id).every((s) => s.versionId === active.id)).toBe(true);
    expect(states.map((s) => s.phase)).toEqual(expect.arrayContaining(['training', 'scoring', 'suggesting', 'idle']));
    expect(states.find((s) => s.phase === 'scoring')!.message).toMatch(/scoring 12 of 12 unlabelled cases/);
  }, 240_000);

  it('cancels a round superseded by a newer active version; the old suggestions stay and say whose they are', async () => {
    const ws = session.requireWorkspace();
    const task = ws.tasks.list().find((t) => t.name === 'referable')!;
    const v1 = ws.versions.active(task.id)!;
    // Enough unlabelled cases for the round to take several batches, so a newer version arrives mid-round.
    const dir = path.join(tmp, 'more');
    fs.mkdirSync(dir);
    for (let i = 0; i < 160; i++) {
      await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: i, g: 255 - i, b: (i * 7) % 256 } } }).png().toFile(path.join(dir, `more-${i}.png`));
    }
    await session.importPaths([dir], false);
    // The same weights as version 1, kept as a candidate: the user promotes it by hand during the round.
    const v2 = ws.versions.add({ taskId: task.id, backboneId: v1.backboneId ?? undefined, method: v1.method, config: v1.config, weights: { sha256: v1.weightsSha256 }, status: 'candidate' });
    const before = ws.suggestions.list(task.id);
    expect(before.every((x) => x.versionId === v1.id)).toBe(true);
    states.length = 0;
    let promoted: Promise<unknown> | null = null;
    const done = new Promise<void>((resolve) => {
      const off = session.events.subscribe((event, payload) => {
        const p = payload as { taskId: number; phase?: string; done?: number; total?: number; reason?: string; versionId?: number };
        if (event === 'predict.progress' && p.phase === 'predicting' && p.done! < p.total! && !promoted) {
          // Mid-round: version 1's suggestions are still the ones shown.
          expect(ws.suggestions.list(task.id)[0].versionId).toBe(v1.id);
          promoted = call('versions.promote', { versionId: v2.id });
        }
        if (event === 'worklist.changed' && p.reason === 'suggestions' && p.versionId === v2.id) {
          off();
          resolve();
        }
      });
    });
    void session.loop.refresh(ws, task.id, v1.id);
    await done;
    await promoted;
    const cancelled = states.find((x) => /scoring was cancelled/.test(x.message))!;
    expect(cancelled).toMatchObject({ versionId: v1.id, suggestionsVersionId: v1.id });
    expect(cancelled.message).toBe(`version ${v1.id}'s scoring was cancelled: version ${v2.id} is newer; the suggestions shown are version ${v1.id}'s`);
    // Version 1 never finished: none of the new cases has its score; version 2 scored all of them and suggests.
    const unlabelled = ws.worklistIds('unlabeled', task.id);
    const fromV1 = new Set(ws.predictions.list(v1.id).map((x) => x.caseId));
    expect(unlabelled.filter((id) => fromV1.has(id))).toHaveLength(12);
    expect(ws.predictions.list(v2.id).map((x) => x.caseId).sort()).toEqual([...unlabelled].sort());
    expect(ws.suggestions.list(task.id).every((x) => x.versionId === v2.id)).toBe(true);
    expect(states.at(-1)).toMatchObject({ phase: 'idle', suggestionsVersionId: v2.id });
  }, 240_000);

  it('after a first version kept as a candidate it waits for new labels, says so, then trains again from scratch', async () => {
    const ws = session.requireWorkspace();
    const task = ws.tasks.create({ name: 'candidate-first', kind: 'multiclass', classes: ['no', 'yes'] });
    ws.tasks.updateSettings(task.id, { loop: { firstRunAt: 4, every: 3 } });
    const cases = ws.listCases({ taskId: task.id, limit: 10 }).items;
    for (const [i, c] of cases.slice(0, 4).entries()) ws.labels.set({ caseId: c.id, taskId: task.id, value: i % 2 ? 'yes' : 'no', author: 'reader' });
    // What a run at chance leaves: a candidate, no active version (the job it ran is in its config).
    const job = parseTrainJob({ taskId: task.id, backboneId: ws.versions.backbones()[0].id, adapter: { method: 'linear' }, epochs: 1, grid: true });
    const candidate = ws.versions.add({ taskId: task.id, method: 'linear', weights: new Uint8Array([1]), config: { train: job }, metrics: { promotion: { promoted: false, atChance: true } }, status: 'candidate' });
    expect(ws.versions.active(task.id)).toBeUndefined();
    const status = async () => (await call('loop.status', { taskId: task.id })) as LoopStateT;
    expect(await status()).toMatchObject({
      phase: 'waiting',
      message: `no active version (version ${candidate.id} is a candidate, at chance: promote it on the Training screen, or label on); the next run starts after 3 new labels (0 so far)`,
    });
    const runsBefore = ((await call('train.runs', {})) as unknown[]).length;
    await call('labels.set', { caseId: cases[4].id, taskId: task.id, value: 'yes' });
    await call('labels.set', { caseId: cases[5].id, taskId: task.id, value: 'no' });
    expect(((await call('train.runs', {})) as unknown[]).length).toBe(runsBefore);
    expect((await status()).message).toMatch(/\(2 so far\)$/);
    await call('labels.set', { caseId: cases[6].id, taskId: task.id, value: 'yes' });
    const runs = (await call('train.runs', {})) as { id: number; taskId: number; method: string }[];
    expect(runs.length).toBe(runsBefore + 1);
    expect(runs[0]).toMatchObject({ taskId: task.id, method: 'linear' });
    // The job the candidate ran, from scratch (no warm start from a version at chance) and without its grid.
    expect(ws.runs.get(runs[0].id).config).toMatchObject({ warmStart: 'none', adapter: { method: 'linear' }, epochs: 1, grid: false });
    await session.training.for(ws).waitForRun(runs[0].id);
  }, 240_000);

  it('drops a queued prediction whose signal aborts', async () => {
    const ws = session.requireWorkspace();
    const task = ws.tasks.list().find((t) => t.name === 'referable')!;
    const controller = new AbortController();
    controller.abort();
    await expect(session.training.for(ws).predict({ taskId: task.id, caseIds: [1] }, { signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' });
  });
});
