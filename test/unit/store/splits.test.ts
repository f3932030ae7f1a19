import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
  const ws = Workspace.create(path.join(dir, 'ws'));
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
