import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Workspace, exportLabels, importLabelCsv, parseCsv, WorkspaceError } from '../../../core/store';
import { tempDir, tinyDicomSet, writeDicomFiles } from './helpers/fixtures';

let ws: Workspace;
let root: string;
let caseIds: number[];

beforeEach(async () => {
  root = tempDir();
  writeDicomFiles(path.join(root, 'in'), tinyDicomSet(6, { perSeries: 3, seriesPerStudy: 1 }));
  ws = Workspace.create(path.join(root, 'ws'));
  caseIds = (await ws.import([path.join(root, 'in')])).caseIds;
  return () => ws.close();
});

describe('label CSV import', () => {
  it('labels by file, SOP Instance UID or case id, creating the task', () => {
    const csv = 'file,label\r\nim00000.dcm,normal\r\n' + `${path.join(root, 'in', 'im00001.dcm')},abnormal\r\n`;
    const r = importLabelCsv(ws, { task: 'finding', csvText: csv, author: 'ann', classes: ['normal', 'abnormal'] });
    expect(r).toMatchObject({ taskCreated: true, labelled: 2, unchanged: 0 });
    const sop = ws.cases.get(caseIds[2]).sopInstanceUid;
    const r2 = importLabelCsv(ws, { task: 'finding', csvText: `sop_instance_uid,label\n${sop},normal\n`, author: 'ann' });
    expect(r2.labelled).toBe(1);
    const r3 = importLabelCsv(ws, { task: 'finding', csvText: `case_id,label\n${caseIds[0]},normal\n${caseIds[3]},"abnormal"\n`, author: 'bob' });
    expect(r3).toMatchObject({ labelled: 1, unchanged: 1 });
    expect(ws.labels.counts(r.taskId)).toEqual({ total: 4, byClass: { normal: 2, abnormal: 2 } });
    expect(ws.labels.current(caseIds[3], r.taskId)?.source).toBe('import');
  });

  it('takes the user’s own splits from a split column (a held-out test set), and refuses an unknown split', () => {
    const csv = `case_id,label,split\n${caseIds[0]},normal,test\n${caseIds[1]},abnormal,TEST\n${caseIds[2]},normal,\n${caseIds[3]},abnormal,val\n`;
    const r = importLabelCsv(ws, { task: 'finding', csvText: csv, author: 'ann', classes: ['normal', 'abnormal'] });
    expect(r).toMatchObject({ labelled: 4, assignedSplits: 3 });
    expect(ws.splits.caseIds(r.taskId, 'test')).toEqual([caseIds[0], caseIds[1]]);
    expect(ws.splits.get(r.taskId, caseIds[3])).toMatchObject({ split: 'val', source: 'user', stratum: 'abnormal' });
    expect(ws.splits.get(r.taskId, caseIds[2])).toMatchObject({ source: 'auto' });
    expect(() => importLabelCsv(ws, { task: 'finding', csvText: `case_id,label,split\n${caseIds[4]},normal,holdout\n`, author: 'ann' })).toThrow(
      /line 2: split 'holdout' is not one of train, val, test/,
    );
    expect(ws.splits.get(r.taskId, caseIds[4])).toBeUndefined();
  });

  it('rejects a bad file as a whole, naming every bad line', async () => {
    ws.tasks.create({ name: 'finding', kind: 'multiclass', classes: ['normal', 'abnormal'] });
    const csv = `case_id,label\n${caseIds[0]},normal\n424242,normal\n${caseIds[1]},weird\n`;
    let message = '';
    try {
      importLabelCsv(ws, { task: 'finding', csvText: csv, csvName: 'labels.csv', author: 'ann' });
    } catch (err) {
      expect(err).toBeInstanceOf(WorkspaceError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/labels\.csv: 2 bad row/);
    expect(message).toMatch(/line 3: no case/);
    expect(message).toMatch(/line 4: 'weird' is not a class/);
    expect(ws.labels.counts(1).total).toBe(0);
    expect(() => importLabelCsv(ws, { task: 'finding', csvText: 'id,x\n1,2\n', author: 'a' })).toThrow(/needs a 'label' column/);
    // The same file name in two folders is ambiguous: the full path is needed.
    const other = path.join(root, 'other');
    writeDicomFiles(other, tinyDicomSet(1, { root: '1.2.826.0.1.3680043.10.998' }));
    await ws.import([other]);
    expect(() => importLabelCsv(ws, { task: 'finding', csvText: 'file,label\nim00000.dcm,normal\n', author: 'a' })).toThrow(
      /matches 2 cases; give the full path/,
    );
    const full = `file,label\n${path.join(other, 'im00000.dcm')},normal\n`;
    expect(importLabelCsv(ws, { task: 'finding', csvText: full, author: 'a' }).labelled).toBe(1);
    expect(() => importLabelCsv(ws, { task: 'other', csvText: 'case_id,label\n', author: 'a' })).toThrow(/No label task named 'other'/);
    expect(() => importLabelCsv(ws, { task: 'finding', csvText: 'case_id,label\n"1,normal\n', author: 'a' })).toThrow(/not closed/);
  });
});

describe('label export', () => {
  beforeEach(() => {
    const t = ws.tasks.create({ name: 'finding', kind: 'multilabel', classes: ['nodule', 'effusion'] });
    ws.labels.set({ caseId: caseIds[0], taskId: t.id, value: ['nodule', 'effusion'], author: 'ann' });
    ws.labels.set({ caseId: caseIds[4], taskId: t.id, value: ['effusion'], author: '=cmd()' });
  });

  it('writes CSV and JSON with UIDs, file, label, author and time', () => {
    const csv = parseCsv(exportLabels(ws, { taskId: 1, format: 'csv' }));
    expect(csv.header).toEqual([
      'case_id', 'study_instance_uid', 'series_instance_uid', 'sop_instance_uid', 'file', 'patient_id', 'patient_name',
      'study_date', 'modality', 'split', 'label', 'author', 'source', 'labelled_at',
    ]);
    expect(csv.rows).toHaveLength(2);
    const first = Object.fromEntries(csv.header.map((h, i) => [h, csv.rows[0].cells[i]]));
    expect(first).toMatchObject({
      case_id: String(caseIds[0]),
      sop_instance_uid: '1.2.826.0.1.3680043.10.999.3.1',
      patient_id: 'PID0000',
      label: 'nodule, effusion',
      author: 'ann',
    });
    expect(first.file).toBe(path.join(root, 'in', 'im00000.dcm'));
    // A spreadsheet must not run an author name as a formula.
    expect(csv.rows[1].cells[csv.header.indexOf('author')]).toBe("'=cmd()");

    const json = JSON.parse(exportLabels(ws, { taskId: 1, format: 'json' }));
    expect(json.task.name).toBe('finding');
    expect(json.labels[0].value).toEqual(['nodule', 'effusion']);
    const history = JSON.parse(exportLabels(ws, { taskId: 1, format: 'json', history: true }));
    expect(history.labels).toHaveLength(2);
  });

  it('de-identifies: no patient identifiers, UIDs hashed consistently', () => {
    const text = exportLabels(ws, { taskId: 1, format: 'csv', deidentify: true });
    for (const secret of ['PID0000', 'Doe^Patient', 'ACC1', 'General Hospital', '19700101', '1.2.826.0.1.3680043.10.999', root]) {
      expect(text).not.toContain(secret);
    }
    const again = exportLabels(ws, { taskId: 1, format: 'csv', deidentify: true });
    expect(again.split('\r\n').map((l) => l.split(',').slice(0, 5).join())).toEqual(text.split('\r\n').map((l) => l.split(',').slice(0, 5).join()));
    const rows = parseCsv(text);
    const col = (name: string) => rows.rows.map((r) => r.cells[rows.header.indexOf(name)]);
    expect(col('sop_instance_uid').every((u) => /^2\.25\.\d+$/.test(u))).toBe(true);
    // The two labelled cases come from two studies: two distinct hashed study UIDs.
    expect(new Set(col('study_instance_uid')).size).toBe(2);
    expect(col('patient_pseudonym').every((p) => /^ANON-[0-9A-F]{12}$/.test(p))).toBe(true);
    const json = exportLabels(ws, { taskId: 1, format: 'json', deidentify: true, deidSecret: 'shared-key' });
    expect(json).not.toContain('PID0000');
    expect(JSON.parse(json).labels[0].sop_instance_uid).not.toBe(col('sop_instance_uid')[0]);
  });
});
