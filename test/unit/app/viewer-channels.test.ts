import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DicomTagNodeT } from '../../../core/api/contract';
import { readDicomTags } from '../../../core/imaging/dicom/tags';
import { appClients } from '../../helpers/app-client';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';
import { tempDir } from '../store/helpers/fixtures';

const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');
const MULTIFRAME = path.join(DICOM_DIR, 'pydicom_data', 'emri_small.dcm');
const FUNDUS = path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', '21_training.tif');

const client = appClients();

async function workspaceWith(files: string[]) {
  const dir = path.join(tempDir('medtune-viewer-'), 'ws');
  const a = client('ann');
  await a.call('workspace.create', { dir });
  await a.call('import.start', { paths: files });
  const items = (await a.call('cases.list', {})).items;
  return { dir, a, items };
}

/** Top-level tags as dcmdump (dcmtk) lists them, sequence/item delimiters left out. */
function dcmdumpTopLevel(file: string): string[] {
  const out = execFileSync('dcmdump', ['-q', file], { encoding: 'latin1' });
  return out
    .split('\n')
    .filter((l) => l.startsWith('(') && !l.startsWith('(fffe'))
    .map((l) => l.slice(0, 11).toUpperCase());
}

describe('DICOM tag browser data', () => {
  it('lists every top-level element dcmdump lists, in tag order, with names, VRs and values', async () => {
    const tree = await readDicomTags(CT);
    const ours = tree.elements.map((e) => e.tag);
    expect(ours).toEqual(dcmdumpTopLevel(CT));
    const byTag = (t: string) => tree.elements.find((e) => e.tag === t)!;
    expect(byTag('(0008,0060)')).toMatchObject({ name: 'Modality', vr: 'CS', value: 'CT' });
    expect(byTag('(0028,0010)')).toMatchObject({ name: 'Rows', vr: 'US', value: '128' });
    expect(byTag('(0010,0010)').value).toBe('CompressedSamples^CT1');
    expect(byTag('(7FE0,0010)').value).toBe('<pixel data: 32768 bytes>');
    expect(byTag('(0009,0010)').name).toBe('Private Creator');
    expect(tree.pixelSpacing).toEqual([0.661468, 0.661468]);
    expect(tree.imagerPixelSpacing).toBeUndefined();
  });

  it('nests sequences item by item (Other Patient IDs Sequence as dcmdump shows it)', async () => {
    const seq = (await readDicomTags(CT)).elements.find((e) => e.tag === '(0010,1002)')!;
    expect(seq).toMatchObject({ vr: 'SQ', value: '2 item(s)' });
    const ids = seq.items!.map((item: DicomTagNodeT[]) => item.find((e) => e.tag === '(0010,0020)')!.value);
    expect(ids).toEqual(['ABCD1234', '1234ABCD']);
  });

  it('names the file when it is not DICOM', async () => {
    const bad = path.join(tempDir('medtune-tags-'), 'text.dcm');
    fs.writeFileSync(bad, 'plain text, not DICOM');
    await expect(readDicomTags(bad)).rejects.toThrow(/text\.dcm/);
  });

  it('serves the tree over cases.tags; a photo gets a note instead', async () => {
    const { a, items } = await workspaceWith([CT, FUNDUS]);
    const ct = items.find((c) => c.kind === 'dicom')!;
    const photo = items.find((c) => c.kind === 'photo')!;
    const tags = await a.call('cases.tags', { id: ct.id });
    expect(tags).toMatchObject({ caseId: ct.id, dicom: true, pixelSpacing: [0.661468, 0.661468] });
    expect(tags.elements.length).toBe(dcmdumpTopLevel(CT).length);
    const none = await a.call('cases.tags', { id: photo.id });
    expect(none).toMatchObject({ dicom: false, elements: [] });
    expect(none.note).toMatch(/photo/);
    expect(await a.raw('cases.tags', { id: 99999 })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

describe('measurements per case', () => {
  it('adds, lists, deletes, and keeps them across a reopen', async () => {
    const { dir, a, items } = await workspaceWith([CT, MULTIFRAME]);
    const first = items.find((c) => c.frameCount === 1)!;
    const multi = items.find((c) => c.frameCount === 10)!;
    const length = await a.call('measurements.add', { caseId: first.id, kind: 'length', points: [[1, 2], [30, 40]] });
    expect(length).toMatchObject({ caseId: first.id, frame: 0, kind: 'length', points: [[1, 2], [30, 40]], author: 'ann' });
    await a.call('measurements.add', { caseId: first.id, kind: 'angle', points: [[0, 0], [5, 5], [10, 0]] });
    await a.call('measurements.add', { caseId: multi.id, frame: 9, kind: 'ellipse', points: [[2, 2], [20, 10]] });
    expect((await a.call('measurements.list', { caseId: first.id })).map((m) => m.kind)).toEqual(['length', 'angle']);
    expect(await a.call('measurements.list', { caseId: multi.id })).toHaveLength(1);

    expect(await a.call('measurements.delete', { id: length.id })).toEqual({ deleted: true });
    expect(await a.call('measurements.delete', { id: length.id })).toEqual({ deleted: false });

    const b = client('bob');
    await b.call('workspace.open', { dir });
    expect((await b.call('measurements.list', { caseId: first.id })).map((m) => m.kind)).toEqual(['angle']);
    expect((await b.call('measurements.list', { caseId: multi.id }))[0]).toMatchObject({ frame: 9, author: 'ann' });
  });

  it('refuses wrong point counts, frames past the end and unknown cases, with a reason', async () => {
    const { a, items } = await workspaceWith([CT]);
    const id = items[0].id;
    expect(await a.raw('measurements.add', { caseId: id, kind: 'angle', points: [[0, 0], [1, 1]] })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/angle measurement needs 3 points/) },
    });
    expect(await a.raw('measurements.add', { caseId: id, frame: 1, kind: 'length', points: [[0, 0], [1, 1]] })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/1 frame/) },
    });
    expect(await a.raw('measurements.add', { caseId: 4242, kind: 'length', points: [[0, 0], [1, 1]] })).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    expect(await a.raw('measurements.add', { caseId: id, kind: 'circle', points: [[0, 0], [1, 1]] })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
  });
});
