/** Import checks pixels, quarantines what cannot be decoded as cases under the original name, and keeps aliases. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace, importLabelCsv } from '../../../core/store';
import { databaseOf } from '../../../core/store/workspace';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';
import { errorCode, tempDir, tinyDicomSet, writeDicomFiles, writeTinyDicom } from './helpers/fixtures';

const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');
const MR_TRUNCATED = path.join(DICOM_DIR, 'pydicom_debian', 'MR_truncated.dcm');
const RETINA = path.join(FUNDUS_DIR, 'skimage', 'retina.jpg');

describe('import checks pixels', () => {
  it('quarantines files whose pixels cannot be decoded as cases named by the original file, out of every other filter', async () => {
    const root = tempDir();
    const dir = path.join(root, 'in');
    fs.mkdirSync(dir);
    const good = writeDicomFiles(dir, tinyDicomSet(2));
    const ct = fs.readFileSync(CT);
    // Cut inside the pixel data, and cut right before it: the header still describes a 128×128 image.
    fs.writeFileSync(path.join(dir, 'cut-pixels.dcm'), ct.subarray(0, ct.length - 5000));
    const pixelTag = ct.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
    fs.writeFileSync(path.join(dir, 'cut-before-pixels.dcm'), ct.subarray(0, pixelTag + 3));
    const jpeg = fs.readFileSync(RETINA);
    fs.writeFileSync(path.join(dir, 'half-photo.jpg'), jpeg.subarray(0, 600));
    fs.writeFileSync(path.join(dir, 'empty.dcm'), '');
    const ws = Workspace.create(path.join(root, 'ws'));
    const report = await ws.import([dir, MR_TRUNCATED]);

    expect(report).toMatchObject({ imported: 2, failed: 5, skipped: 0 });
    const byName = new Map(report.failures.map((f) => [path.basename(f.file), f]));
    expect([...byName.keys()].sort()).toEqual(['MR_truncated.dcm', 'cut-before-pixels.dcm', 'cut-pixels.dcm', 'empty.dcm', 'half-photo.jpg']);
    for (const f of report.failures) {
      expect(f.reason).toMatch(/^[a-z].{10,}/i);
      expect(f.reason).not.toMatch(/undefined|\[object/);
      expect(f.file.startsWith(ws.dir)).toBe(false); // the original path, never a blob
      expect(f.caseId).toBeGreaterThan(0);
    }
    expect(byName.get('cut-before-pixels.dcm')!.reason).toMatch(/stops early.*128×128 image/);
    expect(byName.get('cut-pixels.dcm')!.reason).toMatch(/pixel data/);
    expect(byName.get('MR_truncated.dcm')!.reason).toMatch(/cut off/);

    // The worklist's Quarantine filter shows exactly what the report quarantined, with file name and reason.
    const quarantined = ws.listCases({ filter: 'quarantined', limit: 100 });
    expect(quarantined.total).toBe(report.failed);
    expect(quarantined.items.map((c) => c.displayName).sort()).toEqual([...byName.keys()].sort());
    for (const c of quarantined.items) expect(c).toMatchObject({ quarantined: true, quarantineReason: byName.get(c.displayName)!.reason });
    expect(new Set(quarantined.items.map((c) => c.id))).toEqual(new Set(report.quarantinedCaseIds));
    // Bytes kept for inspection; the case remembers the original path.
    expect(report.quarantinedCaseIds.map((id) => ws.cases.get(id).sourcePath).sort()).toEqual(report.failures.map((f) => f.file).sort());

    // Not a candidate for anything else: other filters, labelling, training labels, splits, the case count.
    const task = ws.tasks.create({ name: 'finding', kind: 'multiclass', classes: ['a', 'b'] });
    for (const filter of ['all', 'unlabeled'] as const) {
      expect(ws.worklistIds(filter, task.id).sort()).toEqual([...report.caseIds].sort());
    }
    expect(ws.info().caseCount).toBe(2);
    const splits = ws.cases.splitCounts();
    expect(splits.train + splits.val).toBe(2);
    const q = report.quarantinedCaseIds[0];
    expect(errorCode(() => ws.labels.set({ caseId: q, taskId: task.id, value: 'a', author: 'r' }))).toBe('invalid');
    ws.labels.set({ caseId: report.caseIds[0], taskId: task.id, value: 'a', author: 'r' });
    // A case set aside after it was labelled leaves the training labels.
    ws.cases.quarantine(report.caseIds[0], 'pixels look wrong');
    expect(ws.labels.currentAll(task.id)).toEqual([]);
    expect(ws.worklistIds('labeled', task.id)).toEqual([]);

    // A second run: the bytes are known, nothing grows, and a good copy of a quarantined file's instance still comes in.
    const again = await ws.import([dir, MR_TRUNCATED]);
    // Copies of quarantined files (and of the case set aside) are reported as quarantined again, with the reason.
    expect(again).toMatchObject({ imported: 0, failed: 6, duplicates: 1 });
    expect(again.failures.find((f) => f.file === good[0])?.reason).toBe('pixels look wrong');
    expect(ws.listCases({ filter: 'quarantined' }).total).toBe(6); // the five files and the case set aside
    expect((await ws.import([CT])).imported).toBe(1);
    expect(fs.existsSync(good[0])).toBe(true);
    expect(databaseOf(ws).pragma('integrity_check', { simple: true })).toBe('ok');
    ws.close();
  });

  it('keeps every name a duplicate came under, for label CSVs and search', async () => {
    const root = tempDir();
    const dir = path.join(root, 'in');
    const [first] = writeDicomFiles(dir, tinyDicomSet(2), (i) => `train_${String(114 + i).padStart(4, '0')}.dcm`);
    const copy = path.join(dir, 'train_0115_copy.dcm');
    fs.copyFileSync(first, copy);
    const later = path.join(root, 'later', 'train_0200.dcm');
    fs.mkdirSync(path.dirname(later));
    fs.copyFileSync(first, later);
    // Same SOP Instance UID, other bytes (a re-export): also an alias.
    const reexport = path.join(root, 'later', 'reexport.dcm');
    fs.writeFileSync(reexport, writeTinyDicom({ ...tinyDicomSet(2)[1], seed: 77 }));
    const ws = Workspace.create(path.join(root, 'ws'));
    const report = await ws.import([dir]);
    expect(report).toMatchObject({ imported: 2, duplicates: 1 });
    expect((await ws.import([later, reexport]))).toMatchObject({ imported: 0, duplicates: 2 });
    const [a, b] = report.caseIds;
    expect(ws.cases.aliases(a).map((x) => x.sourcePath)).toEqual([copy, later]);
    expect(ws.cases.aliases(b).map((x) => x.sourcePath)).toEqual([reexport]);
    // Re-importing a file under its own path adds no alias.
    await ws.import([dir]);
    expect(ws.cases.aliases(a)).toHaveLength(2);

    const csv = 'file,label\ntrain_0200.dcm,yes\nreexport.dcm,no\n';
    const result = importLabelCsv(ws, { task: 'finding', csvText: csv, author: 'r', classes: ['yes', 'no'] });
    expect(result.labelled).toBe(2);
    expect(ws.labels.current(a, result.taskId)?.value).toBe('yes');
    expect(ws.labels.current(b, result.taskId)?.value).toBe('no');
    expect(importLabelCsv(ws, { task: 'finding', csvText: `file,label\n${copy},yes\n`, author: 'r' }).unchanged).toBe(1);
    expect(ws.listCases({ search: 'train_0115_copy' }).items.map((c) => c.id)).toEqual([a]);
    ws.close();
  });

  it('cancels between files while checks are in flight, keeping what was settled', async () => {
    const root = tempDir();
    writeDicomFiles(path.join(root, 'in'), tinyDicomSet(40));
    const ws = Workspace.create(path.join(root, 'ws'));
    const abort = new AbortController();
    const report = await ws.import([path.join(root, 'in')], { signal: abort.signal, batchSize: 3, onProgress: (p) => p.done === 7 && abort.abort() });
    expect(report).toMatchObject({ cancelled: true, imported: 7 });
    expect(ws.info().caseCount).toBe(7);
    expect((await ws.import([path.join(root, 'in')])).imported).toBe(33);
    ws.close();
  });
});
