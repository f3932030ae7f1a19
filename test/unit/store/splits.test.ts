import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { executeSuggest } from '../../../core/active/suggest-run';
import { dispatch } from '../../../core/api/dispatch';
import { createHandlers } from '../../../core/app/handlers';
import { AppSession } from '../../../core/app/session';
import { Workspace } from '../../../core/store';
import { databaseOf } from '../../../core/store/workspace';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A workspace with n synthetic cases (no files needed: records only). */
function workspace(n: number): { ws: Workspace; ids: number[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-splits-'));
  dirs.push(dir);
  return withCases(Workspace.create(path.join(dir, 'ws')), n);
}

function withCases(ws: Workspace, n: number): { ws: Workspace; ids: number[] } {
  const sha = ws.blobs.writeFile(Buffer.from('x'));
  const ids = ws.insertImportRecords(
    Array.from({ length: n }, (_, i) => ({
      source: `/data/img-${i}.png`,
      sha256: sha,
      size: 1,
      kind: 'photo' as const,
      format: 'png',
      displayName: `img-${i}.png`,
      patient: {},
      study: { uid: `1.2.3.1.${i}` },
      series: { uid: `1.2.3.2.${i}` },
      instance: { sopInstanceUid: `1.2.3.3.${i}` },
      frameCount: 1,
    })),
  );
  return { ws, ids };
}

describe('per-task splits', () => {
  it('assigns each newly labelled case stratified by class, fixed once assigned', () => {
    const { ws, ids } = workspace(100);
    const task = ws.tasks.create({ name: 'grade', kind: 'multiclass', classes: ['a', 'b'] });
    // 80 cases of a, 20 of b: each class keeps about 20 % in validation from the first labels on.
    ids.forEach((caseId, i) => ws.labels.set({ caseId, taskId: task.id, value: i < 80 ? 'a' : 'b', author: 't' }));
    const splits = ws.splits.forTask(task.id);
    const valOf = (cls: string) => [...splits.values()].filter((s) => s.stratum === cls && s.split === 'val').length;
    expect(valOf('a')).toBe(16);
    expect(valOf('b')).toBe(4);
    expect(ws.splits.counts(task.id)).toEqual({ train: 80, val: 20, test: 0 });
    // Relabelling a case does not move it.
    const before = ws.splits.get(task.id, ids[2]);
    ws.labels.set({ caseId: ids[2], taskId: task.id, value: 'b', author: 't' });
    expect(ws.splits.get(task.id, ids[2])).toEqual(before);
  });

  it('holds out a test share when the task asks for one, and a user assignment wins', () => {
    const { ws, ids } = workspace(40);
    const task = ws.tasks.create({ name: 'dr', kind: 'ordinal', classes: ['0', '1'] });
    ws.tasks.updateSettings(task.id, { splitFractions: { val: 0.2, test: 0.25 } });
    ws.splits.assign(task.id, [ids[0]], 'test');
    ids.forEach((caseId) => ws.labels.set({ caseId, taskId: task.id, value: '0', author: 't' }));
    expect(ws.splits.get(task.id, ids[0])).toMatchObject({ split: 'test', source: 'user' });
    expect(ws.splits.counts(task.id)).toEqual({ train: 22, val: 8, test: 10 });
    expect(() => ws.tasks.updateSettings(task.id, { splitFractions: { val: 0.5, test: 0.5 } })).toThrow(/leave cases for training/);
  });

  it('keeps the import-time split of cases labelled before the migration', () => {
    const { ws, ids } = workspace(10);
    const task = ws.tasks.create({ name: 'old', kind: 'multiclass', classes: ['x', 'y'] });
    ws.labels.set({ caseId: ids[0], taskId: task.id, value: 'x', author: 't' });
    const db = databaseOf(ws);
    // What the V3 migration does for labels written by an older MedTune.
    db.prepare('DELETE FROM task_splits').run();
    db.prepare(
      `INSERT INTO task_splits (task_id, case_id, split, source, stratum, assigned_at)
       SELECT cl.task_id, cl.case_id, c.split, 'import', cl.value_text, cl.updated_at FROM current_labels cl JOIN cases c ON c.id = cl.case_id`,
    ).run();
    const hashSplit = (db.prepare('SELECT split FROM cases WHERE id = ?').get(ids[0]) as { split: string }).split;
    expect(ws.splits.get(task.id, ids[0])).toMatchObject({ split: hashSplit, source: 'import', stratum: 'x' });
  });
});

describe('holding cases out for test from the worklist (splits.set)', () => {
  it('moves a selection to test and back to the pool; test cases are never suggested', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-holdout-'));
    dirs.push(dir);
    const session = new AppSession('reader');
    const events: { event: string; payload: unknown }[] = [];
    session.events.subscribe((event, payload) => events.push({ event, payload }));
    try {
      session.createWorkspace(path.join(dir, 'ws'));
      const { ws, ids } = withCases(session.requireWorkspace(), 12);
      const task = ws.tasks.create({ name: 'dr', kind: 'multiclass', classes: ['a', 'b'] });
      ws.tasks.updateSettings(task.id, { loop: { enabled: false } });
      const call = async (request: unknown) => {
        const result = await dispatch(createHandlers(session), 'splits.set', request, { transport: 'websocket' });
        if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
        return result.value as { changed: number[]; counts: Record<string, number> };
      };
      // Two labelled cases (one in each class) and two unlabelled ones, the first two of them suggested.
      ws.labels.set({ caseId: ids[0], taskId: task.id, value: 'a', author: 't' });
      ws.labels.set({ caseId: ids[1], taskId: task.id, value: 'b', author: 't' });
      ws.suggestions.replace({ taskId: task.id, strategy: 'random', items: [ids[2], ids[3], ids[4]].map((caseId, i) => ({ caseId, score: 3 - i })) });

      const held = await call({ taskId: task.id, caseIds: [ids[0], ids[2], ids[3]], split: 'test' });
      expect(held.changed).toEqual([ids[0], ids[2], ids[3]]);
      expect(held.counts).toEqual({ train: 1, val: 0, test: 3 });
      expect(events.filter((e) => e.event === 'worklist.changed').map((e) => e.payload)).toEqual([{ taskId: task.id, reason: 'splits' }]);
      // They leave the suggestions at once, show their split in the worklist, and no strategy offers them.
      expect(ws.suggestions.list(task.id).map((s) => s.caseId)).toEqual([ids[4]]);
      const rows = new Map(ws.listCases({ taskId: task.id }).items.map((r) => [r.id, r]));
      expect([ids[0], ids[1], ids[2], ids[5]].map((id) => rows.get(id)!.taskSplit)).toEqual(['test', 'train', 'test', undefined]);
      const suggested = executeSuggest(ws, { taskId: task.id, strategy: 'random', count: 100, seed: 1 }).suggested.map((s) => s.caseId);
      expect(suggested).toHaveLength(ids.length - 2 - 2);
      expect(suggested).not.toContain(ids[2]);
      expect(suggested).not.toContain(ids[3]);
      // Holding out again changes nothing; labelling a held-out case keeps it in test.
      expect((await call({ taskId: task.id, caseIds: [ids[2]], split: 'test' })).changed).toEqual([]);
      ws.labels.set({ caseId: ids[2], taskId: task.id, value: 'b', author: 't' });
      expect(ws.splits.get(task.id, ids[2])).toMatchObject({ split: 'test', source: 'user', stratum: 'b' });

      // Back to the pool: labelled cases are placed again by the rule (never in test), unlabelled ones have no split.
      const back = await call({ taskId: task.id, caseIds: [ids[0], ids[1], ids[2], ids[3]], split: 'pool' });
      expect(back.changed).toEqual([ids[0], ids[2], ids[3]]);
      expect(ws.splits.get(task.id, ids[0])).toMatchObject({ source: 'auto', stratum: 'a' });
      expect(ws.splits.get(task.id, ids[0])!.split).not.toBe('test');
      expect(ws.splits.get(task.id, ids[2])!.split).not.toBe('test');
      expect(ws.splits.get(task.id, ids[3])).toBeUndefined();
      expect(back.counts.test).toBe(0);
      expect(executeSuggest(ws, { taskId: task.id, strategy: 'random', count: 100, seed: 1 }).suggested.map((s) => s.caseId)).toContain(ids[3]);

      const bad = await dispatch(createHandlers(session), 'splits.set', { taskId: task.id, caseIds: [99_999], split: 'test' }, { transport: 'websocket' });
      expect(bad.ok).toBe(false);
      expect(ws.splits.counts(task.id).test).toBe(0); // nothing half-written
    } finally {
      session.dispose();
    }
  });
});
