import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportLabels, labelProgress, MIGRATIONS, parseCsv, Workspace } from '../../../core/store';
import { databaseOf } from '../../../core/store/workspace';
import { labelTargets, softReadTargets } from '../../../core/train/label-targets';
import { cohenKappa, fleissKappa, percentAgreement } from '../../../core/util/agreement';
import { errorCode, tempDir, tinyDicomSet, writeDicomFiles } from './helpers/fixtures';

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
const awaiting = (ws: Workspace, taskId: number, reader: string) =>
  ws.listCases({ taskId, filter: 'awaiting-my-read', reader, limit: 1000 }).items.map((c) => c.id);

describe('reader profiles', () => {
  it('keep name, role and a PIN stored only as a salted scrypt hash', async () => {
    const { dir, ws } = await workspaceWithCases(1);
    expect(ws.readers.ensureDefault('root')).toMatchObject({ name: 'root', role: 'admin', hasPin: false });
    expect(ws.readers.ensureDefault('root').id).toBe(ws.readers.get('root')!.id);
    ws.readers.add({ name: 'ann', role: 'reader', pin: '1234' });
    ws.readers.add({ name: 'bob', role: 'reviewer', pin: '1234' });
    const hashes = (databaseOf(ws).prepare('SELECT pin_hash FROM readers WHERE pin_hash IS NOT NULL').all() as { pin_hash: string }[]).map((r) => r.pin_hash);
    expect(hashes).toHaveLength(2);
    expect(hashes[0]).toMatch(/^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect(hashes[0]).not.toBe(hashes[1]); // salted: the same PIN hashes differently
    expect(hashes.join()).not.toContain('1234');
    ws.close();
    const again = Workspace.open(dir);
    expect(again.readers.checkPin('ann', '1234')).toBe(true);
    expect(again.readers.checkPin('ann', '4321')).toBe(false);
    expect(again.readers.checkPin('ann', undefined)).toBe(false);
    expect(again.readers.checkPin('root', undefined)).toBe(true);
    expect(again.readers.list().map((r) => `${r.name}:${r.role}`)).toEqual(['root:admin', 'ann:reader', 'bob:reviewer']);
    expect(code(() => again.readers.add({ name: 'ann' }))).toBe('conflict');
    expect(code(() => again.readers.add({ name: 'cy', pin: '12' }))).toBe('invalid');
    expect(code(() => again.readers.add({ name: 'cy', role: 'boss' as never }))).toBe('invalid');
    expect(code(() => again.readers.checkPin('nobody', '1234'))).toBe('not-found');
    again.close();
  });
});

describe('wrong PINs', () => {
  it('lock a profile after five in a row, for 30 s doubling up to 15 min, across a restart; a right PIN or a new PIN clears them', async () => {
    const { dir, ws } = await workspaceWithCases(1);
    ws.readers.add({ name: 'ann', pin: '1234' });
    const t0 = Date.parse('2026-12-02T10:00:00Z');
    const at = (seconds: number) => new Date(t0 + seconds * 1000);
    // Five wrong PINs say how many tries are left; a right one in between resets the count.
    expect([1, 2, 3].map((i) => ws.readers.attemptPin('ann', '0000', at(i)))).toEqual([4, 3, 2].map((attemptsLeft) => ({ ok: false, reason: 'wrong', attemptsLeft })));
    expect(ws.readers.attemptPin('ann', '1234', at(4))).toEqual({ ok: true });
    const wrong = [5, 6, 7, 8, 9].map((i) => ws.readers.attemptPin('ann', '0000', at(i)));
    expect(wrong.map((a) => (a.ok ? 'ok' : a.reason === 'wrong' ? a.attemptsLeft : 'locked'))).toEqual([4, 3, 2, 1, 0]);
    // The sixth locks it for 30 s; while locked even the right PIN is not checked.
    expect(ws.readers.attemptPin('ann', '0000', at(10))).toEqual({ ok: false, reason: 'locked', lockedUntil: at(40).toISOString(), seconds: 30 });
    expect(ws.readers.attemptPin('ann', '1234', at(39))).toMatchObject({ ok: false, reason: 'locked', seconds: 1 });
    ws.close();
    // A restart does not reset it: each further wrong PIN after a lockout doubles the next one.
    const again = Workspace.open(dir);
    expect(again.readers.attemptPin('ann', '1234', at(20))).toMatchObject({ reason: 'locked', seconds: 20 });
    expect(again.readers.attemptPin('ann', '0000', at(41))).toMatchObject({ reason: 'locked', seconds: 60 });
    let t = 41 + 60;
    const locks: number[] = [];
    for (let i = 0; i < 7; i++) {
      const a = again.readers.attemptPin('ann', '0000', at(t));
      if (a.ok || a.reason !== 'locked') throw new Error('expected a lockout');
      locks.push(a.seconds);
      t += a.seconds;
    }
    expect(locks).toEqual([120, 240, 480, 900, 900, 900, 900]);
    // A new PIN (an admin's `medtune readers pin`) ends the lockout; a right PIN then opens and clears the count.
    again.readers.setPin('ann', '5678');
    expect(again.readers.attemptPin('ann', '0000', at(t))).toEqual({ ok: false, reason: 'wrong', attemptsLeft: 4 });
    expect(again.readers.attemptPin('ann', '5678', at(t))).toEqual({ ok: true });
    expect(databaseOf(again).prepare('SELECT pin_failures, pin_locked_until FROM readers WHERE name = ?').get('ann')).toEqual({ pin_failures: 0, pin_locked_until: null });
    // A profile without a PIN opens, whatever is typed.
    expect(again.readers.attemptPin(again.readers.ensureDefault('root').name, '9999')).toEqual({ ok: true });
    expect(code(() => again.readers.attemptPin('nobody', '1234'))).toBe('not-found');
    again.close();
  });

  it('a workspace from before the lockout opens with its profiles and PINs and counts from zero', async () => {
    const { dir, ws } = await workspaceWithCases(1, { migrations: MIGRATIONS.slice(0, 12) });
    ws.readers.add({ name: 'ann', pin: '1234' });
    ws.close();
    const migrated = Workspace.open(dir);
    expect(migrated.readers.attemptPin('ann', '0000')).toEqual({ ok: false, reason: 'wrong', attemptsLeft: 4 });
    expect(migrated.readers.attemptPin('ann', '1234')).toEqual({ ok: true });
    migrated.close();
  });
});

describe('blind double reading', () => {
  async function doubleRead(settings: Record<string, unknown> = {}) {
    const made = await workspaceWithCases(6);
    const { ws } = made;
    const task = ws.tasks.create({ name: 'grade', kind: 'ordinal', classes: ['0', '1', '2'] });
    ws.tasks.updateSettings(task.id, { readsPerCase: 2, ...settings });
    ws.readers.add({ name: 'ann' });
    ws.readers.add({ name: 'bob' });
    ws.readers.add({ name: 'rev', role: 'reviewer' });
    return { ...made, task };
  }

  it('keeps reads blind, writes the consensus only when readers agree, and sends disagreements to the reviewer', async () => {
    const { ws, caseIds, task } = await doubleRead();
    const [c1, c2, c3] = caseIds;
    expect(awaiting(ws, task.id, 'ann')).toEqual(caseIds);
    // A reader's own label on a k = 2 task is a read, never the task's label.
    expect(code(() => ws.labels.set({ caseId: c1, taskId: task.id, value: '1', author: 'ann' }))).toBe('conflict');

    expect(ws.reads.submit({ taskId: task.id, caseId: c1, reader: 'ann', value: '1' }).state).toBe('read');
    // Bob has not read c1: Ann's read is hidden from him, and so is the model.
    expect(ws.reads.view(task.id, c1, 'bob')).toMatchObject({ state: 'read', readCount: 1, others: null, modelVisible: false });
    expect(ws.reads.view(task.id, c1, 'ann')).toMatchObject({ others: [], modelVisible: true, myRead: { value: '1' } });
    expect(ws.labels.current(c1, task.id)).toBeUndefined();
    expect(awaiting(ws, task.id, 'ann')).not.toContain(c1);
    expect(awaiting(ws, task.id, 'bob')).toContain(c1);

    expect(ws.reads.submit({ taskId: task.id, caseId: c1, reader: 'bob', value: '1' }).state).toBe('agreed');
    expect(ws.labels.current(c1, task.id)).toMatchObject({ value: '1', source: 'consensus', author: 'ann + bob' });
    // Progress: the consensus labels, and per reader their reads.
    expect(labelProgress(ws, task.id)).toMatchObject({ labelled: 1, byReader: [{ author: 'ann', labelled: 1 }, { author: 'bob', labelled: 1 }] });
    expect(ws.reads.view(task.id, c1, 'bob').others).toMatchObject([{ reader: 'ann', value: '1' }]);
    // Submitted reads are final, and a complete case takes no third read.
    expect(code(() => ws.reads.submit({ taskId: task.id, caseId: c1, reader: 'ann', value: '2' }))).toBe('conflict');
    expect(code(() => ws.reads.submit({ taskId: task.id, caseId: c1, reader: 'rev', value: '2' }))).toBe('conflict');

    ws.reads.submit({ taskId: task.id, caseId: c2, reader: 'ann', value: '0' });
    expect(ws.reads.submit({ taskId: task.id, caseId: c2, reader: 'bob', value: '2' }).state).toBe('disagreement');
    expect(ws.labels.current(c2, task.id)).toBeUndefined(); // training never sees an unsettled disagreement
    expect(ws.listCases({ taskId: task.id, filter: 'readers-disagree' }).items.map((c) => c.id)).toEqual([c2]);
    expect(ws.labels.currentAll(task.id).map((l) => l.caseId)).toEqual([c1]);

    // Only a reviewer settles it; a reviewer who did not read sees both reads.
    expect(code(() => ws.reads.adjudicate({ taskId: task.id, caseId: c2, reviewer: 'ann', value: '0' }))).toBe('forbidden');
    expect(ws.reads.view(task.id, c2, 'rev').others).toHaveLength(2);
    expect(code(() => ws.reads.adjudicate({ taskId: task.id, caseId: c3, reviewer: 'rev', value: '0' }))).toBe('conflict');
    expect(ws.reads.adjudicate({ taskId: task.id, caseId: c2, reviewer: 'rev', value: '1', note: 'borderline' })).toBe('adjudicated');
    expect(ws.labels.current(c2, task.id)).toMatchObject({ value: '1', source: 'adjudicated', author: 'rev' });
    expect(ws.listCases({ taskId: task.id, filter: 'readers-disagree' }).total).toBe(0);
    expect(ws.reads.accept({ taskId: task.id, caseId: c1, reviewer: 'rev' })).toBe('accepted');
    expect(ws.reads.reject({ taskId: task.id, caseId: c2, reviewer: 'rev', note: 'ungradable' })).toBe('rejected');
    expect(ws.labels.current(c2, task.id)).toBeUndefined();

    expect(ws.reads.history(task.id, c2).map((h) => `${h.from}>${h.to}:${h.actor}`)).toEqual([
      'unread>read:ann', 'read>disagreement:bob', 'disagreement>adjudicated:rev', 'adjudicated>rejected:rev',
    ]);
    expect(ws.reads.history(task.id, c2)[2].note).toBe('borderline');
    expect(ws.reads.stateCounts(task.id)).toEqual({ accepted: 1, rejected: 1 });
    // The history and the reads are append-only.
    expect(() => databaseOf(ws).prepare('DELETE FROM case_state_history').run()).toThrow(/append-only/);
    expect(() => databaseOf(ws).prepare(`UPDATE read_events SET value = '"2"'`).run()).toThrow(/append-only/);
    ws.close();
  });

  it("takes a strict majority under 'majority' and calls a tie a disagreement", async () => {
    const { ws, caseIds, task } = await doubleRead({ readsPerCase: 3, trainingLabel: 'majority' });
    ws.readers.add({ name: 'cy' });
    const read = (caseId: number, values: string[]) =>
      ['ann', 'bob', 'cy'].slice(0, values.length).map((reader, i) => ws.reads.submit({ taskId: task.id, caseId, reader, value: values[i] }).state);
    expect(read(caseIds[0], ['2', '2', '1'])).toEqual(['read', 'read', 'agreed']);
    expect(ws.labels.current(caseIds[0], task.id)).toMatchObject({ value: '2', source: 'consensus' });
    expect(read(caseIds[1], ['0', '1', '2']).at(-1)).toBe('disagreement');
    ws.tasks.updateSettings(task.id, { trainingLabel: 'reviewer' });
    expect(read(caseIds[2], ['2', '2', '1']).at(-1)).toBe('disagreement');
    ws.close();
  });

  it('counts in the grouped worklist only the consensus labels this reader may see', async () => {
    const { ws, caseIds, task } = await doubleRead();
    ws.readers.add({ name: 'cy' });
    const labelled = (reader: string) =>
      ws.worklistGroups({ taskId: task.id, reader }).patients.flatMap((p) => p.studies.flatMap((s) => s.series.map((se) => se.labelled))).reduce((a, b) => a + b, 0);
    ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'ann', value: '1' });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'bob', value: '1' }); // agreed: a label
    ws.reads.submit({ taskId: task.id, caseId: caseIds[1], reader: 'ann', value: '0' });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[1], reader: 'bob', value: '2' }); // disagreement: none
    expect(ws.labels.currentAll(task.id)).toHaveLength(1);
    // Cy read neither: a count of 1 would tell him case 1 was agreed and case 2 not.
    expect(labelled('cy')).toBe(0);
    expect(labelled('ann')).toBe(1);
    expect(labelled('rev')).toBe(1); // a reviewer sees the consensus of complete cases, as in the flat list
    ws.close();
  });

  it('selects by label and by disagreement in the flat list only on the cases this reader may see them on', async () => {
    const { ws, caseIds, task } = await doubleRead({ trainingLabel: 'majority', readsPerCase: 3 });
    ws.readers.add({ name: 'cy' });
    const list = (filter: string, reader?: string) => ws.listCases({ taskId: task.id, filter: filter as never, reader, limit: 100 }).items.map((c) => c.id);
    // Three reads per case, majority: case 0 agreed (a label), case 1 three different grades (a disagreement).
    ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'ann', value: '1' });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'bob', value: '1' });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'rev', value: '2' });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[1], reader: 'ann', value: '0' });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[1], reader: 'bob', value: '2' });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[1], reader: 'rev', value: '1' });
    const version = ws.versions.add({ taskId: task.id, method: 'dvpt', weights: new Uint8Array([1]), status: 'active' });
    ws.predictions.put(version.id, caseIds.map((caseId) => ({ caseId, probabilities: [0.8, 0.1, 0.1] })));
    const labelled = list('labeled', 'rev');
    expect(labelled).toEqual([caseIds[0]]);
    expect(list('readers-disagree', 'rev')).toEqual([caseIds[1]]);
    // Cy has read nothing: to him no case is labelled, none disagrees with the model or between readers yet.
    expect(list('labeled', 'cy')).toEqual([]);
    expect(list('unlabeled', 'cy')).toEqual(expect.arrayContaining(labelled));
    expect(list('disagree', 'cy')).toEqual([]);
    expect(list('readers-disagree', 'cy')).toEqual([]);
    // Ann has read both: she sees what a reviewer sees of them.
    expect(list('labeled', 'ann')).toEqual(labelled.filter((id) => [caseIds[0], caseIds[1]].includes(id)));
    expect(list('disagree', 'ann')).toEqual(list('disagree', 'rev').filter((id) => [caseIds[0], caseIds[1]].includes(id)));
    expect(list('disagree', 'ann')).toContain(caseIds[0]);
    expect(list('readers-disagree', 'ann')).toEqual(list('readers-disagree', 'rev'));
    // Without a reader (the command line, an export) the list is not blind.
    expect(list('labeled')).toEqual(labelled);
    ws.close();
  });

  it('re-shows a share of a reader’s cases blind, hiding even their own first read, and shows the model only when allowed', async () => {
    const { ws, caseIds, task } = await doubleRead({ intraReaderFraction: 1, repeatAfterReads: 2, repeatAfterHours: 48 });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'ann', value: '2' });
    expect(ws.reads.view(task.id, caseIds[0], 'ann')).toMatchObject({ others: null, modelVisible: false });
    expect(ws.reads.view(task.id, caseIds[0], 'ann').myRead).toBeUndefined();
    // Not right after the first read: the repeat waits for two other cases (or 48 hours), the case blind meanwhile.
    expect(ws.reads.view(task.id, caseIds[0], 'ann')).toMatchObject({ repeatPending: false, repeatLater: true, others: null });
    expect(awaiting(ws, task.id, 'ann')).not.toContain(caseIds[0]);
    expect(code(() => ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'ann', value: '1' }))).toBe('conflict');
    ws.reads.submit({ taskId: task.id, caseId: caseIds[1], reader: 'ann', value: '0' });
    expect(awaiting(ws, task.id, 'ann')).not.toContain(caseIds[0]);
    ws.reads.submit({ taskId: task.id, caseId: caseIds[2], reader: 'ann', value: '0' });
    expect(awaiting(ws, task.id, 'ann')).toContain(caseIds[0]);
    expect(ws.reads.view(task.id, caseIds[0], 'ann')).toMatchObject({ repeatPending: true, repeatLater: false, others: null });
    expect(awaiting(ws, task.id, 'ann')).not.toContain(caseIds[1]); // its own repeat is not due yet
    // …or once the time has passed, whatever was read since.
    databaseOf(ws).prepare(`UPDATE read_repeats SET scheduled_at = ? WHERE case_id = ?`).run(new Date(Date.now() - 49 * 3_600_000).toISOString(), caseIds[2]);
    expect(awaiting(ws, task.id, 'ann')).toContain(caseIds[2]);
    expect(ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'ann', value: '1' }).read.kind).toBe('repeat');
    expect(awaiting(ws, task.id, 'ann')).not.toContain(caseIds[0]);
    expect(ws.reads.view(task.id, caseIds[0], 'ann')).toMatchObject({ repeatPending: false, myRead: { value: '2', kind: 'first' } });
    // The repeat is not a read towards k.
    expect(ws.reads.state(task.id, caseIds[0])).toBe('read');

    ws.tasks.updateSettings(task.id, { showModelInBlind: true, intraReaderFraction: 0 });
    expect(ws.reads.view(task.id, caseIds[1], 'bob')).toMatchObject({ others: null, modelVisible: true });
    ws.close();
  });

  it('computes agreement from the reads: pairs, Fleiss, per class, intra-reader', async () => {
    const { ws, caseIds, task } = await doubleRead({ intraReaderFraction: 1, repeatAfterReads: 0 });
    const ann = ['0', '1', '2', '2', '1', '0'];
    const bob = ['0', '1', '2', '1', '1', '2'];
    caseIds.forEach((c, i) => {
      ws.reads.submit({ taskId: task.id, caseId: c, reader: 'ann', value: ann[i] });
      ws.reads.submit({ taskId: task.id, caseId: c, reader: 'bob', value: bob[i] });
      ws.reads.submit({ taskId: task.id, caseId: c, reader: 'ann', value: ann[i] }); // a perfectly consistent repeat
    });
    const report = ws.agreement(task.id, { resamples: 200 });
    expect(report.weights).toBe('quadratic');
    expect(report.readers).toEqual(['ann', 'bob']);
    expect(report.pairs).toHaveLength(1);
    expect(report.pairs[0]).toMatchObject({ a: 'ann', b: 'bob', n: 6 });
    expect(report.pairs[0].percent!.value).toBeCloseTo(4 / 6, 12);
    expect(report.pairs[0].perClass.map((p) => p.className)).toEqual(['0', '1', '2']);
    expect(report.fleiss!.n).toBe(6);
    // Bob still owes his repeats: only Ann has intra-reader agreement.
    expect(report.intra.map((p) => `${p.a}|${p.b}|${p.n}`)).toEqual(['ann|ann (repeat)|6']);
    expect(report.intra[0].kappa!.value).toBe(1);
    expect(report.model).toBeUndefined();
    ws.close();
  });

  it("trains 'soft' on every read (disagreements too), but only settled cases otherwise", async () => {
    const { ws, caseIds, task } = await doubleRead({ trainingLabel: 'soft' });
    const read = (caseId: number, ann: string, bob: string) => {
      ws.reads.submit({ taskId: task.id, caseId, reader: 'ann', value: ann });
      ws.reads.submit({ taskId: task.id, caseId, reader: 'bob', value: bob });
    };
    read(caseIds[0], '2', '2');
    read(caseIds[1], '0', '2');
    read(caseIds[2], '0', '1');
    ws.reads.submit({ taskId: task.id, caseId: caseIds[3], reader: 'ann', value: '1' }); // one read of two: not yet
    ws.reads.adjudicate({ taskId: task.id, caseId: caseIds[2], reviewer: 'rev', value: '1' });
    const t = ws.tasks.get(task.id);
    // Hard labels (what 'reviewer' and 'majority' train on): the agreed and the adjudicated case only.
    expect([...labelTargets(ws, t)]).toEqual([[caseIds[0], 2], [caseIds[2], 1]]);
    // Soft: one class id per read; the open disagreement trains on both reads, settled cases on their label twice.
    expect([...softReadTargets(ws, t)]).toEqual([[caseIds[0], [2, 2]], [caseIds[1], [0, 2]], [caseIds[2], [1, 1]]]);
    ws.tasks.updateSettings(task.id, { trainingLabel: 'reviewer' });
    expect(softReadTargets(ws, ws.tasks.get(task.id)).size).toBe(0);
    ws.close();
  });

  it('exports every read and the consensus with reader names, and "Reader n" in the de-identified export', async () => {
    const { ws, caseIds, task } = await doubleRead();
    ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'ann', value: '1' });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[0], reader: 'bob', value: '1' });
    ws.reads.submit({ taskId: task.id, caseId: caseIds[1], reader: 'bob', value: '2' });
    const csv = parseCsv(exportLabels(ws, { taskId: task.id, format: 'csv', reads: true }));
    const col = (t: typeof csv, name: string) => t.rows.map((r) => r.cells[t.header.indexOf(name)]);
    expect(col(csv, 'author')).toEqual(['ann', 'bob', 'bob']);
    expect(col(csv, 'case_state')).toEqual(['agreed', 'agreed', 'read']);
    expect(col(csv, 'consensus')).toEqual(['1', '1', '']);
    const json = JSON.parse(exportLabels(ws, { taskId: task.id, format: 'json' })) as { labels: { author: string; source: string }[]; reads: unknown[] };
    expect(json.labels).toMatchObject([{ author: 'ann + bob', source: 'consensus' }]);
    expect(json.reads).toHaveLength(3);

    const deid = exportLabels(ws, { taskId: task.id, format: 'json', deidentify: true });
    expect(deid).not.toMatch(/\bann\b|\bbob\b/);
    const parsed = JSON.parse(deid) as { labels: { author: string }[]; reads: { author: string }[] };
    // Profiles were made ann, bob, rev: the same reader keeps the same pseudonym in labels and reads.
    expect(parsed.labels[0].author).toBe('Reader 1 + Reader 2');
    expect(parsed.reads.map((r) => r.author)).toEqual(['Reader 1', 'Reader 2', 'Reader 2']);
    ws.close();
  });

  it('migrates a V9 workspace: labels keep their source, later label events still fill current_labels', async () => {
    const { dir, ws, caseIds } = await workspaceWithCases(2, { migrations: MIGRATIONS.slice(0, 9) });
    const t = ws.tasks.create({ name: 'grade', kind: 'multiclass', classes: ['a', 'b'] });
    ws.labels.set({ caseId: caseIds[0], taskId: t.id, value: 'a', author: 'ann' });
    ws.close();
    const again = Workspace.open(dir);
    expect(again.labels.current(caseIds[0], t.id)).toMatchObject({ value: 'a', source: 'human' });
    again.labels.set({ caseId: caseIds[1], taskId: t.id, value: 'b', author: 'ann' });
    expect(again.labels.currentAll(t.id).map((l) => l.value)).toEqual(['a', 'b']);
    expect(code(() => again.tasks.updateSettings(t.id, { readsPerCase: 0 }))).toBe('invalid');
    expect(code(() => again.tasks.updateSettings(t.id, { trainingLabel: 'vote' as never }))).toBe('invalid');
    again.close();
  });
});

describe('multilabel agreement', () => {
  it('gives per label kappa and agreement, pooled kappa, identical-set agreement and Fleiss per label', async () => {
    const { ws, caseIds } = await workspaceWithCases(6);
    const task = ws.tasks.create({ name: 'findings', kind: 'multilabel', classes: ['haem', 'exud', 'drusen'] });
    ws.tasks.updateSettings(task.id, { readsPerCase: 2 });
    ws.readers.add({ name: 'ann' });
    ws.readers.add({ name: 'bob' });
    const ann = [['haem'], ['haem', 'exud'], [], ['drusen'], ['exud'], ['haem', 'drusen']];
    const bob = [['haem'], ['haem'], [], ['drusen', 'exud'], ['exud'], ['drusen']];
    caseIds.forEach((caseId, i) => {
      ws.reads.submit({ taskId: task.id, caseId, reader: 'ann', value: ann[i] });
      ws.reads.submit({ taskId: task.id, caseId, reader: 'bob', value: bob[i] });
    });
    const report = ws.agreement(task.id, { resamples: 200 });
    const pair = report.pairs[0];
    expect(pair).toMatchObject({ a: 'ann', b: 'bob', n: 6 });
    const has = (sets: string[][], label: string) => sets.map((s) => (s.includes(label) ? 1 : 0));
    // Per label: the kappa of "present or not", the same definition as the class statistics (checked against scikit-learn).
    report.classes.forEach((label, l) => {
      expect(pair.perClass[l].kappa!.value).toBeCloseTo(cohenKappa(has(ann, label), has(bob, label), 2), 12);
      expect(pair.perClass[l].percent!.value).toBeCloseTo(percentAgreement(has(ann, label), has(bob, label)), 12);
    });
    expect(pair.perClass[0].percent!.value).toBeCloseTo(5 / 6, 12); // haem differs on case 6 only
    const pooled = (sets: string[][]) => report.classes.flatMap((label) => has(sets, label));
    expect(pair.kappa!.value).toBeCloseTo(cohenKappa(pooled(ann), pooled(bob), 2), 12);
    expect(pair.percent!.value).toBeCloseTo(3 / 6, 12); // identical sets on cases 1, 3 and 5
    expect(report.fleiss!.n).toBe(6);
    expect(report.fleiss!.perClass[0].kappa.value).toBeCloseTo(fleissKappa(caseIds.map((_, i) => [has(ann, 'haem')[i], has(bob, 'haem')[i]]), 2), 12);
    expect(report.fleiss!.percent.value).toBeCloseTo(3 / 6, 12);
    ws.close();
  });
});

describe('several readers painting masks', () => {
  const ROWS = 32;
  const COLUMNS = 24;
  /** Columns [from, to) of class `cls` on every row. */
  const band = (from: number, to: number, cls = 1) => {
    const labels = new Uint8Array(ROWS * COLUMNS);
    for (let y = 0; y < ROWS; y++) for (let x = from; x < to; x++) labels[y * COLUMNS + x] = cls;
    return labels;
  };

  async function paintedTask(trainingLabel: 'reviewer' | 'majority' = 'reviewer', readsPerCase = 2) {
    const root = tempDir();
    writeDicomFiles(path.join(root, 'in'), tinyDicomSet(3, { perSeries: 3 }).map((d) => ({ ...d, rows: ROWS, columns: COLUMNS })));
    const ws = Workspace.create(path.join(root, 'ws'));
    const caseIds = (await ws.import([path.join(root, 'in')])).caseIds;
    const task = ws.tasks.create({ name: 'vessels', kind: 'segmentation', classes: ['vessel', 'lesion'] });
    ws.tasks.updateSettings(task.id, { readsPerCase, trainingLabel });
    for (const name of ['ann', 'bob', 'cy']) ws.readers.add({ name });
    const paint = (caseId: number, reader: string, labels: Uint8Array) => {
      const e = ws.masks.save({ taskId: task.id, caseId, frame: 0, rows: ROWS, columns: COLUMNS, labels, author: reader });
      return ws.reads.submit({ taskId: task.id, caseId, reader, value: { maskSha256: e.sha256, rows: ROWS, columns: COLUMNS } }).state;
    };
    return { ws, caseIds, task, paint };
  }

  it('keeps each reader’s mask, agrees identical masks, sends differing ones to the reviewer, and reports Dice', async () => {
    const { ws, caseIds, task, paint } = await paintedTask();
    const [c1, c2, c3] = caseIds;
    // A read names one of the reader's own saved masks.
    const other = ws.masks.save({ taskId: task.id, caseId: c1, frame: 0, rows: ROWS, columns: COLUMNS, labels: band(0, 3), author: 'bob' });
    expect(code(() => ws.reads.submit({ taskId: task.id, caseId: c1, reader: 'ann', value: { maskSha256: other.sha256, rows: ROWS, columns: COLUMNS } }))).toBe('invalid');

    expect(paint(c1, 'ann', band(0, 10))).toBe('read');
    // A reader's mask is no label, and not what training reads, until the case is settled.
    expect(ws.labels.current(c1, task.id)).toBeUndefined();
    expect(ws.masks.currentAll(task.id)).toHaveLength(0);
    expect(paint(c1, 'bob', band(0, 10))).toBe('agreed');
    expect(ws.labels.current(c1, task.id)).toMatchObject({ source: 'consensus', author: 'ann + bob' });
    expect(ws.masks.currentAll(task.id).map((e) => `${e.caseId}:${e.author}`)).toEqual([`${c1}:ann + bob`]);

    paint(c2, 'ann', band(0, 10));
    expect(paint(c2, 'bob', band(5, 15))).toBe('disagreement');
    expect(ws.labels.current(c2, task.id)).toBeUndefined();
    expect(ws.masks.currentAll(task.id).map((e) => e.caseId)).toEqual([c1]); // never an unsettled disagreement
    paint(c3, 'ann', band(0, 4, 2)); // only Ann painted c3

    const version = ws.versions.add({ taskId: task.id, method: 'dvpt', weights: new Uint8Array([1]) });
    ws.versions.promote(version.id);
    ws.masks.putPredictions(version.id, [{ caseId: c1, frame: 0, rows: ROWS, columns: COLUMNS, labels: band(0, 5), uncertainty: 0.1 }]);
    const report = ws.agreement(task.id, { resamples: 200 });
    expect(report.measure).toBe('dice');
    expect(report.readers).toEqual(['ann', 'bob']);
    // c1: identical (1); c2: 5 of 10 columns shared, 2·5/(10 + 10) = 0.5. Mean over the cases both painted.
    expect(report.pairs[0]).toMatchObject({ a: 'ann', b: 'bob', n: 2 });
    expect(report.pairs[0].dice!.value).toBeCloseTo(0.75, 12);
    expect(report.pairs[0].dice!.lo).toBeGreaterThanOrEqual(0.5);
    expect(report.pairs[0].dice!.hi).toBeLessThanOrEqual(1);
    expect(report.pairs[0].perClass[0].dice!.value).toBeCloseTo(0.75, 12);
    expect(report.pairs[0].perClass[1].dice!.value).toBeNaN(); // nobody painted a lesion on the shared cases
    expect(report.fleiss).toBeUndefined();
    // The model against each reader on the cases it predicted: 2·5/(5 + 10).
    expect(report.model!.pairs.map((p) => `${p.b}:${p.n}:${p.dice!.value.toFixed(4)}`)).toEqual(['ann:1:0.6667', 'bob:1:0.6667']);
    ws.close();
  });

  it('takes the per-pixel majority of three masks under majority', async () => {
    const { ws, caseIds, task, paint } = await paintedTask('majority', 3);
    paint(caseIds[0], 'ann', band(0, 10));
    paint(caseIds[0], 'bob', band(4, 12));
    expect(paint(caseIds[0], 'cy', band(8, 20))).toBe('agreed');
    const consensus = ws.masks.current({ taskId: task.id, caseId: caseIds[0], frame: 0 })!;
    expect(consensus.author).toBe('ann + bob + cy');
    expect(Array.from(consensus.labels)).toEqual(Array.from(band(4, 12))); // columns two of three painted
    ws.close();
  });
});
