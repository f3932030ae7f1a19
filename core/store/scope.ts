import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { CASE_UNITS, LATERALITIES, type CaseUnit, type Laterality } from '../vocabulary';

export { CASE_UNITS, LATERALITIES, type CaseUnit, type Laterality } from '../vocabulary';

/**
 * Which cases a task is about, and what one row of its worklist is. A task sees only the cases its scope
 * selects: the worklist, training, prediction, suggestions and metrics all read cases through the
 * store's task-aware queries (worklist.ts, LabelService.currentAll), which apply it.
 */

/**
 * 'image': every image (photo, radiograph, slice) is a case. 'series': one row per series, represented by
 * its middle slice by instance number; 'study': one row per study, its middle image by series then instance
 * number. A series or study row carries its label (and the model's input) on that representative case.
 */

/** Every field narrows the scope; an absent or empty field does not. `{}` is every case. */
export interface TaskScope {
  /** DICOM Modality (0008,0060) codes; photos are 'XC'. Compared case-insensitively. */
  modalities?: string[];
  /** Photos or DICOM objects. */
  kinds?: ('photo' | 'dicom')[];
  /** 'colour': decoded with three samples (photos in colour, DICOM RGB/YBR/palette); 'greyscale': MONOCHROME1/2. */
  colour?: 'colour' | 'greyscale';
  laterality?: Laterality[];
  /** Body Part Examined (0018,0015), case-insensitive. */
  bodyParts?: string[];
  studyUids?: string[];
  seriesUids?: string[];
  /** A saved worklist search: the cases whose search text holds it (case-insensitive). */
  search?: string;
}

/** Checks and tidies a scope from outside (trimmed, upper-cased codes, empty lists dropped). */
export function normaliseScope(input: unknown): TaskScope {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new WorkspaceError('invalid', 'A task scope must be an object');
  const raw = input as Record<string, unknown>;
  const known = ['modalities', 'kinds', 'colour', 'laterality', 'bodyParts', 'studyUids', 'seriesUids', 'search'];
  const extra = Object.keys(raw).filter((k) => !known.includes(k));
  if (extra.length) throw new WorkspaceError('invalid', `Unknown task scope field(s): ${extra.join(', ')} (expected ${known.join(', ')})`);
  const list = (key: string, upper: boolean): string[] | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new WorkspaceError('invalid', `Task scope '${key}' must be a list of strings`);
    const out = [...new Set((v as string[]).map((x) => (upper ? x.trim().toUpperCase() : x.trim())).filter(Boolean))];
    return out.length ? out : undefined;
  };
  const scope: TaskScope = {};
  const modalities = list('modalities', true);
  if (modalities) scope.modalities = modalities;
  const kinds = list('kinds', false);
  if (kinds) {
    const bad = kinds.filter((k) => k !== 'photo' && k !== 'dicom');
    if (bad.length) throw new WorkspaceError('invalid', `Task scope kinds: '${bad.join("', '")}' is not 'photo' or 'dicom'`);
    scope.kinds = kinds as TaskScope['kinds'];
  }
  if (raw.colour !== undefined && raw.colour !== null && raw.colour !== '') {
    if (raw.colour !== 'colour' && raw.colour !== 'greyscale') {
      throw new WorkspaceError('invalid', `Task scope colour '${String(raw.colour)}' is not 'colour' or 'greyscale'`);
    }
    scope.colour = raw.colour;
  }
  const laterality = list('laterality', false);
  if (laterality) {
    const bad = laterality.filter((l) => !(LATERALITIES as readonly string[]).includes(l));
    if (bad.length) throw new WorkspaceError('invalid', `Task scope laterality '${bad.join("', '")}' is not one of ${LATERALITIES.join(', ')}`);
    scope.laterality = laterality as Laterality[];
  }
  const bodyParts = list('bodyParts', true);
  if (bodyParts) scope.bodyParts = bodyParts;
  const studyUids = list('studyUids', false);
  if (studyUids) scope.studyUids = studyUids;
  const seriesUids = list('seriesUids', false);
  if (seriesUids) scope.seriesUids = seriesUids;
  if (raw.search !== undefined && raw.search !== null) {
    if (typeof raw.search !== 'string') throw new WorkspaceError('invalid', 'Task scope search must be text');
    const search = raw.search.trim().toLowerCase();
    if (search) scope.search = search;
  }
  return scope;
}

export function normaliseCaseUnit(input: unknown): CaseUnit {
  if (input === undefined || input === null) return 'image';
  if (!(CASE_UNITS as readonly unknown[]).includes(input)) {
    throw new WorkspaceError('invalid', `Unknown case unit '${String(input)}' (expected ${CASE_UNITS.join(', ')})`);
  }
  return input as CaseUnit;
}

export function isEmptyScope(scope: TaskScope): boolean {
  return Object.keys(scope).length === 0;
}

/**
 * Laterality stated in a photo's file name: a word 'left'/'right', or 'OD' (right eye) / 'OS' (left eye) /
 * 'OU' (both), standing alone between separators (`_left`, `-OD.`, `scan OS 2`). Anything less clear
 * (a bare 'L', 'R', a word inside another word) is unknown.
 */
export function lateralityFromName(name: string): Exclude<Laterality, 'unknown'> | undefined {
  const words = new Set(
    name
      .replace(/\.[a-z0-9]{1,5}$/i, '')
      .split(/[^a-z0-9]+/i)
      .map((w) => w.toLowerCase()),
  );
  const left = words.has('left') || words.has('os');
  const right = words.has('right') || words.has('od');
  // Both sides named, or a side and 'OU': not clear, so unknown.
  if (left && right) return undefined;
  if (words.has('ou')) return left || right ? undefined : 'both';
  if (left) return 'left';
  if (right) return 'right';
  return undefined;
}

/** DICOM ImageLaterality / Laterality code to the stored value (U, unpaired, and anything else: unknown). */
export function lateralityFromDicom(code: string | undefined): Exclude<Laterality, 'unknown'> | undefined {
  switch (code?.trim().toUpperCase()) {
    case 'L':
      return 'left';
    case 'R':
      return 'right';
    case 'B':
      return 'both';
    default:
      return undefined;
  }
}

export interface ScopeSql {
  /** A condition on the cases row aliased `c`. */
  where: string;
  params: Record<string, string>;
}

/** The SQL condition that selects the scope's cases (named parameters prefixed `scope_`). */
export function scopeCondition(scope: TaskScope): ScopeSql {
  const conds: string[] = [];
  const params: Record<string, string> = {};
  const json = (name: string, v: unknown[]) => {
    params[name] = JSON.stringify(v);
    return `(SELECT value FROM json_each(@${name}))`;
  };
  if (scope.kinds) conds.push(`sc.kind IN ${json('scope_kinds', scope.kinds)}`);
  if (scope.colour) conds.push(`sc.colour = ${scope.colour === 'colour' ? 1 : 0}`);
  if (scope.laterality) {
    const known = scope.laterality.filter((l) => l !== 'unknown');
    const parts = [`sc.laterality IN ${json('scope_laterality', known)}`];
    if (scope.laterality.includes('unknown')) parts.push('sc.laterality IS NULL');
    conds.push(`(${parts.join(' OR ')})`);
  }
  if (scope.modalities) conds.push(`upper(se.modality) IN ${json('scope_modalities', scope.modalities)}`);
  if (scope.bodyParts) conds.push(`upper(se.body_part) IN ${json('scope_body_parts', scope.bodyParts)}`);
  if (scope.seriesUids) conds.push(`se.series_uid IN ${json('scope_series', scope.seriesUids)}`);
  if (scope.studyUids) conds.push(`st.study_uid IN ${json('scope_studies', scope.studyUids)}`);
  if (scope.search) {
    conds.push(`sc.search_text LIKE @scope_search ESCAPE '\\'`);
    params.scope_search = `%${scope.search.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  }
  if (conds.length === 0) return { where: '1', params };
  return {
    where: `c.id IN (SELECT sc.id FROM cases sc JOIN instances si ON si.id = sc.instance_ref JOIN series se ON se.id = si.series_ref
      JOIN studies st ON st.id = se.study_ref WHERE ${conds.join(' AND ')})`,
    params,
  };
}

/**
 * The condition that selects a task's cases: in scope, and for a series or study unit only each group's
 * representative. The representative is the group's labelled case when it has one (so a label never moves),
 * else its middle case: index ⌊n/2⌋ (0-based) of the n non-quarantined in-scope cases ordered by instance
 * number (study: series number, then instance number), ties by case id. Needs the `@task` parameter.
 */
export function taskCaseCondition(scope: TaskScope, unit: CaseUnit): ScopeSql {
  const inScope = scopeCondition(scope);
  if (unit === 'image') return inScope;
  const group = unit === 'series' ? 'i.series_ref' : 'se.study_ref';
  const order = unit === 'series' ? 'i.instance_number IS NULL, i.instance_number, c.id' : 'se.series_number IS NULL, se.series_number, i.series_ref, i.instance_number IS NULL, i.instance_number, c.id';
  const where = `c.id IN (
    SELECT id FROM (
      SELECT id, row_number() OVER (PARTITION BY g ORDER BY labelled DESC, abs(k - n / 2), id) AS pick FROM (
        SELECT c.id, ${group} AS g,
          c.id IN (SELECT case_id FROM current_labels WHERE task_id = @task) AS labelled,
          row_number() OVER (PARTITION BY ${group} ORDER BY ${order}) - 1 AS k,
          count(*) OVER (PARTITION BY ${group}) AS n
        FROM cases c JOIN instances i ON i.id = c.instance_ref JOIN series se ON se.id = i.series_ref
        WHERE c.id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL) AND ${inScope.where}))
    WHERE pick = 1)`;
  return { where, params: inScope.params };
}

/** How many in-scope cases each listed representative stands for (series/study units). */
export function unitSizes(db: Database, scope: TaskScope, unit: CaseUnit, ids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  if (unit === 'image' || ids.length === 0) return out;
  const inScope = scopeCondition(scope);
  const group = unit === 'series' ? 'i.series_ref' : 'se.study_ref';
  const rows = db
    .prepare(
      `SELECT r.id, (SELECT count(*) FROM cases c JOIN instances i ON i.id = c.instance_ref JOIN series se ON se.id = i.series_ref
          WHERE ${group} = r.g AND c.id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL) AND ${inScope.where}) AS n
       FROM (SELECT c.id, ${group} AS g FROM cases c JOIN instances i ON i.id = c.instance_ref JOIN series se ON se.id = i.series_ref
             WHERE c.id IN (SELECT value FROM json_each(@ids))) r`,
    )
    .all({ ...inScope.params, ids: JSON.stringify(ids) }) as { id: number; n: number }[];
  for (const r of rows) out.set(r.id, r.n);
  return out;
}

/** Why a task cannot take a label on this case, or undefined when it can. */
export function outOfScopeReason(db: Database, task: { id: number; name: string; settings: { scope: TaskScope; caseUnit: CaseUnit } }, caseId: number): string | undefined {
  const { scope, caseUnit } = task.settings;
  if (isEmptyScope(scope) && caseUnit === 'image') return undefined;
  const inScope = scopeCondition(scope);
  const hit = db.prepare(`SELECT 1 FROM cases c WHERE c.id = @id AND ${inScope.where}`).get({ ...inScope.params, id: caseId });
  const name = (db.prepare('SELECT display_name AS n FROM cases WHERE id = ?').get(caseId) as { n: string } | undefined)?.n ?? `#${caseId}`;
  if (!hit) return `Case ${caseId} (${name}) is outside the scope of task '${task.name}' (${describeScope(scope)})`;
  if (caseUnit === 'image') return undefined;
  const unit = taskCaseCondition(scope, caseUnit);
  const rep = db.prepare(`SELECT 1 FROM cases c WHERE c.id = @id AND ${unit.where}`).get({ ...unit.params, id: caseId, task: task.id });
  if (rep) return undefined;
  const group = caseUnit === 'series' ? 'i.series_ref' : 'se.study_ref';
  const other = db
    .prepare(
      `SELECT c.id FROM cases c JOIN instances i ON i.id = c.instance_ref JOIN series se ON se.id = i.series_ref
       WHERE ${unit.where} AND ${group} = (SELECT ${group} FROM cases c JOIN instances i ON i.id = c.instance_ref
         JOIN series se ON se.id = i.series_ref WHERE c.id = @id)`,
    )
    .get({ ...unit.params, id: caseId, task: task.id }) as { id: number } | undefined;
  return `Task '${task.name}' labels one case per ${caseUnit}: case ${caseId} (${name}) is not its ${caseUnit}'s representative${
    other ? `; label case ${other.id}` : ''
  }`;
}

/** A short human description of a scope, for messages. */
export function describeScope(scope: TaskScope): string {
  const parts: string[] = [];
  if (scope.kinds) parts.push(scope.kinds.map((k) => (k === 'photo' ? 'photos' : 'DICOM')).join(' or '));
  if (scope.colour) parts.push(scope.colour);
  if (scope.modalities) parts.push(`modality ${scope.modalities.join('/')}`);
  if (scope.laterality) parts.push(`laterality ${scope.laterality.join('/')}`);
  if (scope.bodyParts) parts.push(`body part ${scope.bodyParts.join('/')}`);
  if (scope.studyUids) parts.push(`${scope.studyUids.length} chosen studies`);
  if (scope.seriesUids) parts.push(`${scope.seriesUids.length} chosen series`);
  if (scope.search) parts.push(`search '${scope.search}'`);
  return parts.length ? parts.join(', ') : 'every case';
}

/** What a scope can choose from in this workspace, with case counts (quarantined cases left out). */
export interface ScopeOptions {
  modalities: { value: string; count: number }[];
  bodyParts: { value: string; count: number }[];
  kinds: { value: 'photo' | 'dicom'; count: number }[];
  colour: { value: 'colour' | 'greyscale' | 'unknown'; count: number }[];
  laterality: { value: Laterality; count: number }[];
}

export function scopeOptions(db: Database): ScopeOptions {
  const facet = <T extends string>(expr: string): { value: T; count: number }[] =>
    db
      .prepare(
        `SELECT ${expr} AS value, count(*) AS count FROM cases c JOIN instances i ON i.id = c.instance_ref JOIN series se ON se.id = i.series_ref
         WHERE c.id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL) GROUP BY 1 HAVING value IS NOT NULL ORDER BY 2 DESC, 1`,
      )
      .all() as { value: T; count: number }[];
  return {
    modalities: facet(`nullif(upper(trim(se.modality)), '')`),
    bodyParts: facet(`nullif(upper(trim(se.body_part)), '')`),
    kinds: facet('c.kind'),
    colour: facet(`CASE c.colour WHEN 1 THEN 'colour' WHEN 0 THEN 'greyscale' ELSE 'unknown' END`),
    laterality: facet(`ifnull(c.laterality, 'unknown')`),
  };
}
