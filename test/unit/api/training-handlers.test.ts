import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../core/api/dispatch';
import type { RunEventT } from '../../../core/api/training-contract';
import { createHandlers } from '../../../core/app/handlers';
import { AppSession } from '../../../core/app/session';
import { FUNDUS_DIR, PARITY_DIR } from '../../helpers/paths';

let tmp: string;
let session: AppSession;
const handlers = () => createHandlers(session);
const call = async (channel: string, request: unknown) => {
  const result = await dispatch(handlers(), channel, request, { transport: 'websocket' });
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as never;
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-train-api-'));
  session = new AppSession('tester');
  session.createWorkspace(path.join(tmp, 'ws'));
  await session.importPaths([path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images')], false);
  const ws = session.requireWorkspace();
  const task = ws.tasks.create({ name: 'referable', kind: 'multiclass', classes: ['no', 'yes'] });
  // The loop is tested on its own below; here runs, prediction and suggestions are started by hand.
  ws.tasks.updateSettings(task.id, { loop: { enabled: false } });
  const cases = ws.listCases({ limit: 100 }).items;
  ws.labels.setMany(cases.slice(3).map((c, i) => ({ caseId: c.id, taskId: task.id, value: i % 3 ? 'no' : 'yes', author: 'tester' })));
});

afterAll(async () => {
  await session.training.close();
  session.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('training channels over dispatch', () => {
  it('imports a backbone and reports its config, parameter count and hash', async () => {
    const b = (await call('backbones.import', { file: path.join(PARITY_DIR, 'backbone-timm.safetensors'), name: 'tiny' })) as {
      id: number;
      parameterCount: number;
      weightsSha256: string;
      config: { embedDim: number };
    };
    expect(b.config.embedDim).toBe(48);
    expect(b.parameterCount).toBeGreaterThan(80_000);
    expect(b.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await call('backbones.list', {})).toHaveLength(1);
    const bad = await dispatch(handlers(), 'backbones.import', { file: path.join(tmp, 'missing.safetensors') }, { transport: 'websocket' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/missing\.safetensors/);
  });

  it('starts a run in the trainer thread, streams progress events, and lists the new version', async () => {
    const events: RunEventT[] = [];
    const finished = new Promise<RunEventT>((resolve) =>
      session.events.subscribe((event, payload) => {
        if (event !== 'train.progress') return;
        const e = payload as RunEventT;
        events.push(e);
        if (e.status !== 'running') resolve(e);
      }),
    );
    const run = (await call('train.start', { method: 'dvpt', epochs: 2, batchSize: 4, bottleneck: 8, numPrompts: 4, share: 2 })) as { id: number; status: string };
    expect(run.status).toBe('queued');
    const end = await finished;
    // The fixture's first version is at chance (a handful of validation cases): kept as a candidate, as it says.
    expect(end).toMatchObject({ status: 'done', runId: run.id, promoted: false });
    expect(end.message).toMatch(/is a candidate: kept as a candidate: the model is at chance/);
    // The reader promotes it by hand; the loop and prediction then use it.
    await call('versions.promote', { versionId: end.versionId });
    expect(events.some((e) => e.phase === 'training')).toBe(true);
    const runs = (await call('train.runs', { withLog: true })) as { id: number; status: string; progress: unknown[] }[];
    expect(runs[0]).toMatchObject({ id: run.id, status: 'done' });
    expect(runs[0].progress.length).toBeGreaterThan(0);
    const versions = (await call('versions.list', {})) as { id: number; status: string; sizeBytes: number; metrics: { selection: unknown } }[];
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ status: 'active', sizeBytes: expect.any(Number) });
    expect(versions[0].metrics.selection).toBeTruthy();
  });

  it('predicts through the trainer and suggests the unlabeled cases', async () => {
    const p = (await call('predict.start', {})) as { predicted: number };
    expect(p.predicted).toBe(20);
    const s = (await call('suggest.run', { strategy: 'entropy', count: 2 })) as { suggested: { rank: number }[]; pool: number };
    expect(s.pool).toBe(3);
    expect(s.suggested.map((x) => x.rank)).toEqual([1, 2]);
    const list = session.requireWorkspace().listCases({ filter: 'suggested', limit: 10 });
    expect(list.total).toBe(2);
  });

  it('starts a warm-started run by itself after N new labels (the learning loop)', async () => {
    const ws = session.requireWorkspace();
    const taskId = ws.tasks.list()[0].id;
    ws.tasks.updateSettings(taskId, { loop: { every: 2 } });
    const finished = new Promise<RunEventT>((resolve) =>
      session.events.subscribe((event, payload) => {
        const e = payload as RunEventT;
        if (event === 'train.progress' && e.status !== 'running') resolve(e);
      }),
    );
    const unlabeled = ws.listCases({ filter: 'unlabeled', taskId, limit: 10 }).items;
    await call('labels.set', { caseId: unlabeled[0].id, taskId, value: 'yes' });
    expect((await call('train.runs', {})) as unknown[]).toHaveLength(1);
    await call('labels.set', { caseId: unlabeled[1].id, taskId, value: 'no' });
    const runs = (await call('train.runs', {})) as { id: number; status: string }[];
    expect(runs).toHaveLength(2);
    expect(['queued', 'running']).toContain(runs[0].status);
    expect((await finished).status).toBe('done');
    const versions = (await call('versions.list', {})) as { parentId?: number }[];
    expect(versions).toHaveLength(2);
    expect(versions.some((v) => v.parentId === 1)).toBe(true);
    ws.tasks.updateSettings(taskId, { loop: { enabled: false } });
  });

  it('refuses bad requests with codes, not crashes', async () => {
    const r = await dispatch(handlers(), 'train.start', { epochs: -1 }, { transport: 'websocket' });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const c = (await call('train.cancel', { runId: 999 })) as { cancelled: boolean };
    expect(c.cancelled).toBe(false);
  });
});
