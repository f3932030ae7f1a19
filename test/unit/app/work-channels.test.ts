import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { allowedRoots, browseFolder } from '../../../core/app/folder-browser';
import { readRecent } from '../../../core/app/recent-workspaces';
import { appClients } from '../../helpers/app-client';
import { parseCsv } from '../../../core/store';
import { DICOM_DIR } from '../../helpers/paths';
import { tempDir } from '../store/helpers/fixtures';

const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');
const MR = path.join(DICOM_DIR, 'pydicom_debian', 'MR_small.dcm');

let configHome: string;
beforeAll(() => {
  // The recent-workspaces list goes to XDG_CONFIG_HOME: a temporary one here, never the tester's own.
  configHome = tempDir('medtune-config-');
  process.env.XDG_CONFIG_HOME = configHome;
});

const client = appClients();

async function labelledWorkspace() {
  const dir = path.join(tempDir('medtune-work-'), 'ws');
  const a = client('ann');
  await a.call('workspace.create', { dir, name: 'Work' });
  await a.call('import.start', { paths: [CT, MR] });
  const task = await a.call('tasks.create', { name: 'Chest grading', classes: [{ name: 'normal' }, { name: 'abnormal' }] });
  const items = (await a.call('cases.list', {})).items;
  return { dir, a, task, items };
}

describe('progress, guidelines, comments, export', () => {
  it('counts labelled cases per reader and keeps guidelines in the task settings', async () => {
    const { dir, a, task, items } = await labelledWorkspace();
    expect(await a.call('work.progress', {})).toEqual({ taskId: task.id, total: 2, labelled: 0, byReader: [] });
    await a.call('labels.set', { caseId: items[0].id, taskId: task.id, value: 'normal' });
    a.session.closeWorkspace();
    const b = client('bob');
    await b.call('workspace.open', { dir });
    await b.call('labels.set', { caseId: items[1].id, taskId: task.id, value: 'abnormal' });
    expect(await b.call('work.progress', { taskId: task.id })).toEqual({
      taskId: task.id,
      total: 2,
      labelled: 2,
      byReader: [
        { author: 'ann', labelled: 1 },
        { author: 'bob', labelled: 1 },
      ],
    });
    expect((await b.call('tasks.guidelines', { taskId: task.id })).markdown).toBe('');
    await b.call('tasks.setGuidelines', { taskId: task.id, markdown: '# Grading\n- **abnormal**: any opacity' });
    expect((await b.call('tasks.guidelines', { taskId: task.id })).markdown).toBe('# Grading\n- **abnormal**: any opacity');
    // The split fractions are untouched by the guidelines.
    expect((await b.call('tasks.setGuidelines', { taskId: task.id, markdown: 'x' })).markdown).toBe('x');
  });

  it('stores comments with author and time and lets only their author delete them', async () => {
    const { dir, a, items } = await labelledWorkspace();
    const c = await a.call('comments.add', { caseId: items[0].id, body: '  Ask the surgeon  ' });
    expect(c).toMatchObject({ caseId: items[0].id, author: 'ann', body: 'Ask the surgeon' });
    expect(Date.parse(c.createdAt)).not.toBeNaN();
    expect((await a.raw('comments.add', { caseId: items[0].id, body: '   ' })).ok).toBe(false);
    expect((await a.raw('comments.add', { caseId: 9999, body: 'x' })) as unknown).toMatchObject({ ok: false, error: { code: 'not-found' } });
    a.session.closeWorkspace();
    const b = client('bob');
    await b.call('workspace.open', { dir });
    expect(await b.call('comments.list', { caseId: items[0].id })).toHaveLength(1);
    expect(await b.raw('comments.delete', { id: c.id })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await b.call('comments.list', { caseId: items[0].id })).toHaveLength(1);
    b.session.closeWorkspace();
    const again = client('ann');
    await again.call('workspace.open', { dir });
    expect(await again.call('comments.delete', { id: c.id })).toEqual({ deleted: true });
    expect(await again.call('comments.list', { caseId: items[0].id })).toEqual([]);
  });

  it('writes label exports into a folder, de-identified when asked, never over an earlier one', async () => {
    const { a, task, items } = await labelledWorkspace();
    await a.call('labels.set', { caseId: items[0].id, taskId: task.id, value: 'normal' });
    const out = path.join(tempDir('medtune-export-'), 'new-folder');
    const plain = await a.call('labels.export', { taskId: task.id, format: 'csv', dir: out });
    expect(path.dirname(plain.file)).toBe(out);
    expect(plain.rows).toBe(1);
    const table = parseCsv(fs.readFileSync(plain.file, 'utf8'));
    expect(table.header).toContain('patient_id');
    const deid = await a.call('labels.export', { taskId: task.id, format: 'json', deidentify: true, dir: out });
    expect(path.basename(deid.file)).toMatch(/^chest-grading-labels-deidentified-.*\.json$/);
    const json = JSON.parse(fs.readFileSync(deid.file, 'utf8')) as { deidentified: boolean; labels: Record<string, unknown>[] };
    expect(json.deidentified).toBe(true);
    expect(json.labels[0].patient_id).toBeUndefined();
    expect(json.labels[0].file).toBeUndefined();
  });
});

describe('measurements in label exports', () => {
  it('writes them beside a CSV and per case in JSON, with values from the file and de-identified like the labels', async () => {
    const { a, task, items } = await labelledWorkspace();
    const ct = items.find((c) => c.modality === 'CT')!;
    const mr = items.find((c) => c.modality === 'MR')!;
    await a.call('labels.set', { caseId: ct.id, taskId: task.id, value: 'abnormal' });
    // CT_small: Pixel Spacing 0.661468 mm, rescale slope 1 and intercept -1024 (values from pydicom).
    await a.call('measurements.add', { caseId: ct.id, frame: 0, kind: 'length', points: [[10, 10], [40, 50]] });
    await a.call('measurements.add', { caseId: ct.id, frame: 0, kind: 'rectangle', points: [[20, 30], [30, 40]] });
    await a.call('measurements.add', { caseId: mr.id, frame: 0, kind: 'angle', points: [[0, 0], [10, 10], [20, 0]] });
    const out = tempDir('medtune-export-');

    const csv = await a.call('labels.export', { taskId: task.id, format: 'csv', dir: out });
    expect(csv.measurements).toBe(3);
    expect(path.basename(csv.measurementsFile!)).toMatch(/^chest-grading-measurements-.*\.csv$/);
    const table = parseCsv(fs.readFileSync(csv.measurementsFile!, 'utf8'));
    const col = (name: string) => table.header.indexOf(name);
    expect(table.rows).toHaveLength(3);
    const [length, rect, angle] = table.rows.map((r) => r.cells);
    expect(length[col('patient_id')]).toBe('1CT1');
    expect(Number(length[col('value')])).toBeCloseTo(50 * 0.661468, 4);
    expect(length[col('unit')]).toBe('mm');
    expect(length[col('spacing')]).toBe('PixelSpacing');
    // numpy on pydicom's pixels: rows 30–39, columns 20–29 in HU.
    expect(rect[col('unit')]).toBe('HU');
    expect(Number(rect[col('mean')])).toBeCloseTo(-762.77, 2);
    expect(Number(rect[col('sd')])).toBeCloseTo(116.0705, 3);
    expect([Number(rect[col('min')]), Number(rect[col('max')]), Number(rect[col('pixels')])]).toEqual([-847, -100, 100]);
    expect(Number(rect[col('area')])).toBeCloseTo(100 * 0.661468 ** 2, 4);
    expect(rect[col('area_unit')]).toBe('mm²');
    expect(Number(angle[col('value')])).toBeCloseTo(90, 6);
    expect(JSON.parse(angle[col('points')])).toEqual([[0, 0], [10, 10], [20, 0]]);
    expect(angle[col('author')]).toBe('ann');

    const deid = await a.call('labels.export', { taskId: task.id, format: 'json', deidentify: true, dir: out });
    expect(deid.measurementsFile).toBeUndefined();
    const text = fs.readFileSync(deid.file, 'utf8');
    expect(text).not.toContain('1CT1');
    expect(text).not.toContain('CompressedSamples');
    const json = JSON.parse(text) as { labels: Record<string, unknown>[]; measurements: { case_id: number; patient_pseudonym: string; sop_instance_uid: string; measurements: Record<string, unknown>[] }[] };
    expect(json.measurements.map((g) => [g.case_id, g.measurements.length])).toEqual([
      [ct.id, 2],
      [mr.id, 1],
    ].sort((x, y) => x[0] - y[0]));
    const ctGroup = json.measurements.find((g) => g.case_id === ct.id)!;
    const ctLabel = json.labels.find((l) => l.case_id === ct.id)!;
    // The same pseudonym and hashed UID as the label row, so the two link.
    expect(ctGroup.patient_pseudonym).toBe(ctLabel.patient_pseudonym);
    expect(ctGroup.sop_instance_uid).toBe(ctLabel.sop_instance_uid);
    expect(ctGroup.sop_instance_uid).toMatch(/^2\.25\./);
    expect(ctGroup.measurements[0]).toMatchObject({ kind: 'length', unit: 'mm', author: 'Reader 1' });
  });

  it('exports no measurements file when there are none', async () => {
    const { a, task } = await labelledWorkspace();
    const r = await a.call('labels.export', { taskId: task.id, format: 'csv', dir: tempDir('medtune-export-') });
    expect(r).toMatchObject({ measurements: 0 });
    expect(r.measurementsFile).toBeUndefined();
    expect(fs.readdirSync(path.dirname(r.file))).toHaveLength(1);
  });
});

describe('browser mode: folders and recent workspaces', () => {
  it('lists folders only inside the allowed roots, symlinks resolved', () => {
    const home = tempDir('medtune-home-');
    const extra = tempDir('medtune-data-');
    const outside = tempDir('medtune-outside-');
    fs.mkdirSync(path.join(home, 'studies'));
    fs.mkdirSync(path.join(home, '.hidden'));
    fs.writeFileSync(path.join(home, 'notes.txt'), 'x');
    fs.symlinkSync(outside, path.join(home, 'escape'));
    fs.symlinkSync(extra, path.join(home, 'data-link'));
    const roots = allowedRoots({ MEDTUNE_ALLOWED_ROOTS: `${extra}${path.delimiter}/no/such/folder${path.delimiter}relative` }, home);
    expect(roots).toEqual([fs.realpathSync(home), fs.realpathSync(extra)]);
    const listing = browseFolder(home, { roots });
    expect(listing.entries.map((e) => e.name)).toEqual(['data-link', 'studies']);
    expect(listing.parent).toBeNull();
    expect(browseFolder(home, { roots, files: true }).entries.map((e) => e.name)).toEqual(['data-link', 'studies', 'notes.txt']);
    expect(browseFolder(path.join(home, 'studies'), { roots }).parent).toBe(fs.realpathSync(home));
    expect(() => browseFolder(outside, { roots })).toThrow(/outside the folders/);
    expect(() => browseFolder(path.join(home, 'escape'), { roots })).toThrow(/outside the folders/);
    expect(() => browseFolder(path.join(home, 'studies', '..', '..'), { roots })).toThrow(/outside the folders/);
    expect(() => browseFolder('relative/path', { roots })).toThrow(/not a full path/);
  });

  it('remembers opened and created workspaces, newest first', async () => {
    const { dir } = await labelledWorkspace();
    const recent = readRecent(path.join(configHome, 'medtune', 'recent.json'));
    expect(recent[0]).toMatchObject({ dir, name: 'Work' });
    const b = client('bob');
    expect((await b.call('workspace.recent', {}))[0].dir).toBe(dir);
  });

  it('imports an uploaded batch through the importer and removes it', async () => {
    const { dir, a } = await labelledWorkspace();
    const batch = path.join(dir, 'uploads', 'abcdef0123');
    fs.mkdirSync(path.join(batch, 'sub'), { recursive: true });
    fs.copyFileSync(path.join(DICOM_DIR, 'pydicom_debian', 'rtplan.dcm'), path.join(batch, 'sub', 'plan.dcm'));
    fs.writeFileSync(path.join(batch, 'broken.dcm'), Buffer.alloc(300, 7));
    const report = await a.call('uploads.import', { batch: 'abcdef0123' });
    expect(report.total).toBe(2);
    expect(report.imported + report.failed + report.skipped).toBe(2);
    expect(fs.existsSync(batch)).toBe(false);
    expect(await a.raw('uploads.import', { batch: 'abcdef0123' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await a.raw('uploads.import', { batch: '../..' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });
});
