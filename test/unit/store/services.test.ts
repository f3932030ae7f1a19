import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Workspace, WorkspaceError } from '../../../core/store';
import { errorCode, tempDir, tinyDicomSet, writeDicomFiles } from './helpers/fixtures';
import { databaseOf } from '../../../core/store/workspace';

let ws: Workspace;
let caseIds: number[];

beforeEach(async () => {
  const root = tempDir();
  writeDicomFiles(path.join(root, 'in'), tinyDicomSet(12, { perSeries: 4 }));
  ws = Workspace.create(path.join(root, 'ws'));
  caseIds = (await ws.import([path.join(root, 'in')])).caseIds;
  expect(caseIds).toHaveLength(12);
  return () => ws.close();
});

const code = errorCode;

describe('tasks', () => {
  it('fills in colours and hotkeys, and validates classes', () => {
    const t = ws.tasks.create({ name: 'DR grade', kind: 'ordinal', classes: ['0', '1', { name: '2', color: '#FF0000', hotkey: 'q' }] });
    expect(t.classes).toEqual([
      { name: '0', color: '#0072b2', hotkey: '1' },
      { name: '1', color: '#e69f00', hotkey: '2' },
      { name: '2', color: '#ff0000', hotkey: 'q' },
    ]);
    expect(ws.tasks.byName('DR grade')?.id).toBe(t.id);
    expect(code(() => ws.tasks.create({ name: 'DR grade', kind: 'multiclass', classes: ['a', 'b'] }))).toBe('conflict');
    expect(code(() => ws.tasks.create({ name: 'x', kind: 'multiclass', classes: ['a'] }))).toBe('invalid');
    expect(code(() => ws.tasks.create({ name: 'y', kind: 'multiclass', classes: ['a', 'a'] }))).toBe('invalid');
    expect(code(() => ws.tasks.create({ name: 'z', kind: 'bogus' as never, classes: ['a', 'b'] }))).toBe('invalid');
    expect(code(() => ws.tasks.create({ name: 'w', kind: 'multiclass', classes: [{ name: 'a', color: 'red' }, 'b'] }))).toBe('invalid');
    expect(ws.tasks.addClasses(t.id, ['3']).classes.map((c) => c.name)).toEqual(['0', '1', '2', '3']);
  });
});

describe('labels', () => {
  it('keeps an append-only history with a current label, and undo walks back', () => {
    const task = ws.tasks.create({ name: 'finding', kind: 'multiclass', classes: ['normal', 'nodule', 'mass'] });
    const c = caseIds[0];
    ws.labels.set({ caseId: c, taskId: task.id, value: 'normal', author: 'ann' });
    ws.labels.set({ caseId: c, taskId: task.id, value: 'nodule', author: 'bob' });
    ws.labels.set({ caseId: c, taskId: task.id, value: 'mass', author: 'ann' });
    expect(ws.labels.current(c, task.id)).toMatchObject({ value: 'mass', author: 'ann', source: 'human' });

    expect(ws.labels.undo(c, task.id, 'ann')?.value).toBe('nodule');
    expect(ws.labels.current(c, task.id)?.value).toBe('nodule');
    expect(ws.labels.undo(c, task.id, 'ann')?.value).toBe('normal');
    const cleared = ws.labels.undo(c, task.id, 'ann');
    expect(cleared?.value).toBeNull();
    expect(ws.labels.current(c, task.id)).toBeUndefined();
    expect(ws.labels.undo(c, task.id, 'ann')).toBeUndefined();

    // A new label after undos continues from the restored state.
    ws.labels.set({ caseId: c, taskId: task.id, value: 'nodule', author: 'ann' });
    expect(ws.labels.undo(c, task.id, 'ann')?.value).toBeNull();

    const history = ws.labels.history(c, task.id);
    expect(history.map((e) => e.value)).toEqual(['normal', 'nodule', 'mass', 'nodule', 'normal', null, 'nodule', null]);
    expect(history.filter((e) => e.undoOf !== undefined)).toHaveLength(4);
    expect(() => databaseOf(ws).prepare('UPDATE label_events SET author = ?').run('mallory')).toThrow(/append-only/);
    expect(() => databaseOf(ws).prepare('DELETE FROM label_events').run()).toThrow(/append-only/);
  });

  it('validates values per task kind and orders multilabel values', () => {
    const mc = ws.tasks.create({ name: 'mc', kind: 'multiclass', classes: ['a', 'b'] });
    const ml = ws.tasks.create({ name: 'ml', kind: 'multilabel', classes: ['x', 'y', 'z'] });
    const seg = ws.tasks.create({ name: 'seg', kind: 'segmentation', classes: ['vessel'] });
    const c = caseIds[1];
    expect(code(() => ws.labels.set({ caseId: c, taskId: mc.id, value: 'c', author: 'a' }))).toBe('invalid');
    expect(code(() => ws.labels.set({ caseId: 99999, taskId: mc.id, value: 'a', author: 'a' }))).toBe('not-found');
    expect(code(() => ws.labels.set({ caseId: c, taskId: mc.id, value: 'a', author: ' ' }))).toBe('invalid');
    expect(code(() => ws.labels.set({ caseId: c, taskId: mc.id, value: 'a', author: 'a', source: 'accepted-suggestion' }))).toBe('invalid');
    expect(ws.labels.set({ caseId: c, taskId: ml.id, value: ['z', 'x'], author: 'a' }).value).toEqual(['x', 'z']);
    expect(ws.labels.current(c, ml.id)?.valueText).toBe('x, z');
    expect(code(() => ws.labels.set({ caseId: c, taskId: ml.id, value: ['x', 'w'], author: 'a' }))).toBe('invalid');
    const mask = ws.blobs.put(new Uint8Array(64));
    expect(ws.labels.set({ caseId: c, taskId: seg.id, value: { maskSha256: mask, rows: 8, columns: 8 }, author: 'a' }).value).toEqual({
      maskSha256: mask,
      rows: 8,
      columns: 8,
    });
    expect(code(() => ws.labels.set({ caseId: c, taskId: seg.id, value: 'vessel', author: 'a' }))).toBe('invalid');
  });

  it('writes a batch atomically: one bad label leaves nothing written', () => {
    const t = ws.tasks.create({ name: 'mc', kind: 'multiclass', classes: ['a', 'b'] });
    expect(() =>
      ws.labels.setMany([
        { caseId: caseIds[0], taskId: t.id, value: 'a', author: 'x' },
        { caseId: caseIds[1], taskId: t.id, value: 'nope', author: 'x' },
      ]),
    ).toThrow(WorkspaceError);
    expect(ws.labels.counts(t.id).total).toBe(0);
    ws.labels.setMany(caseIds.slice(0, 5).map((caseId, i) => ({ caseId, taskId: t.id, value: i % 2 ? 'b' : 'a', author: 'x' })));
    expect(ws.labels.counts(t.id)).toEqual({ total: 5, byClass: { a: 3, b: 2 } });
  });
});

describe('adapter versions', () => {
  it('keeps exactly one active version per task through add, promote and rollback', () => {
    const t = ws.tasks.create({ name: 'mc', kind: 'multiclass', classes: ['a', 'b'] });
    ws.labels.set({ caseId: caseIds[0], taskId: t.id, value: 'a', author: 'x' });
    const bb = ws.versions.addBackbone({ name: 'vit-tiny', arch: 'vit', config: { depth: 12 }, weights: new Uint8Array([1, 2, 3]) });
    const v1 = ws.versions.add({ taskId: t.id, backboneId: bb.id, method: 'dvpt', weights: new Uint8Array([1, 1, 1]), metrics: { kappa: 0.5 } });
    expect(v1.status).toBe('active');
    expect(v1.labelSnapshot).toMatchObject({ labelCount: 1, byClass: { a: 1 } });
    const v2 = ws.versions.add({ taskId: t.id, parentId: v1.id, method: 'dvpt', weights: new Uint8Array([2, 2, 2]) });
    expect(v2.status).toBe('candidate');
    const v3 = ws.versions.add({ taskId: t.id, parentId: v2.id, method: 'ept', weights: new Uint8Array([3]), status: 'active' });
    expect(ws.versions.get(v1.id).status).toBe('archived');
    expect(ws.versions.active(t.id)?.id).toBe(v3.id);

    ws.versions.promote(v2.id);
    expect(ws.versions.active(t.id)?.id).toBe(v2.id);
    expect(ws.versions.rollback(t.id).id).toBe(v3.id);
    expect(ws.versions.rollback(t.id).id).toBe(v1.id);
    expect(code(() => ws.versions.rollback(t.id))).toBe('not-found');
    expect(ws.versions.list(t.id).filter((v) => v.status === 'active')).toHaveLength(1);

    expect(code(() => ws.versions.archive(v1.id))).toBe('conflict');
    expect(ws.versions.archive(v2.id).status).toBe('archived');
    expect([...ws.versions.weights(v3.id)]).toEqual([3]);
    // The database itself refuses a second active version.
    expect(() => databaseOf(ws).prepare(`UPDATE adapter_versions SET status = 'active' WHERE id = ?`).run(v2.id)).toThrow(/UNIQUE/);
  });

  it("makes a task's first version active unless told otherwise: a candidate asked for stays one", () => {
    const t = ws.tasks.create({ name: 'first', kind: 'multiclass', classes: ['a', 'b'] });
    const kept = ws.versions.add({ taskId: t.id, method: 'dvpt', weights: new Uint8Array([4]), status: 'candidate' });
    expect(kept.status).toBe('candidate');
    expect(ws.versions.active(t.id)).toBeUndefined();
    expect(ws.versions.add({ taskId: t.id, method: 'dvpt', weights: new Uint8Array([5]) }).status).toBe('active');
  });
});

describe('training runs', () => {
  it('moves through its states, appends progress and refuses bad transitions', () => {
    const t = ws.tasks.create({ name: 'mc', kind: 'multiclass', classes: ['a', 'b'] });
    const run = ws.runs.create({ taskId: t.id, method: 'dvpt', config: { epochs: 3 } });
    expect(run.status).toBe('queued');
    expect(code(() => ws.runs.progress(run.id, { epoch: 1 }))).toBe('conflict');
    ws.runs.start(run.id, 'cpu');
    ws.runs.progress(run.id, { epoch: 1, loss: 0.9 });
    ws.runs.progress(run.id, { epoch: 2, loss: 0.5 });
    const v = ws.versions.add({ taskId: t.id, method: 'dvpt', weights: new Uint8Array([9]), trainRunId: run.id });
    const done = ws.runs.finish(run.id, v.id);
    expect(done).toMatchObject({ status: 'done', backend: 'cpu', resultVersionId: v.id });
    expect(done.progress.map((p) => p.loss)).toEqual([0.9, 0.5]);
    expect(done.startedAt && done.finishedAt).toBeTruthy();
    expect(code(() => ws.runs.cancel(run.id))).toBe('conflict');

    const r2 = ws.runs.create({ taskId: t.id });
    ws.runs.start(r2.id, 'wasm');
    expect(ws.runs.list(t.id).map((r) => r.id)).toEqual([r2.id, run.id]);
  });
});

describe('training run owners and liveness', () => {
  /** The PID of a process that has just exited (and been reaped). */
  function deadPid(): number {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    return Number(child.stdout);
  }

  it('records the owner and heartbeat, and fails only runs whose owner process is gone or silent', () => {
    const t = ws.tasks.create({ name: 'mc', kind: 'multiclass', classes: ['a', 'b'] });
    const mine = ws.runs.create({ taskId: t.id });
    expect(mine.owner).toEqual({ pid: process.pid, host: os.hostname() });
    expect(mine.heartbeatAt).toBeTruthy();
    ws.runs.start(mine.id, 'cpu');
    ws.runs.setLive(mine.id, { phase: 'training', fraction: 0.5, epoch: 2, epochs: 4, message: 'step' });
    expect(ws.runs.get(mine.id).live).toEqual({ phase: 'training', fraction: 0.5, epoch: 2, epochs: 4, message: 'step' });

    const pid = deadPid();
    const orphan = ws.runs.create({ taskId: t.id, owner: { pid, host: os.hostname() } });
    ws.runs.start(orphan.id, 'cpu');
    const queuedOrphan = ws.runs.create({ taskId: t.id, owner: { pid, host: os.hostname() } });
    // Another host's run: its PID means nothing here, only its heartbeat counts.
    const remote = ws.runs.create({ taskId: t.id, owner: { pid, host: 'another-workstation' } });

    const failed = ws.runs.failOrphaned();
    expect(failed.map((r) => r.id).sort()).toEqual([orphan.id, queuedOrphan.id].sort());
    expect(ws.runs.get(orphan.id)).toMatchObject({ status: 'failed', error: `the process that ran it (pid ${pid}) stopped` });
    expect(ws.runs.get(queuedOrphan.id)).toMatchObject({ status: 'failed', error: `the process that queued it (pid ${pid}) stopped` });
    expect(ws.runs.get(mine.id).status).toBe('running');
    expect(ws.runs.get(remote.id).status).toBe('queued');

    // Two minutes on without a heartbeat, any owner counts as gone (a hung process, a PID reused).
    const later = Date.now() + 120_000;
    const silent = ws.runs.failOrphaned({ nowMs: later });
    expect(silent.map((r) => r.id).sort()).toEqual([mine.id, remote.id].sort());
    expect(ws.runs.get(remote.id).error).toMatch(new RegExp(`^the process that queued it \\(pid ${pid} on another-workstation\\) stopped responding: no heartbeat for 1[12]\\d s$`));
    // Ended runs stay as they are.
    expect(ws.runs.failOrphaned({ nowMs: later })).toEqual([]);
  });

  it('fails runs recorded before runs had owners, as the app did before', () => {
    const t = ws.tasks.create({ name: 'mc', kind: 'multiclass', classes: ['a', 'b'] });
    const run = ws.runs.create({ taskId: t.id });
    ws.runs.start(run.id, 'cpu');
    databaseOf(ws).prepare('UPDATE train_runs SET owner_pid = NULL, owner_host = NULL, heartbeat_at = NULL WHERE id = ?').run(run.id);
    expect(ws.runs.failOrphaned().map((r) => r.id)).toEqual([run.id]);
    expect(ws.runs.get(run.id).error).toBe('interrupted (the app stopped during training)');
  });

  it('data_version moves when another connection commits, not on its own writes', () => {
    const t = ws.tasks.create({ name: 'mc', kind: 'multiclass', classes: ['a', 'b'] });
    const v0 = ws.runs.dataVersion();
    ws.runs.create({ taskId: t.id });
    expect(ws.runs.dataVersion()).toBe(v0);
    const other = Workspace.open(ws.dir);
    try {
      other.runs.create({ taskId: t.id });
    } finally {
      other.close();
    }
    expect(ws.runs.dataVersion()).not.toBe(v0);
  });
});

describe('predictions, suggestions and the worklist', () => {
  it('filters, sorts and searches cases', () => {
    const t = ws.tasks.create({ name: 'mc', kind: 'multiclass', classes: ['a', 'b'] });
    const v = ws.versions.add({ taskId: t.id, method: 'dvpt', weights: new Uint8Array([1]) });
    ws.predictions.put(
      v.id,
      caseIds.map((caseId, i) => ({ caseId, probabilities: i % 3 === 0 ? [0.9, 0.1] : [0.4, 0.6], embedding: new Float32Array([i, 1]) })),
    );
    expect(ws.predictions.get(v.id, caseIds[0])).toMatchObject({ predicted: 'a', confidence: 0.9 });
    expect(ws.predictions.get(v.id, caseIds[0])?.uncertainty).toBeCloseTo(0.1);
    expect([...(ws.predictions.embedding(v.id, caseIds[3]) ?? [])]).toEqual([3, 1]);
    // Many at once, as the one-by-one reads give them (two cases sharing a blob); cases without one are absent.
    const v2 = ws.versions.add({ taskId: t.id, method: 'dvpt', weights: new Uint8Array([2]) });
    ws.predictions.put(v2.id, [caseIds[0], caseIds[1], caseIds[3]].map((caseId) => ({ caseId, probabilities: [0.5, 0.5], embedding: new Float32Array([caseId === caseIds[0] ? 7 : 3, 1]) })));
    ws.predictions.put(v2.id, [{ caseId: caseIds[2], probabilities: [0.5, 0.5] }]);
    const many = ws.predictions.embeddings(v2.id, [caseIds[1], caseIds[3], caseIds[0], caseIds[2], 999_999]);
    expect([...many.keys()].sort((a, b) => a - b)).toEqual([caseIds[0], caseIds[1], caseIds[3]].sort((a, b) => a - b));
    for (const id of [caseIds[0], caseIds[1], caseIds[3]]) expect([...many.get(id)!]).toEqual([...ws.predictions.embedding(v2.id, id)!]);
    expect([...many.get(caseIds[0])!]).toEqual([7, 1]);
    expect(code(() => ws.blobs.readMany(['0'.repeat(64)]))).toBe('blob-missing');
    expect(code(() => ws.predictions.put(v.id, [{ caseId: caseIds[0], probabilities: [1] }]))).toBe('invalid');

    // Labels: case 0 'a' (agrees), case 1 'a' (model says b: disagrees), case 2 'b'.
    ws.labels.set({ caseId: caseIds[0], taskId: t.id, value: 'a', author: 'x' });
    ws.labels.set({ caseId: caseIds[1], taskId: t.id, value: 'a', author: 'x' });
    ws.labels.set({ caseId: caseIds[2], taskId: t.id, value: 'b', author: 'x' });
    ws.suggestions.replace({ taskId: t.id, strategy: 'entropy', versionId: v.id, items: [
      { caseId: caseIds[5], score: 0.2 },
      { caseId: caseIds[4], score: 0.9, reason: 'most uncertain' },
    ] });
    ws.cases.quarantine(caseIds[11], 'pixels cannot be decoded');

    const list = (q: Parameters<Workspace['listCases']>[0]) => ws.listCases({ taskId: t.id, ...q });
    expect(list({}).total).toBe(11);
    expect(list({ filter: 'labeled' }).items.map((c) => c.label)).toEqual(['a', 'a', 'b']);
    expect(list({ filter: 'unlabeled' }).total).toBe(8);
    expect(list({ filter: 'disagree' }).items.map((c) => c.id)).toEqual([caseIds[1]]);
    expect(list({ filter: 'quarantined' }).items.map((c) => [c.id, c.quarantined])).toEqual([[caseIds[11], true]]);
    const suggested = list({ filter: 'suggested', sort: 'rank' }).items;
    expect(suggested.map((c) => [c.id, c.suggestionRank])).toEqual([[caseIds[4], 1], [caseIds[5], 2]]);
    // A strategy that ranks itself (scores on different scales) keeps its order.
    ws.suggestions.replace({ taskId: t.id, strategy: 'mixed', versionId: v.id, items: [
      { caseId: caseIds[5], score: 0, rank: 1 },
      { caseId: caseIds[4], score: 0.9, rank: 2 },
    ] });
    expect(list({ filter: 'suggested', sort: 'rank' }).items.map((c) => [c.id, c.suggestionRank])).toEqual([[caseIds[5], 1], [caseIds[4], 2]]);
    ws.suggestions.replace({ taskId: t.id, strategy: 'entropy', versionId: v.id, items: [
      { caseId: caseIds[5], score: 0.2 },
      { caseId: caseIds[4], score: 0.9, reason: 'most uncertain' },
    ] });
    const byUncertainty = list({ sort: 'uncertainty', limit: 3 }).items;
    expect(byUncertainty.every((c) => c.predicted === 'b' && c.uncertainty !== undefined && c.uncertainty > 0.3)).toBe(true);
    const page = list({ offset: 4, limit: 4 });
    expect(page).toMatchObject({ total: 11 });
    expect(page.items.map((c) => c.id)).toEqual(caseIds.slice(4, 8));

    const first = list({ limit: 1 }).items[0];
    expect(first).toMatchObject({ kind: 'dicom', patientId: 'PID0000', patientName: 'Doe^Patient0', modality: 'MR', studyDate: '20240115', frameCount: 1 });
    // Cases 8–11 belong to patient 1; case 11 is quarantined.
    expect(list({ search: 'doe^patient1' }).total).toBe(3);
    expect(list({ search: 'PID0000' }).total).toBe(8);
    expect(list({ search: 'acc2' }).items.map((c) => c.id)).toEqual(caseIds.slice(8, 11));
    expect(list({ search: '100%_' }).total).toBe(0);
    expect(code(() => ws.listCases({ taskId: 999 }))).toBe('not-found');
    expect(code(() => ws.listCases({ filter: 'odd' as never }))).toBe('invalid');
  });

  it('assigns every case a fixed split, mostly train', () => {
    const splits = ws.cases.splitCounts();
    expect(splits.train + splits.val).toBe(12);
    const before = ws.cases.all().map((c) => c.split);
    expect(ws.cases.all().map((c) => c.split)).toEqual(before);
  });
});
