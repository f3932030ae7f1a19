import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appClients } from '../../helpers/app-client';
import { readBinaryMask } from '../../../core/segmentation/png-mask';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';
import { tempDir } from '../store/helpers/fixtures';

const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm'); // 128×128
const LIVER_SEG = path.join(DICOM_DIR, 'pydicom_data', 'liver.dcm'); // 512×512, three CT slices
const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const FUNDUS = path.join(DRIVE, 'images', '21_training.tif');
const VESSELS = path.join(DRIVE, '1st_manual', '21_manual1.gif');

const client = appClients();

async function setUp(files: string[]) {
  const dir = path.join(tempDir('medtune-masks-'), 'ws');
  const c = client('ann');
  await c.call('workspace.create', { dir });
  await c.call('import.start', { paths: files });
  const items = (await c.call('cases.list', {})).items;
  const task = await c.call('tasks.create', { name: 'Structures', kind: 'segmentation', classes: [{ name: 'vessel' }, { name: 'lesion' }] });
  return { c, items, taskId: task.id, out: tempDir('medtune-mask-out-') };
}

/** Two classes on 128×128: a rectangle (1) and a disc (2). */
function twoClasses(): Uint8Array {
  const labels = new Uint8Array(128 * 128);
  for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) {
    if (y >= 10 && y < 50 && x >= 20 && x < 90) labels[y * 128 + x] = 1;
    if ((x - 80) ** 2 + (y - 90) ** 2 < 400) labels[y * 128 + x] = 2;
  }
  return labels;
}

describe('mask channels', () => {
  it('shows the active version’s predicted mask, accepts it, and records an edit of it as edited-prediction', async () => {
    const { c, items, taskId } = await setUp([CT]);
    const caseId = items[0].id;
    const ws = c.session.requireWorkspace();
    expect(await c.call('masks.get', { taskId, caseId })).toEqual({ mask: null, prediction: null });
    expect(await c.raw('masks.accept', { taskId, caseId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const version = ws.versions.add({ taskId, method: 'dvpt', weights: new Uint8Array([1, 2, 3]) });
    const predicted = twoClasses();
    ws.masks.putPredictions(version.id, [{ caseId, frame: 0, rows: 128, columns: 128, labels: predicted, uncertainty: 0.25 }]);
    const shown = (await c.call('masks.get', { taskId, caseId })).prediction!;
    expect(shown).toMatchObject({ versionId: version.id, versionName: `v${version.id} · DVPT`, uncertainty: 0.25 });
    expect(Array.from(shown.labels)).toEqual(Array.from(predicted));
    const accepted = await c.call('masks.accept', { taskId, caseId });
    expect(accepted).toMatchObject({ source: 'accepted-prediction', adapterVersionId: version.id, adapterVersionName: `v${version.id} · DVPT` });
    const edited = predicted.slice();
    edited.fill(0, 0, 128 * 5);
    const saved = await c.call('masks.save', { taskId, caseId, rows: 128, columns: 128, labels: edited, source: 'edited-prediction', adapterVersionId: version.id });
    expect(saved.source).toBe('edited-prediction');
    expect((await c.call('masks.history', { taskId, caseId })).map((e) => e.source)).toEqual(['accepted-prediction', 'edited-prediction']);
  });

  it('saves a painted mask, returns it as the current one, and lists its history', async () => {
    const { c, items, taskId } = await setUp([CT]);
    const caseId = items[0].id;
    expect((await c.call('masks.get', { taskId, caseId })).mask).toBeNull();
    const labels = twoClasses();
    const saved = await c.call('masks.save', { taskId, caseId, rows: 128, columns: 128, labels });
    expect(saved).toMatchObject({ author: 'ann', source: 'human', frame: 0 });
    const got = (await c.call('masks.get', { taskId, caseId })).mask!;
    expect(got.id).toBe(saved.id);
    expect(Array.from(got.labels)).toEqual(Array.from(labels));
    expect((await c.call('masks.history', { taskId, caseId })).map((e) => e.id)).toEqual([saved.id]);
    const wrong = await c.raw('masks.save', { taskId, caseId, rows: 64, columns: 64, labels: new Uint8Array(64 * 64) });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });

  it('round-trips a mask through an indexed PNG, one PNG per class and a DICOM-SEG', async () => {
    const { c, items, taskId, out } = await setUp([CT]);
    const caseId = items[0].id;
    const labels = twoClasses();
    await c.call('masks.save', { taskId, caseId, rows: 128, columns: 128, labels });
    const formats = [
      ['png-indexed', 1],
      ['png-per-class', 2],
      ['dicom-seg', 1],
    ] as const;
    for (const [format, count] of formats) {
      const { files } = await c.call('masks.export', { taskId, caseId, format, dir: path.join(out, format) });
      expect(files).toHaveLength(count);
      // Clear the mask, then import the files back: the same pixels, recorded as an import.
      await c.call('masks.save', { taskId, caseId, rows: 128, columns: 128, labels: new Uint8Array(128 * 128) });
      const imported = await c.call('masks.import', { taskId, caseId, format, files });
      expect(imported.source).toBe('import');
      const back = (await c.call('masks.get', { taskId, caseId })).mask!;
      expect(back.sha256, format).toBe(imported.sha256);
      expect(Array.from(back.labels), format).toEqual(Array.from(labels));
      if (format === 'dicom-seg') {
        expect(execFileSync('dcmdump', ['-q', files[0]], { encoding: 'latin1' })).toContain('SegmentSequence');
      }
    }
  });

  it('imports DRIVE’s vessel GIF as a binary mask of the fundus photograph', async () => {
    const { c, items, taskId, out } = await setUp([FUNDUS]);
    const caseId = items[0].id;
    const e = await c.call('masks.import', { taskId, caseId, format: 'png-binary', files: [VESSELS] });
    const reference = await readBinaryMask(VESSELS);
    expect(e).toMatchObject({ rows: 584, columns: 565, foreground: reference.labels.reduce((n, v) => n + v, 0) });
    const { files } = await c.call('masks.export', { taskId, caseId, format: 'png-per-class', dir: out });
    expect(Array.from((await readBinaryMask(files[0])).labels)).toEqual(Array.from(reference.labels));
    // A photograph has no DICOM instance for a SEG to reference.
    expect(await c.raw('masks.export', { taskId, caseId, format: 'dicom-seg', dir: out })).toMatchObject({ ok: false, error: { code: 'unsupported' } });
  });

  it('refuses mask files that do not fit the case, naming the file, and stores nothing', async () => {
    const { c, items, taskId, out } = await setUp([CT]);
    const caseId = items[0].id;
    const liver = await c.raw('masks.import', { taskId, caseId, format: 'dicom-seg', files: [LIVER_SEG] });
    expect(liver).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(!liver.ok && liver.error.message).toContain(LIVER_SEG);
    const notImage = await c.raw('masks.import', { taskId, caseId, format: 'png-indexed', files: [CT] });
    expect(notImage).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(!notImage.ok && notImage.error.message).toContain(CT);
    expect(await c.raw('masks.import', { taskId, caseId, format: 'png-binary', files: [path.join(out, 'absent.png')] })).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    expect(await c.raw('masks.export', { taskId, caseId, format: 'png-indexed', dir: out })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await c.call('masks.history', { taskId, caseId })).toEqual([]);
  });
});
