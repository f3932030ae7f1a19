import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch, type Handlers } from '../../../core/api/dispatch';
import type { ChannelName } from '../../../core/api/names';
import type { EventPayload, RequestOf, ResponseOf } from '../../../core/api/contract';
import { createHandlers } from '../../../core/app/handlers';
import { AppSession } from '../../../core/app/session';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';

const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');
const MULTIFRAME = path.join(DICOM_DIR, 'pydicom_data', 'emri_small.dcm');
const FUNDUS = path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', '21_training.tif');
const TRUNCATED = path.join(DICOM_DIR, 'pydicom_debian', 'MR_truncated.dcm');

let tmp: string;
let session: AppSession;
let handlers: Handlers;
const progress: EventPayload<'import.progress'>[] = [];

async function call<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const result = await dispatch(handlers, channel, request, { transport: 'websocket' });
  if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
  return result.value as ResponseOf<C>;
}
const failure = async (channel: ChannelName, request: unknown) => {
  const result = await dispatch(handlers, channel, request, { transport: 'websocket' });
  if (result.ok) throw new Error(`${channel} was expected to fail`);
  return result.error;
};

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-handlers-'));
  session = new AppSession('tester');
  session.events.subscribe((event, payload) => {
    if (event === 'import.progress') progress.push(payload as EventPayload<'import.progress'>);
  });
  handlers = createHandlers(session);
});

afterAll(() => {
  session.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('contract handlers over a real workspace', () => {
  it('needs an open workspace, and says so', async () => {
    expect(await failure('tasks.list', {})).toMatchObject({ code: 'no-workspace' });
  });

  it('imports files with progress and a quarantine report', async () => {
    await call('workspace.create', { dir: path.join(tmp, 'ws') });
    const missing = await failure('import.start', { paths: [CT, path.join(tmp, 'missing.dcm')] });
    expect(missing.message).toContain('missing.dcm');
    const garbage = path.join(tmp, 'garbage.dcm');
    fs.writeFileSync(garbage, 'this is not an image');
    const report = await call('import.start', { paths: [CT, MULTIFRAME, FUNDUS, TRUNCATED, garbage] });
    // MR_truncated's header reads but its pixel data is cut off: quarantined (as a case kept for inspection).
    expect(report).toMatchObject({ imported: 3, failed: 2, cancelled: false, caseCount: 3 });
    expect(report.quarantine.map((q) => path.basename(q.file))).toEqual(['MR_truncated.dcm', 'garbage.dcm']);
    expect(report.quarantine[0].reason.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ done: 5, total: 5 });
    expect(await call('import.cancel', {})).toEqual({ cancelled: false });
  });

  it('defines a label task and refuses a bad one by naming the problem', async () => {
    const task = await call('tasks.create', { name: 'Grade', classes: [{ name: 'normal' }, { name: 'abnormal', hotkey: 'a' }] });
    expect(task.classes).toEqual([
      { name: 'normal', color: expect.stringMatching(/^#[0-9a-f]{6}$/), hotkey: '1' },
      { name: 'abnormal', color: expect.stringMatching(/^#/), hotkey: 'a' },
    ]);
    expect(await call('tasks.list', {})).toHaveLength(1);
    const dup = await failure('tasks.create', { name: 'Grade', classes: [{ name: 'x' }, { name: 'y' }] });
    expect(dup).toMatchObject({ code: 'conflict' });
    expect((await failure('tasks.create', { name: 'X', classes: [{ name: 'a', color: 'red' }] })).message).toMatch(/#rrggbb/);
  });

  it('lists, searches and pages cases', async () => {
    const all = await call('cases.list', {});
    expect(all.total).toBe(3);
    expect(all.items.map((c) => c.frameCount).sort((a, b) => a - b)).toEqual([1, 1, 10]);
    const page = await call('cases.list', { offset: 1, limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0].id).toBe(all.items[1].id);
    const found = await call('cases.list', { search: '21_training' });
    expect(found.items.map((c) => c.kind)).toEqual(['photo']);
  });

  it('sends a case image as typed arrays with what the viewer needs', async () => {
    const { items } = await call('cases.list', { search: 'CT_small' });
    const image = await call('cases.image', { id: items[0].id });
    expect(image).toMatchObject({ rows: 128, columns: 128, photometric: 'MONOCHROME2', numberOfFrames: 1, firstFrame: 0 });
    expect(image.frames[0]).toBeInstanceOf(Int16Array);
    expect(image.frames[0].length).toBe(128 * 128);
    expect(image.metadata.modality).toBe('CT');
    const multi = (await call('cases.list', { search: 'emri_small' })).items[0];
    const slice = await call('cases.image', { id: multi.id, firstFrame: 3, frameCount: 2 });
    expect(slice).toMatchObject({ numberOfFrames: 10, firstFrame: 3 });
    expect(slice.frames).toHaveLength(2);
    expect((await failure('cases.image', { id: multi.id, firstFrame: 10 })).message).toMatch(/frame 11 does not exist/);
    expect(await failure('cases.image', { id: 9999 })).toMatchObject({ code: 'not-found' });
    const truncated = (await call('cases.list', { filter: 'quarantined', search: 'MR_truncated' })).items[0];
    const broken = await failure('cases.image', { id: truncated.id });
    expect(broken.code).toBe('decode-failed');
    expect(broken.message).toContain('Cannot show this image');
  });

  it('makes small thumbnails of colour photos', async () => {
    const photo = (await call('cases.list', { search: '21_training' })).items[0];
    const thumb = await call('cases.thumbnail', { id: photo.id, size: 64 });
    expect(Math.max(thumb.width, thumb.height)).toBe(64);
    expect(thumb.rgba.length).toBe(thumb.width * thumb.height * 4);
    // A fundus photo is red-dominant in its centre.
    const c = (Math.floor(thumb.height / 2) * thumb.width + Math.floor(thumb.width / 2)) * 4;
    expect(thumb.rgba[c]).toBeGreaterThan(thumb.rgba[c + 2]);
  });

  it('sets, undoes and explains labels; skip and flag are kept', async () => {
    const [task] = await call('tasks.list', {});
    const { items } = await call('cases.list', {});
    const caseId = items[0].id;
    expect((await call('labels.set', { caseId, taskId: task.id, value: 'normal' })).label).toBe('normal');
    expect((await call('labels.set', { caseId, taskId: task.id, value: 'abnormal' })).label).toBe('abnormal');
    expect((await call('labels.undo', { caseId, taskId: task.id })).label).toBe('normal');
    const bad = await failure('labels.set', { caseId, taskId: task.id, value: 'cat' });
    expect(bad.code).toBe('invalid');
    expect(bad.message).toMatch(/'cat' is not a class/);
    expect(await failure('labels.accept', { caseId, taskId: task.id })).toMatchObject({ code: 'not-found' });

    expect(await call('labels.flag', { caseId, taskId: task.id })).toEqual({ flagged: true });
    expect(await call('labels.skip', { caseId: items[1].id, taskId: task.id })).toEqual({ skipped: true });
    const record = await call('cases.get', { id: caseId });
    expect(record).toMatchObject({ taskId: task.id, label: 'normal', review: { flagged: true, skipped: false } });
    expect(record.history.map((e) => [e.valueText, e.author, e.source])).toEqual([
      ['normal', 'tester', 'human'],
      ['abnormal', 'tester', 'human'],
      ['normal', 'tester', 'human'],
    ]);
    expect(record.history[2].undoOf).toBe(record.history[1].id);
    expect((await call('cases.list', { filter: 'labeled' })).items.map((c) => [c.id, c.label, c.flagged])).toEqual([
      [caseId, 'normal', true],
    ]);
  });

  it('accepts the active adapter version\'s suggestion and names the version in the history', async () => {
    const ws = session.requireWorkspace();
    const [task] = await call('tasks.list', {});
    const caseId = (await call('cases.list', { filter: 'unlabeled' })).items[0].id;
    const version = ws.versions.add({ taskId: task.id, method: 'dvpt', weights: new Uint8Array([1, 2, 3]) });
    ws.predictions.put(version.id, [{ caseId, probabilities: [0.2, 0.8] }]);
    const record = await call('cases.get', { id: caseId });
    expect(record.prediction).toMatchObject({ versionId: version.id, predicted: 'abnormal', confidence: 0.8 });
    const change = await call('labels.accept', { caseId, taskId: task.id });
    expect(change.label).toBe('abnormal');
    expect(change.event).toMatchObject({ source: 'accepted-suggestion', adapterVersionId: version.id });
    expect(change.event?.adapterVersionName).toMatch(/^v\d+ · DVPT$/);
  });

  it('refuses a second workspace switch while nothing is open and reports bad folders', async () => {
    const err = await failure('workspace.open', { dir: path.join(tmp, 'nope') });
    expect(err.code).toBe('not-a-workspace');
    expect(err.message).toContain('nope');
  });
});
