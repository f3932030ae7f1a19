import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, Workspace } from '../../../core/store';
import { errorCode, tempDir, tinyDicomSet, writeDicomFiles } from './helpers/fixtures';
import { databaseOf } from '../../../core/store/workspace';

async function workspaceWithCases(count: number, opts: { migrations?: typeof MIGRATIONS } = {}) {
  const root = tempDir();
  writeDicomFiles(path.join(root, 'in'), tinyDicomSet(count, { perSeries: 4 }));
  const dir = path.join(root, 'ws');
  const ws = Workspace.create(dir, opts);
  const caseIds = (await ws.import([path.join(root, 'in')])).caseIds;
  expect(caseIds).toHaveLength(count);
  return { dir, ws, caseIds };
}

const code = errorCode;

describe('review marks', () => {
  it('survive closing and reopening the workspace, per task', async () => {
    const { dir, ws, caseIds } = await workspaceWithCases(4);
    const grade = ws.tasks.create({ name: 'grade', kind: 'multiclass', classes: ['a', 'b'] });
    const other = ws.tasks.create({ name: 'other', kind: 'multiclass', classes: ['x', 'y'] });
    expect(ws.reviewMarks.get(grade.id, caseIds[0])).toEqual({ flagged: false, skipped: false });

    const flagged = ws.reviewMarks.update(grade.id, caseIds[0], { flagged: true, note: '  check the apex  ' }, 'ann');
    expect(flagged).toMatchObject({ flagged: true, skipped: false, note: 'check the apex', author: 'ann' });
    expect(Number.isNaN(Date.parse(flagged.updatedAt ?? ''))).toBe(false);
    ws.reviewMarks.update(grade.id, caseIds[1], { skipped: true }, 'bob');
    ws.close();

    const again = Workspace.open(dir);
    expect(again.reviewMarks.get(grade.id, caseIds[0])).toMatchObject({ flagged: true, skipped: false, note: 'check the apex', author: 'ann' });
    expect(again.reviewMarks.get(grade.id, caseIds[1])).toMatchObject({ flagged: false, skipped: true, author: 'bob' });
    // Marks belong to one task: the same case is unmarked for another.
    expect(again.reviewMarks.get(other.id, caseIds[0])).toEqual({ flagged: false, skipped: false });
    expect(again.reviewMarks.counts(grade.id)).toEqual({ flagged: 1, skipped: 1 });
    expect(again.reviewMarks.caseIds(grade.id, 'flagged')).toEqual([caseIds[0]]);
    again.close();
  });

  it('keeps the note across flag changes, and drops the row once nothing is marked', async () => {
    const { ws, caseIds } = await workspaceWithCases(4);
    const t = ws.tasks.create({ name: 'grade', kind: 'multiclass', classes: ['a', 'b'] });
    const c = caseIds[2];
    ws.reviewMarks.update(t.id, c, { flagged: true, note: 'odd contrast' }, 'ann');
    ws.reviewMarks.update(t.id, c, { skipped: true }, 'ann');
    expect(ws.reviewMarks.update(t.id, c, { flagged: false }, 'bob')).toMatchObject({ flagged: false, skipped: true, note: 'odd contrast', author: 'bob' });
    ws.reviewMarks.update(t.id, c, { skipped: false, note: '' }, 'bob');
    expect(ws.reviewMarks.get(t.id, c)).toEqual({ flagged: false, skipped: false });
    expect((databaseOf(ws).prepare('SELECT count(*) AS n FROM review_marks').get() as { n: number }).n).toBe(0);
    ws.close();
  });

  it('refuses unknown tasks and cases, a missing author and an over-long note', async () => {
    const { ws, caseIds } = await workspaceWithCases(4);
    const t = ws.tasks.create({ name: 'grade', kind: 'multiclass', classes: ['a', 'b'] });
    expect(code(() => ws.reviewMarks.update(999, caseIds[0], { flagged: true }, 'ann'))).toBe('not-found');
    expect(code(() => ws.reviewMarks.update(t.id, 999_999, { flagged: true }, 'ann'))).toBe('not-found');
    expect(code(() => ws.reviewMarks.update(t.id, caseIds[0], { flagged: true }, '  '))).toBe('invalid');
    expect(code(() => ws.reviewMarks.update(t.id, caseIds[0], { note: 'x'.repeat(2001) }, 'ann'))).toBe('invalid');
    expect(ws.reviewMarks.counts(t.id)).toEqual({ flagged: 0, skipped: 0 });
    ws.close();
  });

  it('feed the worklist: flagged and skipped filters and the row marks', async () => {
    const { ws, caseIds } = await workspaceWithCases(8);
    const t = ws.tasks.create({ name: 'grade', kind: 'multiclass', classes: ['a', 'b'] });
    const other = ws.tasks.create({ name: 'other', kind: 'multiclass', classes: ['x', 'y'] });
    ws.reviewMarks.update(t.id, caseIds[5], { flagged: true }, 'ann');
    ws.reviewMarks.update(t.id, caseIds[1], { flagged: true, skipped: true }, 'ann');
    ws.reviewMarks.update(t.id, caseIds[3], { skipped: true }, 'ann');
    ws.reviewMarks.update(other.id, caseIds[7], { flagged: true }, 'ann');

    const flagged = ws.listCases({ taskId: t.id, filter: 'flagged' });
    expect(flagged.total).toBe(2);
    expect(flagged.items.map((c) => [c.id, c.flagged, c.skipped])).toEqual([
      [caseIds[1], true, true],
      [caseIds[5], true, false],
    ]);
    expect(ws.listCases({ taskId: t.id, filter: 'skipped' }).items.map((c) => c.id)).toEqual([caseIds[1], caseIds[3]]);
    expect(ws.listCases({ taskId: other.id, filter: 'flagged' }).items.map((c) => c.id)).toEqual([caseIds[7]]);
    // The default task is the first one; unmarked rows say so.
    const all = ws.listCases({ limit: 8 }).items;
    expect(all.filter((c) => c.flagged).map((c) => c.id)).toEqual([caseIds[1], caseIds[5]]);
    expect(all.find((c) => c.id === caseIds[0])).toMatchObject({ flagged: false, skipped: false });
    // Search narrows the filter like the others.
    expect(ws.listCases({ taskId: t.id, filter: 'flagged', search: 'no such patient' }).total).toBe(0);
    ws.close();
  });
});

describe('schema v2 migration', () => {
  it('adds review_marks to a version-1 workspace with data, keeping its cases and labels', async () => {
    const { dir, ws, caseIds } = await workspaceWithCases(4, { migrations: MIGRATIONS.slice(0, 1) });
    expect(ws.info().schemaVersion).toBe(1);
    const t = ws.tasks.create({ name: 'grade', kind: 'multiclass', classes: ['a', 'b'] });
    // Written as a version-1 MedTune wrote labels (today's service also assigns a split, a later table).
    databaseOf(ws)
      .prepare(
        `INSERT INTO label_events (case_id, task_id, value, value_text, author, source, state_event_id, prev_state_event_id, created_at)
         VALUES (?, ?, '"b"', 'b', 'ann', 'human', NULL, NULL, ?)`,
      )
      .run(caseIds[0], t.id, new Date().toISOString());
    expect(databaseOf(ws).prepare(`SELECT name FROM sqlite_master WHERE name = 'review_marks'`).get()).toBeUndefined();
    ws.close();

    const migrated = Workspace.open(dir);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect(migrated.info()).toMatchObject({ schemaVersion: SCHEMA_VERSION, caseCount: 4 });
    expect(migrated.migrationBackup && fs.existsSync(migrated.migrationBackup)).toBe(true);
    expect(migrated.labels.current(caseIds[0], t.id)).toMatchObject({ value: 'b', author: 'ann' });
    expect(migrated.listCases({ taskId: t.id, filter: 'labeled' }).items.map((c) => c.id)).toEqual([caseIds[0]]);
    // V3: the label written before keeps the split the case had at import.
    expect(migrated.splits.get(t.id, caseIds[0])).toMatchObject({ source: 'import', stratum: 'b' });

    migrated.reviewMarks.update(t.id, caseIds[2], { flagged: true }, 'ann');
    migrated.close();
    const reopened = Workspace.open(dir);
    expect(reopened.migrationBackup).toBeUndefined();
    expect(reopened.listCases({ taskId: t.id, filter: 'flagged' }).items.map((c) => c.id)).toEqual([caseIds[2]]);
    // Foreign keys hold like the labels table's: a mark cannot point at a case that does not exist.
    expect(() =>
      databaseOf(reopened).prepare(`INSERT INTO review_marks (task_id, case_id, flagged, author, updated_at) VALUES (?, 999999, 1, 'x', 'now')`).run(t.id),
    ).toThrow(/FOREIGN KEY/);
    reopened.close();
  });
});
