import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDicomSeg } from '../../../core/segmentation/dicom-seg';
import { readBinaryMask, readIndexedMask } from '../../../core/segmentation/png-mask';
import { Workspace } from '../../../core/store';
import { runCli } from '../../helpers/cli';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';
import { tempDir } from '../store/helpers/fixtures';

const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const MANUAL = path.join(DRIVE, '1st_manual'); // 20 GIFs 21_manual1.gif … 40_manual1.gif
const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm'); // 128×128
const LIVER_SEG = path.join(DICOM_DIR, 'pydicom_data', 'liver.dcm'); // references CT slices that are not in the workspace

describe('medtune masks import|export', () => {
  it('imports DRIVE manual masks matched by file name, exports PNG and DICOM-SEG, and reimports the SEG by its referenced instance', async () => {
    const root = tempDir('medtune-cli-masks-');
    const dir = path.join(root, 'ws');
    const ws = Workspace.create(dir);
    // Five DRIVE photographs (21–25) and one CT slice: the other 15 manual masks have no case.
    await ws.import([...[21, 22, 23, 24, 25].map((n) => path.join(DRIVE, 'images', `${n}_training.tif`)), CT]);
    ws.tasks.create({ name: 'vessels', kind: 'segmentation', classes: ['vessel', 'lesion'] });
    ws.tasks.create({ name: 'grade', kind: 'multiclass', classes: ['a', 'b'] });
    const ctId = ws.cases.all().find((c) => c.displayName === 'CT_small.dcm')!.id;
    ws.close();

    const imported = await runCli(['masks', 'import', MANUAL, '-w', dir, '--task', 'vessels', '--format', 'png-binary', '--author', 'ann']);
    expect(imported.code, imported.err).toBe(3); // done, but some files were left out
    expect(imported.out).toContain('5 imported, 15 unmatched, 0 refused');
    expect(imported.out).toMatch(/^imported {2}21_training\.tif {2}\d+ px {2}← .*21_manual1\.gif$/m);
    expect(imported.out).toContain(`unmatched ${path.join(MANUAL, '40_manual1.gif')}: no case is named like '40_manual1'`);

    const check = Workspace.open(dir);
    const task = check.tasks.byName('vessels')!;
    const stored = check.masks.currentAll(task.id);
    expect(stored).toHaveLength(5);
    const case21 = check.cases.all().find((c) => c.displayName === '21_training.tif')!;
    const event21 = stored.find((e) => e.caseId === case21.id)!;
    expect(event21).toMatchObject({ author: 'ann', source: 'import' });
    const reference = await readBinaryMask(path.join(MANUAL, '21_manual1.gif'));
    expect(check.masks.current({ taskId: task.id, caseId: case21.id, frame: 0 })!.labels).toEqual(reference.labels);
    // A two-class mask on the CT slice, to export as DICOM-SEG.
    const ct = new Uint8Array(128 * 128);
    for (let y = 10; y < 50; y++) for (let x = 20; x < 90; x++) ct[y * 128 + x] = 1;
    for (let y = 70; y < 100; y++) for (let x = 60; x < 100; x++) ct[y * 128 + x] = 2;
    check.masks.save({ taskId: task.id, caseId: ctId, frame: 0, rows: 128, columns: 128, labels: ct, author: 'ann', source: 'human' });
    check.close();

    // PNG export of every mask; the indexed PNGs read back as the stored masks.
    const pngDir = path.join(root, 'png');
    const png = await runCli(['masks', 'export', pngDir, '-w', dir, '--task', 'vessels', '--format', 'png-indexed']);
    expect(png.code, png.err).toBe(0);
    expect(png.out).toContain('6 written, 0 skipped');
    expect((await readIndexedMask(path.join(pngDir, '21_training-mask.png'), 3)).labels).toEqual(reference.labels);

    // DICOM-SEG: only the DICOM case can have one; the photographs are skipped with the reason.
    const segDir = path.join(root, 'seg');
    const seg = await runCli(['masks', 'export', segDir, '-w', dir, '--task', 'vessels', '--format', 'dicom-seg']);
    expect(seg.code, seg.err).toBe(3);
    expect(seg.out).toContain('1 written, 5 skipped');
    expect(seg.out).toContain('skipped 21_training.tif: 21_training.tif is a');
    const segFile = path.join(segDir, 'CT_small-seg.dcm');
    expect((await readDicomSeg(segFile)).segments.map((s) => s.label)).toEqual(['vessel', 'lesion']);
    const verify = spawnSync('dciodvfy', [segFile], { encoding: 'utf8' });
    const report = `${verify.stdout}${verify.stderr}`;
    expect(report).toContain('Segmentation');
    expect(report.split('\n').filter((l) => /^Error/.test(l))).toEqual([]);
    expect(spawnSync('dcmdump', [segFile], { encoding: 'utf8' }).stdout).toContain('=SegmentationStorage');

    // Reimport into a second task: the exported SEG matches the CT case by its referenced SOP Instance UID
    // (its name matches nothing); dcmqi's liver SEG references slices this workspace lacks.
    const again = Workspace.open(dir);
    again.tasks.create({ name: 'copy', kind: 'segmentation', classes: ['vessel', 'lesion'] });
    again.close();
    fs.copyFileSync(segFile, path.join(root, 'renamed.dcm'));
    const back = await runCli(['masks', 'import', path.join(root, 'renamed.dcm'), LIVER_SEG, '-w', dir, '--task', 'copy', '--format', 'dicom-seg', '--json']);
    expect(back.code, back.err).toBe(3);
    const json = JSON.parse(back.out) as { matched: { caseId: number }[]; unmatched: { file: string; reason: string }[] };
    expect(json.matched.map((m) => m.caseId)).toEqual([ctId]);
    expect(json.unmatched).toEqual([{ file: LIVER_SEG, reason: expect.stringMatching(/^its frames reference 3 SOP Instance UID\(s\) \(.+, …\) that no case of this workspace has$/) }]);
    const last = Workspace.open(dir);
    expect(last.masks.current({ taskId: last.tasks.byName('copy')!.id, caseId: ctId, frame: 0 })!.labels).toEqual(ct);
    last.close();

    // Per-class PNGs: named <case>-class<k>; a mask of the wrong size is refused naming the case and the file.
    const perClassDir = path.join(root, 'per-class');
    expect((await runCli(['masks', 'export', perClassDir, '-w', dir, '--task', 'vessels', '--format', 'png-per-class'])).code).toBe(0);
    fs.copyFileSync(path.join(MANUAL, '30_manual1.gif'), path.join(root, 'CT_small-mask.gif'));
    const mixed = await runCli(['masks', 'import', path.join(perClassDir, 'CT_small-class1.png'), path.join(perClassDir, 'CT_small-class2.png'), '-w', dir, '--task', 'copy', '--format', 'png-per-class']);
    expect(mixed.code, mixed.err).toBe(0);
    const wrongSize = await runCli(['masks', 'import', path.join(root, 'CT_small-mask.gif'), '-w', dir, '--task', 'copy', '--format', 'png-binary']);
    expect(wrongSize.code).toBe(1);
    expect(wrongSize.out).toContain(`refused   ${path.join(root, 'CT_small-mask.gif')} (CT_small.dcm): ${path.join(root, 'CT_small-mask.gif')}: the mask is 565×584, CT_small.dcm is 128×128`);
    expect(wrongSize.err).toContain('no mask was imported');

    // Bad usage and a task of another kind are plain failures.
    expect((await runCli(['masks', 'import', MANUAL, '-w', dir, '--task', 'vessels', '--format', 'jpeg'])).code).toBe(2);
    const wrongKind = await runCli(['masks', 'import', MANUAL, '-w', dir, '--task', 'grade', '--format', 'png-binary']);
    expect(wrongKind).toMatchObject({ code: 1 });
    expect(wrongKind.err).toContain("task 'grade' is a multiclass task");
    expect((await runCli(['masks', 'import', path.join(root, 'nope'), '-w', dir, '--task', 'vessels', '--format', 'png-binary'])).err).toContain('no such file or folder');
  }, 120_000);
});
