import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelProgress, Workspace } from '../../../core/store';
import { tempDir, tinyDicomSet, writeDicomFiles } from './helpers/fixtures';

/** 20 slices in 5 series of 4 (instance numbers 1–4), two series a study: MR, MR, CT, CT, MR. */
async function fiveSeries() {
  const root = tempDir();
  writeDicomFiles(path.join(root, 'in'), tinyDicomSet(20, { perSeries: 4 }));
  const ws = Workspace.create(path.join(root, 'ws'));
  const caseIds = (await ws.import([path.join(root, 'in')])).caseIds;
  expect(caseIds).toHaveLength(20);
  return { ws, caseIds };
}

describe('label progress', () => {
  it('counts a scoped series task by its series, as its worklist lists them, per reader', async () => {
    const { ws } = await fiveSeries();
    const task = ws.tasks.create({ name: 'CT finding', kind: 'multiclass', classes: ['none', 'finding'], scope: { modalities: ['CT'] }, caseUnit: 'series' });
    const list = ws.listCases({ taskId: task.id, limit: 100 });
    expect(list.total).toBe(2);
    expect(labelProgress(ws, task.id)).toEqual({ taskId: task.id, total: 2, labelled: 0, byReader: [] });

    const [first, second] = list.items;
    ws.labels.set({ caseId: first.id, taskId: task.id, value: 'finding', author: 'ann' });
    expect(labelProgress(ws, task.id)).toEqual({ taskId: task.id, total: 2, labelled: 1, byReader: [{ author: 'ann', labelled: 1 }] });
    ws.labels.set({ caseId: second.id, taskId: task.id, value: 'none', author: 'bob' });
    expect(labelProgress(ws, task.id)).toMatchObject({
      total: 2,
      labelled: 2,
      byReader: [
        { author: 'ann', labelled: 1 },
        { author: 'bob', labelled: 1 },
      ],
    });
    ws.close();
  });

  it('leaves out what is outside the scope and what is quarantined, like the worklist', async () => {
    const { ws, caseIds } = await fiveSeries();
    const mr = ws.tasks.create({ name: 'MR slices', kind: 'multiclass', classes: ['a', 'b'], scope: { modalities: ['MR'] } });
    const everything = ws.tasks.create({ name: 'Every slice', kind: 'multiclass', classes: ['a', 'b'] });
    const mrIds = ws.listCases({ taskId: mr.id, limit: 100 }).items.map((c) => c.id);
    expect(mrIds).toHaveLength(12);
    const ctId = caseIds.find((id) => !mrIds.includes(id))!;
    // A label on a CT slice under the unscoped task counts there, never for the MR task.
    ws.labels.set({ caseId: ctId, taskId: everything.id, value: 'a', author: 'ann' });
    ws.labels.set({ caseId: mrIds[0], taskId: mr.id, value: 'b', author: 'ann' });
    ws.cases.quarantine(mrIds[1], 'unreadable pixels');
    ws.labels.set({ caseId: mrIds[2], taskId: mr.id, value: 'a', author: 'ann' });
    ws.cases.quarantine(mrIds[2], 'unreadable pixels');
    expect(labelProgress(ws, mr.id)).toEqual({ taskId: mr.id, total: 10, labelled: 1, byReader: [{ author: 'ann', labelled: 1 }] });
    expect(ws.listCases({ taskId: mr.id, limit: 100 }).total).toBe(10);
    expect(labelProgress(ws, everything.id)).toMatchObject({ total: 18, labelled: 1 });
    ws.close();
  });

  it('counts reads per reader on a series task read twice', async () => {
    const { ws } = await fiveSeries();
    const task = ws.tasks.create({ name: 'CT grade', kind: 'ordinal', classes: ['0', '1'], scope: { modalities: ['CT'] }, caseUnit: 'series' });
    ws.tasks.updateSettings(task.id, { readsPerCase: 2 });
    ws.readers.add({ name: 'ann' });
    ws.readers.add({ name: 'bob' });
    const [first, second] = ws.listCases({ taskId: task.id, limit: 100 }).items;
    ws.reads.submit({ taskId: task.id, caseId: first.id, reader: 'ann', value: '1' });
    ws.reads.submit({ taskId: task.id, caseId: second.id, reader: 'ann', value: '0' });
    ws.reads.submit({ taskId: task.id, caseId: first.id, reader: 'bob', value: '1' });
    expect(labelProgress(ws, task.id)).toEqual({
      taskId: task.id,
      total: 2,
      labelled: 1, // the consensus on the first series
      byReader: [
        { author: 'ann', labelled: 2 },
        { author: 'bob', labelled: 1 },
      ],
    });
    ws.close();
  });
});
