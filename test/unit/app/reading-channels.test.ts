import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch, type Handlers } from '../../../core/api/dispatch';
import type { ChannelName } from '../../../core/api/names';
import type { RequestOf, ResponseOf } from '../../../core/api/contract';
import { createHandlers } from '../../../core/app/handlers';
import { readSliceGeometry, sortSlices } from '../../../core/app/series-stack';
import { AppSession } from '../../../core/app/session';
import { decodeDicom, decodeDicomPreview } from '../../../core/imaging/dicom';
import { renderFrame } from '../../../core/imaging/display';
import { shrink } from '../../../core/app/viewer-images';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';
import { tempDir } from '../store/helpers/fixtures';

/** A real DICOMDIR test set: patient 98890234 has a CT study (2001) and an MR study (2003) with several series. */
const DIRTESTS = path.join(DICOM_DIR, 'pydicom_debian', 'dicomdirtests');
const CT5N = path.join(DIRTESTS, '98892001', 'CT5N');
const MR_STUDY = path.join(DIRTESTS, '98892003');

const sessions: AppSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.dispose();
});

async function workspaceWith(files: string[]) {
  const session = new AppSession('ann');
  sessions.push(session);
  const handlers: Handlers = createHandlers(session);
  const call = async <C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
    const result = await dispatch(handlers, channel, request, { transport: 'websocket' });
    if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
    return result.value as ResponseOf<C>;
  };
  await call('workspace.create', { dir: path.join(tempDir('medtune-reading-'), 'ws') });
  await call('import.start', { paths: files });
  const items = (await call('cases.list', { limit: 1000 })).items;
  const byFile = (name: string) => items.find((c) => c.displayName === name)!;
  return { call, items, byFile };
}

describe('series stack', () => {
  it('sorts a CT series along the slice normal, highest first (OHIF order), and names the study’s other series', async () => {
    const { call, byFile } = await workspaceWith([path.join(DIRTESTS, '98892001')]);
    // Instance numbers 6…10 go down in z (8.76 → -1.24 mm); their file names are in another order.
    const stack = await call('series.stack', { id: byFile('3023').id });
    expect(stack.sortedBy).toBe('position');
    expect(stack.slices.map((s) => s.instanceNumber)).toEqual([6, 7, 8, 9, 10]);
    expect(stack.slices.map((s) => s.position)).toEqual([8.763, 6.263, 3.763, 1.263, -1.237]);
    expect(stack.index).toBe(3);
    expect(stack.modality).toBe('CT');
    expect(stack.study.map((s) => [s.seriesNumber, s.count])).toEqual([[4, 2], [5, 5]]);
    expect(stack.seriesIndex).toBe(1);
    // Series 4's two slices lie in different planes: no common normal, so instance-number order.
    const scout = await call('series.stack', { id: stack.study[0].caseId });
    expect(scout.sortedBy).toBe('instance-number');
    expect(scout.modelInput).toBeNull();
  });

  it('states the model input of a series task: the middle slice by instance number, then the labelled one', async () => {
    const { call, byFile } = await workspaceWith([CT5N]);
    const task = await call('tasks.create', { name: 'ct', kind: 'multiclass', classes: [{ name: 'a', color: '#ff0000' }, { name: 'b', color: '#00ff00' }], caseUnit: 'series' });
    const stack = await call('series.stack', { id: byFile('2062').id, taskId: task.id });
    // Instance numbers 6…10: the middle is instance 8 (file 2693).
    expect(stack.modelInput).toMatchObject({ caseId: byFile('2693').id, unit: 'series', rule: 'the middle slice by instance number' });
    await call('labels.set', { caseId: byFile('2693').id, taskId: task.id, value: 'a' });
    const after = await call('series.stack', { id: byFile('3353').id, taskId: task.id });
    expect(after.modelInput).toMatchObject({ caseId: byFile('2693').id, rule: 'the case that carries the label' });
  });

  it('reads positions from the header only, and falls back to instance numbers without them', async () => {
    const geometry = await readSliceGeometry(path.join(CT5N, '2062'));
    expect(geometry.position).toEqual([-72.199997, -143, 8.7625]);
    expect(geometry.orientation).toHaveLength(6);
    expect(await readSliceGeometry(path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', '21_training.tif'))).toEqual({});
    const members = [{ caseId: 1, instanceNumber: 2 }, { caseId: 2, instanceNumber: 1 }];
    expect(sortSlices(members, [{}, {}])).toEqual({ slices: members, sortedBy: 'instance-number' });
    expect(sortSlices([{ caseId: 3 }], [{}]).sortedBy).toBe('import-order');
  });
});

describe('grouped worklist', () => {
  it('groups patient → study (newest first) → series with the filtered cases', async () => {
    const { call, byFile } = await workspaceWith([path.join(DIRTESTS, '98892001'), MR_STUDY, path.join(DIRTESTS, '77654033')]);
    const groups = await call('worklist.groups', {});
    expect(groups.truncated).toBe(false);
    expect(groups.total).toBe(31);
    const ids = groups.patients.map((p) => p.patientId);
    expect(ids).toEqual(expect.arrayContaining(['98890234', '77654033']));
    const p = groups.patients.find((x) => x.patientId === '98890234')!;
    expect(p.studies.map((s) => s.studyDate)[0]).toBe('20030505');
    const ct = p.studies.find((s) => s.studyDate === '20010101')!;
    expect(ct.series.map((s) => s.seriesNumber)).toEqual([4, 5]);
    expect(ct.series[1].caseIds).toEqual(['2062', '2392', '2693', '3023', '3353'].map((f) => byFile(f).id));
    const searched = await call('worklist.groups', { search: '2392' });
    expect(searched.total).toBe(1);
    expect(searched.patients[0].studies[0].series[0].caseIds).toEqual([byFile('2392').id]);
  });
});

describe('hanging partners', () => {
  it('prior: the latest earlier study of the same patient, its series of the same modality when there is one', async () => {
    const { call, byFile } = await workspaceWith([path.join(DIRTESTS, '98892001'), MR_STUDY, path.join(DIRTESTS, '77654033')]);
    // Three MR studies on 2003-05-05: the angio study of 04:53 has the one of 02:51 before it (its MR series 1).
    expect(await call('cases.hanging', { id: byFile('4467').id, rule: 'prior' })).toEqual({
      caseId: byFile('4919').id,
      reason: 'Prior study of 20030505, MR series 1 FAST LOCALIZER',
    });
    // Before the 02:51 study comes the CT study of 2001, with no MR series: its first series (2 slices), the middle one.
    expect(await call('cases.hanging', { id: byFile('4919').id, rule: 'prior' })).toEqual({
      caseId: byFile('6924').id,
      reason: 'Prior study of 20010101, CT series 4 Scout',
    });
    const ct = await call('cases.hanging', { id: byFile('2062').id, rule: 'prior' });
    expect(ct).toEqual({ caseId: null, reason: 'No earlier study of this patient.' });
  });

  it('fundus: the other eye of the same visit, by laterality', async () => {
    const dir = tempDir('medtune-eyes-');
    // One visit's folder: both eyes named by OD/OS, and a photo that states no side.
    const photo = (name: string, red: number) =>
      sharp({ create: { width: 32, height: 24, channels: 3, background: { r: red, g: 40, b: 10 } } }).png().toFile(path.join(dir, name));
    await Promise.all([photo('p21_OD.png', 200), photo('p21_OS.png', 150), photo('p23.png', 100)]);
    const { call, byFile } = await workspaceWith([dir]);
    expect(await call('cases.hanging', { id: byFile('p21_OD.png').id, rule: 'fundus' })).toEqual({
      caseId: byFile('p21_OS.png').id,
      reason: 'OS (left eye) of the same visit beside OD (right eye)',
      partnerSide: 'right',
    });
    // Opened on the left eye, the right eye still hangs on the left: OD | OS.
    expect(await call('cases.hanging', { id: byFile('p21_OS.png').id, rule: 'fundus' })).toMatchObject({ caseId: byFile('p21_OD.png').id, partnerSide: 'left' });
    expect((await call('cases.hanging', { id: byFile('p23.png').id, rule: 'fundus' })).caseId).toBeNull();
    // A folder of photos is no stack: each photo scrolls alone.
    expect((await call('series.stack', { id: byFile('p21_OD.png').id })).slices.map((s) => s.caseId)).toEqual([byFile('p21_OD.png').id]);
  });
});

describe('quick JPEG 2000 first view', () => {
  const J2K = path.join(DICOM_DIR, 'pydicom_data', 'MR2_J2KI.dcm');

  it('decodes a reduced resolution of the codestream that looks like the full image, shrunk', async () => {
    const bytes = new Uint8Array(fs.readFileSync(J2K));
    const preview = (await decodeDicomPreview(bytes, J2K, 256))!;
    const full = await decodeDicom(bytes, J2K);
    expect([preview.rows, preview.columns, full.rows, full.columns]).toEqual([256, 256, 1024, 1024]);
    expect(preview.frames[0]).toHaveLength(256 * 256);
    // Against the mean of each 4×4 block of the full image (the wavelet low-pass of the same data): same mean,
    // correlation near 1.
    const f = full.frames[0];
    const q = preview.frames[0];
    const blocks = Array.from({ length: 256 * 256 }, (_, i) => {
      const [y, x] = [Math.floor(i / 256), i % 256];
      let sum = 0;
      for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) sum += f[(y * 4 + dy) * 1024 + x * 4 + dx];
      return sum / 16;
    });
    const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;
    const [mq, mb] = [mean(q), mean(blocks)];
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < blocks.length; i++) {
      sxy += (q[i] - mq) * (blocks[i] - mb);
      sxx += (q[i] - mq) ** 2;
      syy += (blocks[i] - mb) ** 2;
    }
    expect(Math.abs(mq - mb) / mb).toBeLessThan(0.01);
    expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.98);
    // Not JPEG 2000, or already small: no preview.
    expect(await decodeDicomPreview(new Uint8Array(fs.readFileSync(path.join(CT5N, '2062'))), '2062', 256)).toBeUndefined();
    expect(await decodeDicomPreview(bytes, J2K, 1024)).toBeUndefined();
  });

  it('cases.preview answers a JPEG 2000 case with its reduced first frame and the full size, other cases with null', async () => {
    const { call, byFile } = await workspaceWith([J2K, path.join(CT5N, '2062')]);
    const preview = (await call('cases.preview', { id: byFile('MR2_J2KI.dcm').id }))!;
    expect(preview).toMatchObject({ rows: 256, columns: 256, preview: { rows: 1024, columns: 1024 }, caseId: byFile('MR2_J2KI.dcm').id });
    expect(await call('cases.preview', { id: byFile('2062').id })).toBeNull();
    // Its worklist thumbnail comes from the reduced decode too, and matches one shrunk from the full image.
    const thumb = await call('cases.thumbnail', { id: byFile('MR2_J2KI.dcm').id, size: 64 });
    const full = await decodeDicom(new Uint8Array(fs.readFileSync(J2K)), J2K);
    const reference = shrink(renderFrame(full, 0).rgba, 1024, 1024, 64);
    expect([thumb.width, thumb.height]).toEqual([64, 64]);
    const grey = (rgba: ArrayLike<number>) => Array.from({ length: 64 * 64 }, (_, i) => rgba[i * 4]);
    const [a, b] = [grey(thumb.rgba), grey(reference.rgba)];
    expect(a.reduce((n, v, i) => n + Math.abs(v - b[i]), 0) / a.length).toBeLessThan(4);
  });
});
