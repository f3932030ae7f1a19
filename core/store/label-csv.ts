import path from 'node:path';
import { CsvError, parseCsv } from './csv';
import { WorkspaceError } from './errors';
import type { LabelValue, SetLabel } from './labels';
import type { TaskKind } from './tasks';
import { databaseOf, type Workspace } from './workspace';
import { SPLITS, type Split } from '../vocabulary';

export interface LabelCsvOptions {
  /** Task name; created when missing and `classes` is given. */
  task: string;
  csvText: string;
  /** Name for error messages. */
  csvName?: string;
  author: string;
  classes?: string[];
  kind?: TaskKind;
}

export interface LabelCsvReport {
  taskId: number;
  taskCreated: boolean;
  labelled: number;
  /** Rows whose label equals the case's current one (nothing written). */
  unchanged: number;
  /** Cases the optional `split` column placed (train / val / test), overriding the automatic rule. */
  assignedSplits: number;
}

const CASE_COLUMNS = ['case_id', 'sop_instance_uid', 'file'] as const;

/**
 * Bulk labels from CSV: a `label` column and one of `case_id`, `sop_instance_uid` or `file` (path as
 * imported, or file name). Multilabel values separate class names with `|` or `;`. An optional
 * `split` column (train, val or test; empty = the automatic stratified rule) is the user's own
 * assignment, e.g. a held-out test set. All rows are checked first; any bad row fails the whole file,
 * naming each bad line, and nothing is written.
 */
export function importLabelCsv(ws: Workspace, opts: LabelCsvOptions): LabelCsvReport {
  const name = opts.csvName ?? 'CSV';
  let table;
  try {
    table = parseCsv(opts.csvText);
  } catch (err) {
    if (err instanceof CsvError) throw new WorkspaceError('invalid', `${name}: ${err.message}`);
    throw err;
  }
  const keyColumn = CASE_COLUMNS.find((c) => table.header.includes(c));
  const labelIndex = table.header.indexOf('label');
  if (!keyColumn || labelIndex < 0) {
    throw new WorkspaceError(
      'invalid',
      `${name}: needs a 'label' column and one of ${CASE_COLUMNS.join(', ')} (found: ${table.header.join(', ') || 'nothing'})`,
    );
  }
  const keyIndex = table.header.indexOf(keyColumn);
  const splitIndex = table.header.indexOf('split');

  return ws.transaction(() => {
    let task = ws.tasks.byName(opts.task);
    let taskCreated = false;
    if (!task) {
      if (!opts.classes?.length) {
        throw new WorkspaceError('not-found', `No label task named '${opts.task}' (give its classes to create it)`);
      }
      task = ws.tasks.create({ name: opts.task, kind: opts.kind ?? 'multiclass', classes: opts.classes });
      taskCreated = true;
    }
    const problems: string[] = [];
    const sets: SetLabel[] = [];
    let unchanged = 0;
    const seen = new Map<number, number>();
    const splits = new Map<Split, number[]>();
    for (const row of table.rows) {
      const key = (row.cells[keyIndex] ?? '').trim();
      const raw = (row.cells[labelIndex] ?? '').trim();
      if (!key && !raw) continue; // blank line
      const caseId = resolveCase(ws, keyColumn, key);
      if (typeof caseId === 'string') {
        problems.push(`line ${row.line}: ${caseId}`);
        continue;
      }
      if (seen.has(caseId)) {
        problems.push(`line ${row.line}: case ${caseId} was already labelled on line ${seen.get(caseId)}`);
        continue;
      }
      seen.set(caseId, row.line);
      const split = splitIndex >= 0 ? (row.cells[splitIndex] ?? '').trim().toLowerCase() : '';
      if (split) {
        if (!(SPLITS as readonly string[]).includes(split)) {
          problems.push(`line ${row.line}: split '${split}' is not one of ${SPLITS.join(', ')}`);
          continue;
        }
        splits.set(split as Split, [...(splits.get(split as Split) ?? []), caseId]);
      }
      const value: LabelValue | null = raw === '' ? null : task.kind === 'multilabel' ? raw.split(/[|;]/).map((s) => s.trim()).filter(Boolean) : raw;
      const classNames = task.classes.map((c) => c.name);
      const bad = value === null ? [] : (Array.isArray(value) ? value : [value as string]).filter((v) => !classNames.includes(v));
      if (bad.length) {
        problems.push(`line ${row.line}: '${bad.join(', ')}' is not a class of '${task.name}' (${classNames.join(', ')})`);
        continue;
      }
      const current = ws.labels.current(caseId, task.id);
      if (JSON.stringify(current?.value ?? null) === JSON.stringify(value)) {
        unchanged++;
        continue;
      }
      sets.push({ caseId, taskId: task.id, value, author: opts.author, source: 'import' });
    }
    if (problems.length) {
      const shown = problems.slice(0, 20).join('\n  ');
      const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
      throw new WorkspaceError('invalid', `${name}: ${problems.length} bad row(s), nothing written:\n  ${shown}${more}`);
    }
    // The user's splits first, so the labels below do not assign these cases by the automatic rule.
    for (const [split, ids] of splits) ws.splits.assign(task.id, ids, split);
    ws.labels.setMany(sets);
    return { taskId: task.id, taskCreated, labelled: sets.length, unchanged, assignedSplits: [...splits.values()].reduce((n, ids) => n + ids.length, 0) };
  });
}

/** The case a CSV key names, or why there is none. */
function resolveCase(ws: Workspace, column: (typeof CASE_COLUMNS)[number], key: string): number | string {
  const missing = `no case for ${column} '${key}'`;
  if (!key) return missing;
  if (column === 'case_id') {
    const id = Number(key);
    return Number.isInteger(id) && databaseOf(ws).prepare('SELECT id FROM cases WHERE id = ?').get(id) ? id : missing;
  }
  if (column === 'sop_instance_uid') return ws.cases.idBySopInstanceUid(key) ?? missing;
  // A full path (as given, or relative to the working folder) wins; else a file name that is unique. Both also
  // match the aliases of a case: the paths its duplicates were imported under.
  for (const candidate of [key, path.resolve(key)]) {
    const exact = ws.cases.idByExactPath(candidate);
    if (exact !== undefined) return exact;
  }
  const ids = ws.cases.idsByFile(key);
  if (ids.length > 1) return `file name '${key}' matches ${ids.length} cases; give the full path`;
  return ids[0] ?? missing;
}
