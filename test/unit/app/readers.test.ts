import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appClients } from '../../helpers/app-client';
import { tempDir, tinyDicomSet, writeDicomFiles } from '../store/helpers/fixtures';

const client = appClients();

/** A workspace of 4 cases, a 3-grade task read twice per case, and the profiles ann, bob (PIN) and rev (reviewer). */
async function doubleReadWorkspace() {
  const root = tempDir('medtune-readers-');
  const input = path.join(root, 'in');
  writeDicomFiles(input, tinyDicomSet(4, { perSeries: 2 }));
  const app = client('admin');
  await app.call('workspace.create', { dir: path.join(root, 'ws') });
  await app.call('import.start', { paths: [input] });
  const task = await app.call('tasks.create', { name: 'grade', kind: 'ordinal', classes: [{ name: 'g0' }, { name: 'g1' }, { name: 'g2' }] });
  const updated = await app.call('tasks.update', { id: task.id, readsPerCase: 2 });
  expect(updated.settings).toMatchObject({ readsPerCase: 2 });
  await app.call('readers.add', { name: 'ann' });
  await app.call('readers.add', { name: 'bob', pin: '2468' });
  const state = await app.call('readers.add', { name: 'rev', role: 'reviewer' });
  expect(state.readers.map((r) => `${r.name}:${r.role}:${r.hasPin}`)).toEqual(['admin:admin:false', 'ann:reader:false', 'bob:reader:true', 'rev:reviewer:false']);
  const ids = (await app.call('cases.list', {})).items.map((c) => c.id);
  const ws = app.session.requireWorkspace();
  const version = ws.versions.add({ taskId: task.id, method: 'dvpt', weights: new Uint8Array([1, 2, 3]) });
  ws.predictions.put(version.id, ids.map((caseId) => ({ caseId, probabilities: [0.1, 0.2, 0.7] })));
  return { app, taskId: task.id, ids };
}

describe('several readers through the API', () => {
  it('starts with the OS user as an admin profile; switching checks the PIN; only admins add profiles', async () => {
    const { app } = await doubleReadWorkspace();
    expect((await app.call('app.info', {})).reader).toBe('admin');
    expect(await app.failure('readers.switch', { name: 'bob', pin: '1111' })).toMatchObject({ code: 'forbidden' });
    expect(await app.failure('readers.switch', { name: 'bob' })).toMatchObject({ code: 'forbidden' });
    expect(await app.failure('readers.switch', { name: 'nobody' })).toMatchObject({ code: 'not-found' });
    expect((await app.call('readers.switch', { name: 'bob', pin: '2468' })).current.name).toBe('bob');
    expect((await app.call('app.info', {})).reader).toBe('bob');
    expect(await app.failure('readers.add', { name: 'eve' })).toMatchObject({ code: 'forbidden' });
  });

  it('says how many PIN tries are left, then that the profile is locked and until when', async () => {
    const { app } = await doubleReadWorkspace();
    const messages: string[] = [];
    for (let i = 0; i < 7; i++) messages.push(((await app.failure('readers.switch', { name: 'bob', pin: '1111' })) as { message: string }).message);
    expect(messages.slice(0, 5)).toEqual([
      'Wrong PIN for bob (4 more tries before a 30 s lockout)',
      'Wrong PIN for bob (3 more tries before a 30 s lockout)',
      'Wrong PIN for bob (2 more tries before a 30 s lockout)',
      'Wrong PIN for bob (1 more try before a 30 s lockout)',
      'Wrong PIN for bob (the next wrong PIN locks it for 30 s)',
    ]);
    expect(messages[5]).toMatch(/^Too many wrong PINs for bob: locked for 30 s more \(until .+\); an admin can end it with a new PIN \(medtune readers pin\)$/);
    expect(messages[6]).toMatch(/^Too many wrong PINs for bob: locked for (29|30) s more/);
    // Locked: the right PIN does not open it either, and the current reader stays who it was.
    expect(await app.failure('readers.switch', { name: 'bob', pin: '2468' })).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^Too many wrong PINs/) });
    expect((await app.call('app.info', {})).reader).toBe('admin');
  });

  it('keeps a case blind until the reader has read it: no label, history or model; reads go through labels.set', async () => {
    const { app, taskId, ids } = await doubleReadWorkspace();
    const [c1, c2] = ids;
    await app.call('readers.switch', { name: 'ann' });
    expect((await app.call('cases.list', { taskId, filter: 'awaiting-my-read' })).total).toBe(4);
    const before = await app.call('cases.get', { id: c1, taskId });
    expect(before.prediction).toBeNull();
    expect((await app.call('cases.list', { taskId })).items[0].predicted).toBeUndefined();
    expect(await app.call('labels.set', { caseId: c1, taskId, value: 'g1' })).toEqual({ event: null, label: null });
    expect((await app.call('cases.get', { id: c1, taskId })).label).toBe('g1'); // her own read
    expect((await app.call('cases.get', { id: c1, taskId })).prediction).toMatchObject({ predicted: 'g2' });
    expect(await app.failure('labels.set', { caseId: c1, taskId, value: 'g2' })).toMatchObject({ code: 'conflict' });
    expect(await app.failure('labels.undo', { caseId: c1, taskId })).toMatchObject({ code: 'conflict' });
    expect(await app.failure('labels.accept', { caseId: c2, taskId })).toMatchObject({ code: 'conflict' });

    await app.call('readers.switch', { name: 'bob', pin: '2468' });
    const blind = await app.call('reads.get', { taskId, caseId: c1 });
    expect(blind).toMatchObject({ readCount: 1, others: null, modelVisible: false, canReview: false, history: [] });
    expect((await app.call('cases.get', { id: c1, taskId })).label).toBeNull();
    const agreed = await app.call('labels.set', { caseId: c1, taskId, value: 'g1' });
    expect(agreed.label).toBe('g1');
    expect((await app.call('reads.get', { taskId, caseId: c1 })).others).toMatchObject([{ reader: 'ann', value: 'g1' }]);

    // A disagreement waits for a reviewer; a reader cannot settle it.
    await app.call('labels.set', { caseId: c2, taskId, value: 'g0' });
    await app.call('readers.switch', { name: 'ann' });
    expect((await app.call('labels.set', { caseId: c2, taskId, value: 'g2' })).label).toBeNull();
    expect(await app.failure('reads.adjudicate', { taskId, caseId: c2, value: 'g2' })).toMatchObject({ code: 'forbidden' });
    await app.call('readers.switch', { name: 'rev' });
    expect((await app.call('cases.list', { taskId, filter: 'readers-disagree' })).items.map((c) => c.id)).toEqual([c2]);
    const review = await app.call('reads.get', { taskId, caseId: c2 });
    expect(review).toMatchObject({ state: 'disagreement', canReview: true });
    expect(review.others?.map((r) => r.valueText).sort()).toEqual(['g0', 'g2']);
    const settled = await app.call('reads.adjudicate', { taskId, caseId: c2, value: 'g1', note: 'looked again' });
    expect(settled.state).toBe('adjudicated');
    expect(settled.history.map((h) => h.to)).toEqual(['read', 'disagreement', 'adjudicated']);
    expect((await app.call('cases.get', { id: c2, taskId })).label).toBe('g1');

    const report = await app.call('agreement.get', { taskId });
    expect(report).toMatchObject({ readers: ['ann', 'bob'], weights: 'quadratic', states: { agreed: 1, adjudicated: 1 } });
    expect(report.pairs[0]).toMatchObject({ a: 'ann', b: 'bob', n: 2 });
    expect(report.pairs[0].percent!.value).toBe(0.5);
    expect(report.model?.pairs.map((p) => p.b)).toEqual(['ann', 'bob']);
  });

  it('keeps masks blind on a k-read segmentation task: own mask only until submitted, then the others’; a reviewer’s mask settles it', async () => {
    const { app, ids } = await doubleReadWorkspace();
    const seg = await app.call('tasks.create', { name: 'vessels', kind: 'segmentation', classes: [{ name: 'vessel' }] });
    await app.call('tasks.update', { id: seg.id, readsPerCase: 2 });
    const detail = await app.call('cases.get', { id: ids[0], taskId: seg.id });
    const [rows, columns] = [detail.case.rows!, detail.case.columns!];
    const target = { taskId: seg.id, caseId: ids[0], frame: 0 };
    const band = (from: number, to: number) => {
      const labels = new Uint8Array(rows * columns);
      for (let y = 0; y < rows; y++) for (let x = from; x < to; x++) labels[y * columns + x] = 1;
      return labels;
    };
    const paintAndSubmit = async (from: number, to: number) => {
      const e = await app.call('masks.save', { ...target, rows, columns, labels: band(from, to), source: 'human' });
      return app.call('labels.set', { caseId: ids[0], taskId: seg.id, value: { maskSha256: e.sha256, rows, columns } });
    };

    await app.call('readers.switch', { name: 'ann' });
    await paintAndSubmit(0, 2);
    expect(await app.failure('masks.save', { ...target, rows, columns, labels: band(0, 3) })).toMatchObject({ code: 'conflict' }); // submitted: final

    await app.call('readers.switch', { name: 'bob', pin: '2468' });
    // Ann's mask is the latest save, yet Bob gets none of it: not as the current mask, not by name, not in the history.
    expect((await app.call('masks.get', target)).mask).toBeNull();
    expect(await app.failure('masks.get', { ...target, author: 'ann' })).toMatchObject({ code: 'forbidden' });
    expect(await app.call('masks.history', { taskId: seg.id, caseId: ids[0] })).toEqual([]);
    await app.call('masks.save', { ...target, rows, columns, labels: band(1, 3), source: 'human' });
    expect((await app.call('masks.get', target)).mask?.author).toBe('bob'); // his own draft
    expect((await app.call('readers.switch', { name: 'ann' })).current.name).toBe('ann');
    expect((await app.call('masks.get', target)).mask?.author).toBe('ann'); // she sees hers, not Bob's draft
    await app.call('readers.switch', { name: 'bob', pin: '2468' });
    await paintAndSubmit(1, 3);
    expect((await app.call('masks.get', { ...target, author: 'ann' })).mask?.author).toBe('ann');
    expect((await app.call('reads.get', { taskId: seg.id, caseId: ids[0] })).state).toBe('disagreement');

    await app.call('readers.switch', { name: 'rev' });
    const fix = await app.call('masks.save', { ...target, rows, columns, labels: band(1, 2), source: 'human' });
    const settled = await app.call('reads.get', { taskId: seg.id, caseId: ids[0] });
    expect(settled.state).toBe('adjudicated');
    // Saving again refines the decision without a new state change.
    await app.call('masks.save', { ...target, rows, columns, labels: band(1, 2).map((v, i) => (i === 0 ? 1 : v)), source: 'human' });
    expect((await app.call('reads.get', { taskId: seg.id, caseId: ids[0] })).history.map((h) => h.to)).toEqual(['read', 'disagreement', 'adjudicated']);
    expect(fix.author).toBe('rev');
    const report = await app.call('agreement.get', { taskId: seg.id });
    expect(report).toMatchObject({ measure: 'dice', readers: ['ann', 'bob'], pairs: [{ a: 'ann', b: 'bob', n: 1 }] });
    expect(report.pairs[0].dice?.value).toBeCloseTo((2 * rows) / (4 * rows), 12); // one shared column of two each
  });
});
