import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace, type LabelTask } from '../../../core/store';
import { databaseOf } from '../../../core/store/workspace';
import { executeSuggest } from '../../../core/active/suggest-run';
import { labelTargets } from '../../../core/train/label-targets';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';

/** One workspace of every shared DICOM file (CT, MR, RT dose, US, test patterns…) and the fundus photos. */
let ws: Workspace;
let tmp: string;
interface Fact {
  id: number;
  kind: 'dicom' | 'photo';
  name: string;
  modality: string | null;
  colour: number | null;
  seriesRef: number;
  instanceNumber: number | null;
}
let facts: Map<number, Fact>;
const AUTHOR = 'tester';

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-scope-'));
  ws = Workspace.create(path.join(tmp, 'ws'));
  const report = await ws.import([DICOM_DIR, FUNDUS_DIR]);
  expect(report.caseIds.length).toBeGreaterThan(100);
  const rows = databaseOf(ws)
    .prepare(
      `SELECT c.id, c.kind, c.display_name AS name, se.modality, c.colour, i.series_ref AS seriesRef, i.instance_number AS instanceNumber
       FROM cases c JOIN instances i ON i.id = c.instance_ref JOIN series se ON se.id = i.series_ref
       WHERE c.id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL)`,
    )
    .all() as Fact[];
  facts = new Map(rows.map((r) => [r.id, r]));
}, 300_000);

afterAll(() => {
  ws?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const ofModality = (m: string) => [...facts.values()].filter((f) => f.modality === m);
const isColourPhoto = (id: number) => facts.get(id)?.kind === 'photo' && facts.get(id)?.colour === 1;

describe('a task scoped to colour fundus photographs', () => {
  let task: LabelTask;
  beforeAll(() => {
    task = ws.tasks.create({
      name: 'Referable DR',
      kind: 'multiclass',
      classes: ['no', 'yes'],
      scope: { kinds: ['photo'], colour: 'colour' },
    });
  });

  it('the import recorded what a scope needs: colour from the decoded samples, photos and DICOM of many modalities', () => {
    expect(ofModality('CT').length).toBeGreaterThan(0);
    const tif = [...facts.values()].find((f) => f.name === '21_training.tif')!;
    const mask = [...facts.values()].find((f) => f.name === '21_manual1.gif')!;
    expect(tif.colour).toBe(1);
    expect(mask.colour).toBe(0);
    const ct = ofModality('CT')[0];
    expect(ct.colour).toBe(0);
    const options = ws.cases.scopeOptions();
    expect(options.modalities.map((m) => m.value)).toEqual(expect.arrayContaining(['CT', 'MR', 'XC', 'US']));
    expect(options.kinds.map((k) => k.value).sort()).toEqual(['dicom', 'photo']);
  });

  it('the worklist lists only colour photos, never a CT, RT dose, ultrasound or test pattern', () => {
    task = ws.tasks.get(task.id);
    expect(task.settings.scope).toEqual({ kinds: ['photo'], colour: 'colour' });
    expect(task.settings.caseUnit).toBe('image');
    const unlabeled = ws.worklistIds('unlabeled', task.id);
    const expected = [...facts.values()].filter((f) => f.kind === 'photo' && f.colour === 1).map((f) => f.id);
    expect(unlabeled.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    expect(expected.length).toBe(21); // 20 DRIVE images and skimage's retina.jpg; masks are greyscale
    expect(ws.listCases({ taskId: task.id, filter: 'all' }).total).toBe(21);
    // Another task without a scope still sees every case.
    const other = ws.tasks.create({ name: 'Anything', kind: 'multiclass', classes: ['a', 'b'] });
    expect(ws.worklistIds('all', other.id).length).toBe(facts.size);
  });

  it('refuses a label on an out-of-scope case, naming it and the scope', () => {
    const ct = ofModality('CT')[0];
    expect(() => ws.labels.set({ caseId: ct.id, taskId: task.id, value: 'yes', author: AUTHOR })).toThrow(
      new RegExp(`Case ${ct.id} \\(${ct.name.replace('.', '\\.')}\\) is outside the scope of task 'Referable DR' \\(photos, colour\\)`),
    );
    expect(ws.labels.current(ct.id, task.id)).toBeUndefined();
  });

  it('suggests (random) only in-scope cases', () => {
    const out = executeSuggest(ws, { taskId: task.id, strategy: 'random', count: 20, seed: 3 });
    expect(out.suggested.length).toBe(20);
    expect(out.pool).toBe(21);
    for (const s of out.suggested) expect(isColourPhoto(s.caseId), facts.get(s.caseId)?.name).toBe(true);
    const listed = ws.listCases({ taskId: task.id, filter: 'suggested', limit: 100 });
    expect(listed.total).toBe(20);
  });

  it('training and metrics ignore labels given before the scope was narrowed', () => {
    const wide = ws.tasks.create({ name: 'Quality', kind: 'multiclass', classes: ['good', 'poor'] });
    const ct = ofModality('CT')[0];
    const photo = [...facts.values()].find((f) => isColourPhoto(f.id))!;
    ws.labels.set({ caseId: ct.id, taskId: wide.id, value: 'poor', author: AUTHOR });
    ws.labels.set({ caseId: photo.id, taskId: wide.id, value: 'good', author: AUTHOR });
    expect([...labelTargets(ws, ws.tasks.get(wide.id)).keys()].sort()).toEqual([ct.id, photo.id].sort());

    const narrowed = ws.tasks.updateSettings(wide.id, { scope: { kinds: ['photo'], colour: 'colour' } });
    expect(ws.labels.currentAll(wide.id).map((l) => l.caseId)).toEqual([photo.id]);
    expect([...labelTargets(ws, narrowed).keys()]).toEqual([photo.id]);
    expect(ws.labels.counts(wide.id)).toEqual({ total: 1, byClass: { good: 1, poor: 0 } });
    expect(ws.worklistIds('labeled', wide.id)).toEqual([photo.id]);
    // The out-of-scope label is kept, not lost: widening the scope again brings it back.
    ws.tasks.updateSettings(wide.id, { scope: {} });
    expect(ws.labels.currentAll(wide.id).length).toBe(2);
  });
});

describe('other scope fields', () => {
  it('selects by modality, body part, series UID and a saved search', () => {
    const ctMr = ws.tasks.create({ name: 'CT or MR', kind: 'multiclass', classes: ['a', 'b'], scope: { modalities: ['ct', 'MR'] } });
    const ids = ws.worklistIds('all', ctMr.id);
    expect(ids.length).toBe(ofModality('CT').length + ofModality('MR').length);
    for (const id of ids) expect(['CT', 'MR']).toContain(facts.get(id)!.modality);

    const seriesRef = ofModality('MR').find((f) => ofModality('MR').filter((g) => g.seriesRef === f.seriesRef).length > 1)!.seriesRef;
    const uid = (databaseOf(ws).prepare('SELECT series_uid AS u FROM series WHERE id = ?').get(seriesRef) as { u: string }).u;
    const one = ws.tasks.create({ name: 'One series', kind: 'multiclass', classes: ['a', 'b'], scope: { seriesUids: [uid] } });
    expect(ws.worklistIds('all', one.id).sort()).toEqual(
      [...facts.values()]
        .filter((f) => f.seriesRef === seriesRef)
        .map((f) => f.id)
        .sort(),
    );

    const search = ws.tasks.create({ name: 'Training images', kind: 'multiclass', classes: ['a', 'b'], scope: { search: '_TRAINING.tif' } });
    expect(ws.worklistIds('all', search.id).length).toBe(20);

    const head = ws.tasks.create({ name: 'Heads', kind: 'multiclass', classes: ['a', 'b'], scope: { bodyParts: ['head'] } });
    expect(ws.worklistIds('all', head.id).length).toBe(ws.cases.scopeOptions().bodyParts.find((b) => b.value === 'HEAD')!.count);
  });

  it('laterality: unknown unless DICOM or the file name states it', () => {
    const right = ws.tasks.create({ name: 'Right', kind: 'multiclass', classes: ['a', 'b'], scope: { laterality: ['right'] } });
    const unknown = ws.tasks.create({ name: 'Unknown side', kind: 'multiclass', classes: ['a', 'b'], scope: { laterality: ['unknown'] } });
    const rightIds = ws.worklistIds('all', right.id);
    expect(rightIds.length).toBe(ws.cases.scopeOptions().laterality.find((l) => l.value === 'right')?.count ?? 0);
    expect(rightIds.length + ws.worklistIds('all', unknown.id).length).toBe(facts.size);
  });

  it('rejects a malformed scope and an unknown unit with a clear message', () => {
    expect(() => ws.tasks.create({ name: 'Bad', kind: 'multiclass', classes: ['a', 'b'], scope: { colour: 'sepia' } as never })).toThrow(
      /colour 'sepia' is not 'colour' or 'greyscale'/,
    );
    expect(() => ws.tasks.create({ name: 'Bad', kind: 'multiclass', classes: ['a', 'b'], scope: { organ: ['eye'] } as never })).toThrow(
      /Unknown task scope field\(s\): organ/,
    );
    expect(() => ws.tasks.create({ name: 'Bad', kind: 'multiclass', classes: ['a', 'b'], caseUnit: 'slice' as never })).toThrow(
      /Unknown case unit 'slice'/,
    );
  });
});

describe('a series-unit task', () => {
  let task: LabelTask;
  /** Series with their in-scope cases ordered by instance number. */
  let series: Map<number, Fact[]>;
  beforeAll(() => {
    task = ws.tasks.create({ name: 'CT/MR finding', kind: 'multiclass', classes: ['none', 'finding'], scope: { modalities: ['CT', 'MR'] }, caseUnit: 'series' });
    series = new Map();
    for (const f of [...ofModality('CT'), ...ofModality('MR')]) series.set(f.seriesRef, [...(series.get(f.seriesRef) ?? []), f]);
    for (const list of series.values()) list.sort((a, b) => (a.instanceNumber ?? Infinity) - (b.instanceNumber ?? Infinity) || a.id - b.id);
  });

  it('lists one row per CT/MR series, represented by its middle slice by instance number', () => {
    expect([...series.values()].some((l) => l.length >= 5)).toBe(true);
    const page = ws.listCases({ taskId: task.id, filter: 'all', limit: 1000 });
    expect(page.total).toBe(series.size);
    const expected = new Map([...series.values()].map((l) => [l[Math.floor(l.length / 2)].id, l.length]));
    expect(new Set(page.items.map((c) => c.id))).toEqual(new Set(expected.keys()));
    for (const item of page.items) expect(item.unitSize).toBe(expected.get(item.id));
    expect(ws.worklistIds('unlabeled', task.id).length).toBe(series.size);
  });

  it('labels the representative only; the label stays on it and training sees one sample per series', () => {
    const big = [...series.values()].find((l) => l.length >= 5)!;
    const middle = big[Math.floor(big.length / 2)];
    expect(() => ws.labels.set({ caseId: big[0].id, taskId: task.id, value: 'finding', author: AUTHOR })).toThrow(
      new RegExp(`labels one case per series: case ${big[0].id} .* is not its series's representative; label case ${middle.id}`),
    );
    ws.labels.set({ caseId: middle.id, taskId: task.id, value: 'finding', author: AUTHOR });
    expect(ws.worklistIds('labeled', task.id)).toEqual([middle.id]);
    expect(ws.worklistIds('unlabeled', task.id).length).toBe(series.size - 1);
    expect([...labelTargets(ws, ws.tasks.get(task.id)).keys()]).toEqual([middle.id]);
    expect(() => ws.tasks.updateSettings(task.id, { caseUnit: 'image' })).toThrow(/has labels; its case unit \(series\) cannot change/);
  });

  it('an image-unit task over the same scope lists every slice', () => {
    const slices = ws.tasks.create({ name: 'Per slice', kind: 'multiclass', classes: ['a', 'b'], scope: { modalities: ['CT', 'MR'] } });
    expect(ws.listCases({ taskId: slices.id }).total).toBe([...series.values()].reduce((n, l) => n + l.length, 0));
  });
});
