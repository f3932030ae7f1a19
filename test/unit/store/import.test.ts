import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace, WorkspaceError, type ImportProgress } from '../../../core/store';
import { DICOM_DIR, FUNDUS_DIR, SHARED_DIR } from '../../helpers/paths';
import { tempDir, tinyDicomSet, writeDicomFiles, writeTinyDicom } from './helpers/fixtures';
import { databaseOf } from '../../../core/store/workspace';

function blobFiles(ws: Workspace): string[] {
  const root = path.join(ws.dir, 'blobs');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).flatMap((d) => fs.readdirSync(path.join(root, d)).map((f) => d + f));
}

describe('import', () => {
  it('copies files by SHA-256, builds the hierarchy, and a re-run adds nothing', async () => {
    const root = tempDir();
    const files = writeDicomFiles(path.join(root, 'in'), tinyDicomSet(10, { perSeries: 5, seriesPerStudy: 1 }));
    fs.writeFileSync(path.join(root, 'in', 'notes.json'), '{}');
    fs.writeFileSync(path.join(root, 'in', 'README.md'), '# readme');
    const ws = Workspace.create(path.join(root, 'ws'));
    const progress: ImportProgress[] = [];
    const report = await ws.import([path.join(root, 'in')], { onProgress: (p) => progress.push(p) });
    expect(report).toMatchObject({ total: 12, imported: 10, duplicates: 0, skipped: 2, failed: 0, cancelled: false });
    expect(progress).toHaveLength(12);
    expect(progress.at(-1)).toMatchObject({ done: 12, total: 12 });
    expect(progress.map((p) => p.done)).toEqual([...Array(12).keys()].map((i) => i + 1));

    const count = (table: string) => (databaseOf(ws).prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([count('patients'), count('studies'), count('series'), count('instances'), count('cases')]).toEqual([2, 2, 2, 10, 10]);
    const detail = ws.cases.get(report.caseIds[0]);
    expect(detail).toMatchObject({ kind: 'dicom', sopInstanceUid: '1.2.826.0.1.3680043.10.999.3.1', rows: 8, columns: 8, frameCount: 1 });
    expect(detail.blobPath.startsWith(path.join(ws.dir, 'blobs'))).toBe(true);
    expect(Buffer.compare(fs.readFileSync(detail.blobPath), fs.readFileSync(files[0]))).toBe(0);
    expect(blobFiles(ws)).toHaveLength(10);

    const again = await ws.import([path.join(root, 'in')]);
    expect(again).toMatchObject({ imported: 0, duplicates: 10, skipped: 2, failed: 0 });
    expect(count('cases')).toBe(10);
    ws.close();
  });

  it('de-duplicates by SOP Instance UID and by bytes', async () => {
    const root = tempDir();
    const [a, b] = tinyDicomSet(2);
    const dir = path.join(root, 'in');
    writeDicomFiles(dir, [a, b]);
    fs.copyFileSync(path.join(dir, 'im00000.dcm'), path.join(dir, 'copy-of-a.dcm')); // same bytes
    fs.writeFileSync(path.join(dir, 'b-rewritten.dcm'), writeTinyDicom({ ...b, seed: 999 })); // same UID, other bytes
    const ws = Workspace.create(path.join(root, 'ws'));
    const report = await ws.import([dir]);
    expect(report).toMatchObject({ total: 4, imported: 2, duplicates: 2, failed: 0 });
    ws.close();
  });

  it('quarantines unreadable files with the reason and skips non-images', async () => {
    const root = tempDir();
    const dir = path.join(root, 'in');
    const [good, noPixels] = tinyDicomSet(2);
    writeDicomFiles(dir, [good]);
    fs.writeFileSync(path.join(dir, 'report.dcm'), writeTinyDicom({ ...noPixels, noPixelData: true }));
    fs.writeFileSync(path.join(dir, 'broken.dcm'), writeTinyDicom(tinyDicomSet(3)[2]).subarray(0, 200));
    fs.writeFileSync(path.join(dir, 'garbage.png'), Buffer.from('definitely not a png'));
    fs.writeFileSync(path.join(dir, 'table.txt'), 'a,b');
    const ws = Workspace.create(path.join(root, 'ws'));
    const report = await ws.import([dir]);
    expect(report).toMatchObject({ imported: 1, skipped: 2, failed: 2 });
    expect(report.failures.map((f) => path.basename(f.file)).sort()).toEqual(['broken.dcm', 'garbage.png']);
    for (const f of report.failures) expect(f.reason.length).toBeGreaterThan(5);
    const q = ws.cases.quarantined();
    expect(q.map((e) => path.basename(e.sourcePath)).sort()).toEqual(['broken.dcm', 'garbage.png']);
    expect(report.skippedFiles.find((s) => s.file.endsWith('report.dcm'))?.reason).toMatch(/without pixel data/);
    // A second run records the same failures again without growing the quarantine.
    await ws.import([dir]);
    expect(ws.cases.quarantined()).toHaveLength(2);
    ws.close();
  });

  it('imports the entries of a zip archive', async () => {
    const root = tempDir();
    const dir = path.join(root, 'in');
    writeDicomFiles(dir, tinyDicomSet(4));
    fs.writeFileSync(path.join(dir, 'info.json'), '{}');
    const zip = path.join(root, 'set.zip');
    execFileSync('python3', ['-c', 'import sys,zipfile,os\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\nfor f in sorted(os.listdir(sys.argv[2])): z.write(os.path.join(sys.argv[2],f),"sub/"+f)\nz.close()', zip, dir]);
    const ws = Workspace.create(path.join(root, 'ws'));
    const report = await ws.import([zip], { reference: true });
    expect(report).toMatchObject({ total: 5, imported: 4, skipped: 1, failed: 0 });
    const c = ws.cases.get(report.caseIds[0]);
    expect(c.sourcePath).toBe(`${zip}!/sub/im00000.dcm`);
    // Zip entries cannot be referenced in place: they are copied even with `reference`.
    expect(c.blobPath.startsWith(ws.dir)).toBe(true);
    expect((await ws.import([zip])).duplicates).toBe(4);

    fs.writeFileSync(path.join(root, 'bad.zip'), 'PK not really');
    const bad = await ws.import([path.join(root, 'bad.zip')]);
    expect(bad.failed).toBe(1);
    expect(bad.failures[0].reason).toMatch(/zip/);
    ws.close();
  });

  it('references files in place when asked, and notices when one changes', async () => {
    const root = tempDir();
    const [file] = writeDicomFiles(path.join(root, 'in'), tinyDicomSet(1));
    const ws = Workspace.create(path.join(root, 'ws'));
    const report = await ws.import([file], { reference: true });
    expect(report.imported).toBe(1);
    expect(blobFiles(ws)).toHaveLength(0);
    const c = ws.cases.get(report.caseIds[0]);
    expect(c.blobPath).toBe(file);
    expect(ws.cases.bytes(c.id).length).toBe(fs.statSync(file).size);
    fs.writeFileSync(file, 'changed');
    expect(() => ws.cases.bytes(c.id)).toThrow(WorkspaceError);
    ws.close();
  });

  it('reads the files a DICOMDIR references', async () => {
    const dicomdir = path.join(DICOM_DIR, 'pydicom_debian', 'dicomdirtests', 'DICOMDIR');
    const ws = Workspace.create(path.join(tempDir(), 'ws'));
    const report = await ws.import([dicomdir]);
    // The DICOMDIR itself has no pixel data: skipped, not a case.
    expect(report.skippedFiles.map((s) => s.file)).toContain(dicomdir);
    expect(report.failed).toBe(0);
    expect(report.imported).toBeGreaterThan(10);
    expect(report.total).toBe(report.imported + report.duplicates + report.skipped);
    const sources = ws.cases.all().map((c) => c.sourcePath);
    expect(sources.every((s) => s.startsWith(path.dirname(dicomdir)))).toBe(true);
    ws.close();
  });

  it('stops between files when aborted, keeping what was committed', async () => {
    const root = tempDir();
    writeDicomFiles(path.join(root, 'in'), tinyDicomSet(30));
    const ws = Workspace.create(path.join(root, 'ws'));
    const abort = new AbortController();
    const report = await ws.import([path.join(root, 'in')], {
      signal: abort.signal,
      batchSize: 4,
      onProgress: (p) => p.done === 10 && abort.abort(),
    });
    expect(report.cancelled).toBe(true);
    expect(report.imported).toBe(10);
    expect(ws.info().caseCount).toBe(10);
    const rest = await ws.import([path.join(root, 'in')]);
    expect(rest).toMatchObject({ imported: 20, duplicates: 10, cancelled: false });
    ws.close();
  });

  it('refuses a path that does not exist', async () => {
    const ws = Workspace.create(path.join(tempDir(), 'ws'));
    await expect(ws.import(['/no/such/place'])).rejects.toThrow(/no such file or folder/);
    ws.close();
  });

  it('imports all of the shared test data: DICOM and photos, non-images skipped', async () => {
    const ws = Workspace.create(path.join(tempDir(), 'ws'));
    const report = await ws.import([path.join(SHARED_DIR, 'data')]);
    expect(report.total).toBe(report.imported + report.duplicates + report.skipped + report.failed);
    const kinds = databaseOf(ws).prepare('SELECT kind, count(*) AS n FROM cases GROUP BY kind ORDER BY kind').all() as { kind: string; n: number }[];
    expect(kinds.map((k) => k.kind)).toEqual(['dicom', 'photo']);
    const photos = kinds.find((k) => k.kind === 'photo')?.n ?? 0;
    expect(photos).toBeGreaterThanOrEqual(40); // DRIVE images, masks and the skimage retina
    expect(report.imported).toBeGreaterThan(100);
    // Failures are only broken DICOM/image files, never the notes and arrays beside them.
    for (const f of report.failures) expect(f.file).toMatch(/\.(dcm|png|jpe?g|tiff?|gif)$|\/[^./]+$/);
    for (const ext of ['.json', '.md', '.npz', '.txt']) {
      expect(report.failures.some((f) => f.file.endsWith(ext))).toBe(false);
      expect(report.skippedFiles.some((s) => s.file.endsWith(ext))).toBe(true);
    }
    const retina = ws.cases.idsByFile(path.join(FUNDUS_DIR, 'skimage', 'retina.jpg'));
    expect(retina).toHaveLength(1);
    const photo = ws.cases.get(retina[0]);
    expect(photo.sopInstanceUid).toMatch(/^2\.25\.\d+$/);
    expect(photo.sopInstanceUid.length).toBeLessThanOrEqual(64);
    expect(photo.format).toBe('jpeg');

    const again = await ws.import([path.join(SHARED_DIR, 'data')]);
    expect(again.imported).toBe(0);
    // Quarantined files are cases too (kept for inspection): their bytes are known the second time.
    expect(again.duplicates + again.failed).toBe(report.imported + report.duplicates + report.quarantinedCaseIds.length);
    expect(again.failed).toBe(report.quarantinedCaseIds.length);
    expect(databaseOf(ws).pragma('integrity_check', { simple: true })).toBe('ok');
    ws.close();
  });
});
