import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Workspace } from '../../../core/store';
import { databaseOf } from '../../../core/store/workspace';
import { errorCode, tempDir, tinyDicomSet, writeDicomFiles } from './helpers/fixtures';

let ws: Workspace;
let caseIds: number[];
let taskId: number;
let rows: number;
let columns: number;

beforeEach(async () => {
  const root = tempDir('medtune-masks-');
  writeDicomFiles(path.join(root, 'in'), tinyDicomSet(3, { perSeries: 3 }).map((d) => ({ ...d, rows: 64, columns: 48 })));
  ws = Workspace.create(path.join(root, 'ws'));
  caseIds = (await ws.import([path.join(root, 'in')])).caseIds;
  taskId = ws.tasks.create({ name: 'Vessels', kind: 'segmentation', classes: ['vessel', { name: 'lesion', color: '#ff0000', hotkey: 'l' }] }).id;
  const detail = ws.cases.get(caseIds[0]);
  [rows, columns] = [detail.rows!, detail.columns!];
  expect([rows, columns]).toEqual([64, 48]);
  return () => ws.close();
});

/** A mask with a vertical bar of class 1 at column x and, optionally, one pixel of class 2. */
function bar(x: number, lesion = false): Uint8Array {
  const labels = new Uint8Array(rows * columns);
  for (let y = 0; y < rows; y++) labels[y * columns + x] = 1;
  if (lesion) labels[0] = 2;
  return labels;
}

const target = () => ({ taskId, caseId: caseIds[0], frame: 0 });

describe('mask store', () => {
  it('keeps every save as an event and the latest as the current mask, pixels intact', () => {
    expect(ws.masks.current(target())).toBeUndefined();
    const first = ws.masks.save({ ...target(), rows, columns, labels: bar(1), author: 'ann' });
    const second = ws.masks.save({ ...target(), rows, columns, labels: bar(2, true), author: 'bob' });
    expect(first).toMatchObject({ author: 'ann', source: 'human', foreground: rows, rows, columns });
    expect(second.foreground).toBe(rows + 1);
    const current = ws.masks.current(target())!;
    expect(current.id).toBe(second.id);
    expect(current.author).toBe('bob');
    expect(Array.from(current.labels)).toEqual(Array.from(bar(2, true)));
    // Earlier states stay readable: history lists both, oldest first, and the first one's pixels are unchanged.
    expect(ws.masks.history(taskId, caseIds[0]).map((e) => e.id)).toEqual([first.id, second.id]);
    expect(Array.from(ws.masks.event(first.id).labels)).toEqual(Array.from(bar(1)));
    expect(first.sha256).not.toBe(second.sha256);
    // Another case has no mask; currentAll lists one current mask per (case, frame).
    expect(ws.masks.current({ ...target(), caseId: caseIds[1] })).toBeUndefined();
    expect(ws.masks.currentAll(taskId).map((e) => e.id)).toEqual([second.id]);
  });

  it('stores masks compressed', () => {
    const e = ws.masks.save({ ...target(), rows, columns, labels: bar(3), author: 'ann' });
    expect(e.storedBytes).toBeGreaterThan(0);
    expect(e.storedBytes).toBeLessThan((rows * columns) / 4);
  });

  it('is append-only: the database refuses to change or delete an event', () => {
    const e = ws.masks.save({ ...target(), rows, columns, labels: bar(1), author: 'ann' });
    const db = databaseOf(ws);
    expect(() => db.prepare('UPDATE mask_events SET author = ? WHERE id = ?').run('eve', e.id)).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM mask_events WHERE id = ?').run(e.id)).toThrow(/append-only/);
    expect(ws.masks.current(target())!.author).toBe('ann');
  });

  it('records the source and the adapter version of a prediction', () => {
    const version = ws.versions.add({ taskId, method: 'dvpt', weights: new Uint8Array([1, 2, 3]) });
    const accepted = ws.masks.save({ ...target(), rows, columns, labels: bar(1), author: 'ann', source: 'accepted-prediction', adapterVersionId: version.id });
    const edited = ws.masks.save({ ...target(), rows, columns, labels: bar(2), author: 'ann', source: 'edited-prediction', adapterVersionId: version.id });
    expect(accepted).toMatchObject({ source: 'accepted-prediction', adapterVersionId: version.id });
    expect(ws.masks.current(target())).toMatchObject({ id: edited.id, source: 'edited-prediction', adapterVersionId: version.id });
    // A prediction's mask must say which version predicted it, and a painted one names none.
    expect(errorCode(() => ws.masks.save({ ...target(), rows, columns, labels: bar(1), author: 'ann', source: 'accepted-prediction' }))).toBe('invalid');
    expect(errorCode(() => ws.masks.save({ ...target(), rows, columns, labels: bar(1), author: 'ann', adapterVersionId: version.id }))).toBe('invalid');
    const other = ws.tasks.create({ name: 'Other', kind: 'segmentation', classes: ['x'] });
    const otherVersion = ws.versions.add({ taskId: other.id, method: 'ept', weights: new Uint8Array([4]) });
    expect(
      errorCode(() => ws.masks.save({ ...target(), rows, columns, labels: bar(1), author: 'ann', source: 'edited-prediction', adapterVersionId: otherVersion.id })),
    ).toBe('invalid');
  });

  it('refuses masks that do not fit the task, the case or the frame, writing nothing', () => {
    const grade = ws.tasks.create({ name: 'Grade', kind: 'multiclass', classes: ['a', 'b'] });
    const save = (change: object) => () => ws.masks.save({ ...target(), rows, columns, labels: bar(1), author: 'ann', ...change });
    expect(errorCode(save({ taskId: grade.id }))).toBe('invalid');
    expect(errorCode(save({ caseId: 999 }))).toBe('not-found');
    expect(errorCode(save({ frame: 1 }))).toBe('invalid');
    expect(errorCode(save({ rows: rows + 1, labels: new Uint8Array((rows + 1) * columns) }))).toBe('invalid');
    expect(errorCode(save({ labels: new Uint8Array(5) }))).toBe('invalid');
    expect(errorCode(save({ author: ' ' }))).toBe('invalid');
    const tooHigh = bar(1);
    tooHigh[7] = 3; // the task has classes 1 and 2
    expect(() => ws.masks.save({ ...target(), rows, columns, labels: tooHigh, author: 'ann' })).toThrow(/pixel \(7, 0\) has class 3/);
    expect(ws.masks.history(taskId, caseIds[0])).toEqual([]);
  });

  it('keeps the case labelled while it has a painted mask, so worklist, progress and splits count it', () => {
    expect(ws.labels.current(caseIds[0], taskId)).toBeUndefined();
    const painted = ws.masks.save({ ...target(), rows, columns, labels: bar(1), author: 'ann' });
    expect(ws.labels.current(caseIds[0], taskId)).toMatchObject({ value: { maskSha256: painted.sha256, rows, columns }, author: 'ann', source: 'human' });
    expect(ws.splits.get(taskId, caseIds[0])).toBeDefined();
    expect(ws.labels.counts(taskId).total).toBe(1);
    // Saving the same pixels again writes no second label event; erasing everything clears the label.
    ws.masks.save({ ...target(), rows, columns, labels: bar(1), author: 'ann' });
    expect(ws.labels.history(caseIds[0], taskId)).toHaveLength(1);
    ws.masks.save({ ...target(), rows, columns, labels: new Uint8Array(rows * columns), author: 'bob' });
    expect(ws.labels.current(caseIds[0], taskId)).toBeUndefined();
    // An accepted prediction is an accepted suggestion of that version.
    const version = ws.versions.add({ taskId, method: 'dvpt', weights: new Uint8Array([1]) });
    ws.masks.save({ ...target(), rows, columns, labels: bar(4), author: 'ann', source: 'accepted-prediction', adapterVersionId: version.id });
    expect(ws.labels.current(caseIds[0], taskId)).toMatchObject({ source: 'accepted-suggestion' });
    expect(ws.labels.history(caseIds[0], taskId).at(-1)!.adapterVersionId).toBe(version.id);
  });

  it('saves a batch all or nothing', () => {
    const good = { ...target(), rows, columns, labels: bar(1), author: 'ann' };
    expect(errorCode(() => ws.masks.saveMany([good, { ...good, caseId: 999 }]))).toBe('not-found');
    expect(ws.masks.currentAll(taskId)).toEqual([]);
    expect(ws.masks.saveMany([good, { ...good, caseId: caseIds[1] }])).toHaveLength(2);
  });
});
