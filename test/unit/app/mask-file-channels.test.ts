import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../../core/api/dispatch';
import type { ChannelName } from '../../../core/api/names';
import type { RequestOf, ResponseOf } from '../../../core/api/contract';
import { createHandlers } from '../../../core/app/handlers';
import { AppSession } from '../../../core/app/session';
import { readBinaryMask, readIndexedMask } from '../../../core/segmentation/png-mask';
import { FUNDUS_DIR } from '../../helpers/paths';
import { tempDir } from '../store/helpers/fixtures';

const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const MANUAL = path.join(DRIVE, '1st_manual');

const sessions: AppSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.dispose();
});

describe('masks.importFiles and masks.exportAll (the UI’s mask files)', () => {
  it('imports a folder of DRIVE manual masks matched by name, reports the rest, and exports every mask', async () => {
    const session = new AppSession('ann');
    sessions.push(session);
    const handlers = createHandlers(session);
    const raw = (channel: ChannelName, request: unknown) => dispatch(handlers, channel, request, { transport: 'websocket' });
    const call = async <C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
      const result = await raw(channel, request);
      if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
      return result.value as ResponseOf<C>;
    };
    await call('workspace.create', { dir: path.join(tempDir('medtune-maskfiles-'), 'ws') });
    await call('import.start', { paths: [21, 22].map((n) => path.join(DRIVE, 'images', `${n}_training.tif`)) });
    const task = await call('tasks.create', { name: 'Vessels', kind: 'segmentation', classes: [{ name: 'vessel' }] });

    const report = await call('masks.importFiles', { taskId: task.id, format: 'png-binary', paths: [MANUAL] });
    expect(report.matched.map((m) => m.caseName).sort()).toEqual(['21_training.tif', '22_training.tif']);
    expect(report.unmatched).toHaveLength(18);
    expect(report.unmatched[0]).toEqual({ file: path.join(MANUAL, '23_manual1.gif'), reason: "no case is named like '23_manual1'" });
    expect(report.refused).toEqual([]);

    const out = tempDir('medtune-maskfiles-out-');
    const exported = await call('masks.exportAll', { taskId: task.id, format: 'png-indexed', dir: out });
    expect(exported.written).toHaveLength(2);
    expect((await readIndexedMask(path.join(out, '21_training-mask.png'), 2)).labels).toEqual((await readBinaryMask(path.join(MANUAL, '21_manual1.gif'))).labels);
    // A DICOM-SEG needs a DICOM source: both photographs are skipped, saying why.
    const seg = await call('masks.exportAll', { taskId: task.id, format: 'dicom-seg', dir: out });
    expect(seg.written).toEqual([]);
    expect(seg.skipped[0].reason).toMatch(/^21_training\.tif is a .* photo: a DICOM-SEG needs a DICOM source image$/);

    const other = await call('tasks.create', { name: 'Grade', kind: 'multiclass', classes: [{ name: 'a' }, { name: 'b' }] });
    const wrong = await raw('masks.importFiles', { taskId: other.id, format: 'png-binary', paths: [MANUAL] });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'invalid', message: "task 'Grade' is a multiclass task: masks need a segmentation task" } });
    const missing = await raw('masks.importFiles', { taskId: task.id, format: 'png-binary', paths: [path.join(out, 'nope')] });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not-found' } });
  }, 120_000);
});
