import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appClients } from '../../helpers/app-client';
import { tempDir, tinyDicomSet, writeDicomFiles } from '../store/helpers/fixtures';

const client = appClients();

async function labelledWorkspace() {
  const root = tempDir('medtune-app-');
  const input = path.join(root, 'in');
  writeDicomFiles(input, tinyDicomSet(6, { perSeries: 3 }));
  const dir = path.join(root, 'ws');
  const a = client('ann');
  await a.call('workspace.create', { dir });
  await a.call('import.start', { paths: [input] });
  const task = await a.call('tasks.create', { name: 'finding', classes: [{ name: 'normal' }, { name: 'nodule' }] });
  const ids = (await a.call('cases.list', {})).items.map((c) => c.id);
  expect(ids).toHaveLength(6);
  return { dir, a, taskId: task.id, ids };
}

describe('skip and flag-for-review through the contract', () => {
  it('are stored in the workspace and survive closing it and a new session opening it', async () => {
    const { dir, a, taskId, ids } = await labelledWorkspace();
    expect(await a.call('labels.flag', { caseId: ids[2], taskId, note: 'artefact?' })).toEqual({ flagged: true });
    expect(await a.call('labels.skip', { caseId: ids[4], taskId })).toEqual({ skipped: true });
    await a.call('workspace.close', {});

    const b = client('bob');
    await b.call('workspace.open', { dir });
    const record = await b.call('cases.get', { id: ids[2] });
    expect(record.review).toMatchObject({ flagged: true, skipped: false, note: 'artefact?', author: 'ann' });
    expect(record.review.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const flagged = await b.call('cases.list', { filter: 'flagged' });
    expect(flagged.total).toBe(1);
    expect(flagged.items.map((c) => [c.id, c.flagged, c.skipped])).toEqual([[ids[2], true, false]]);
    expect((await b.call('cases.list', { filter: 'skipped' })).items.map((c) => [c.id, c.skipped])).toEqual([[ids[4], true]]);

    // Unflagging keeps the note and records who changed it.
    expect(await b.call('labels.flag', { caseId: ids[2], taskId, flagged: false })).toEqual({ flagged: false });
    expect((await b.call('cases.get', { id: ids[2] })).review).toMatchObject({ flagged: false, note: 'artefact?', author: 'bob' });
    expect((await b.call('cases.list', { filter: 'flagged' })).total).toBe(0);
  });

  it('labelling or accepting a suggestion clears "skipped" but keeps the flag', async () => {
    const { a, taskId, ids } = await labelledWorkspace();
    await a.call('labels.skip', { caseId: ids[0], taskId });
    await a.call('labels.flag', { caseId: ids[0], taskId });
    await a.call('labels.set', { caseId: ids[0], taskId, value: 'nodule' });
    expect((await a.call('cases.get', { id: ids[0] })).review).toMatchObject({ flagged: true, skipped: false });

    const ws = a.session.requireWorkspace();
    const version = ws.versions.add({ taskId, method: 'dvpt', weights: new Uint8Array([1, 2, 3]) });
    ws.predictions.put(version.id, [{ caseId: ids[1], probabilities: [0.9, 0.1] }]);
    await a.call('labels.skip', { caseId: ids[1], taskId });
    expect((await a.call('labels.accept', { caseId: ids[1], taskId })).label).toBe('normal');
    expect((await a.call('cases.get', { id: ids[1] })).review).toMatchObject({ skipped: false });
    expect((await a.call('cases.list', { filter: 'skipped' })).total).toBe(0);
  });

  it('answers unknown cases and tasks with not-found, and an unknown filter with invalid-request', async () => {
    const { a, taskId } = await labelledWorkspace();
    expect(await a.raw('labels.flag', { caseId: 987654, taskId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const noTask = await a.raw('labels.skip', { caseId: 1, taskId: 4321 });
    expect(noTask).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await a.raw('cases.list', { filter: 'starred' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });
});
