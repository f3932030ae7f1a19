import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { CASE_FILTERS, type CaseFilter, type Split } from '../vocabulary';
import { DUE_REPEAT_SQL, repeatDueParams, unblindedCasesSql } from './reads';
import type { TaskSettings } from './tasks';
import { isEmptyScope, normaliseCaseUnit, normaliseScope, scopeCondition, taskCaseCondition, unitSizes, type CaseUnit, type TaskScope } from './scope';

export type WorklistFilter = CaseFilter;
export type WorklistSort = 'imported' | 'rank' | 'uncertainty';

export interface WorklistQuery {
  offset?: number;
  limit?: number;
  /** 'all' and the label filters leave out quarantined cases; 'quarantined' lists only them. */
  filter?: WorklistFilter;
  /** Case-insensitive substring of file name (also every other name the file was imported under), patient ID/name, study date, modality, accession, UIDs. */
  search?: string;
  /** The task whose labels, suggestions and active-version predictions are shown; default: the first task. */
  taskId?: number;
  sort?: WorklistSort;
  /** The reader whose 'awaiting-my-read' list is asked for (required by that filter). */
  reader?: string;
}

export interface CaseSummary {
  id: number;
  kind: 'dicom' | 'photo';
  displayName: string;
  patientId?: string;
  patientName?: string;
  studyDate?: string;
  modality?: string;
  label?: string;
  predicted?: string;
  confidence?: number;
  suggestionRank?: number;
  importedAt: string;
  // Additions beyond the first slice:
  frameCount: number;
  split: 'train' | 'val';
  /** The case's split in this task (task_splits): set once labelled, or when the user held it out for test. */
  taskSplit?: Split;
  uncertainty?: number;
  quarantined: boolean;
  /** Why the case is quarantined (e.g. the import could not decode its file); set only when `quarantined`. */
  quarantineReason?: string;
  /** Review marks for the task (see review-marks.ts). */
  flagged: boolean;
  skipped: boolean;
  /** Series and study tasks: how many in-scope images this row (its representative case) stands for. */
  unitSize?: number;
}

export const MAX_PAGE = 1000;

const FILTERS: readonly WorklistFilter[] = CASE_FILTERS;
const SORTS: readonly WorklistSort[] = ['imported', 'rank', 'uncertainty'];

interface WorklistSelection {
  /** `WHERE …` on the cases row aliased `c`. */
  whereSql: string;
  params: Record<string, string | number>;
  scope: TaskScope;
  caseUnit: CaseUnit;
  readsPerCase: number;
  /** The reader the selection is blind for (a k-read task, not a reviewer), if any. */
  blindFor?: string;
}

/** Which cases a worklist query selects (task scope and unit, filter, search), shared by the flat list and the groups. */
function worklistSelection(db: Database, q: Pick<WorklistQuery, 'filter' | 'search' | 'taskId' | 'reader'>): WorklistSelection {
  const filter = q.filter ?? 'all';
  if (!FILTERS.includes(filter)) throw new WorkspaceError('invalid', `Unknown worklist filter '${String(filter)}'`);

  const taskId = q.taskId ?? (db.prepare('SELECT min(id) AS id FROM tasks').get() as { id: number | null }).id;
  if (q.taskId !== undefined && !db.prepare('SELECT 1 FROM tasks WHERE id = ?').get(q.taskId)) {
    throw new WorkspaceError('not-found', `No label task with id ${q.taskId}`);
  }
  const versionId =
    taskId === null
      ? null
      : ((
          db.prepare(`SELECT id FROM adapter_versions WHERE task_id = ? AND status = 'active'`).get(taskId) as
            | { id: number }
            | undefined
        )?.id ?? null);
  const params: Record<string, string | number> = { task: taskId ?? -1, version: versionId ?? -1, search: '' };
  const { scope, caseUnit, readsPerCase, settings } = taskScope(db, taskId);

  const where: string[] = [];
  // Only the task's cases: in its scope and, for a series or study task, one representative per group.
  // Quarantined cases are no group's representative, so that filter lists the scope's quarantined images.
  if (!isEmptyScope(scope) || caseUnit !== 'image') {
    const cond = filter === 'quarantined' ? scopeCondition(scope) : taskCaseCondition(scope, caseUnit);
    where.push(cond.where);
    Object.assign(params, cond.params);
  }
  // IN (subquery) is materialised once per query, cheaper than a correlated probe for each of 50,000 rows.
  const quarantined = 'c.id IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL)';
  // Blind k-read task, seen by a reader (not a reviewer): labels and reader disagreements count only on the
  // cases this reader may see them on, so a filter's membership tells no more than the rows show.
  const blindFor = readsPerCase > 1 ? blindReader(db, q.reader) : undefined;
  if (blindFor) params.blindReader = blindFor;
  const unblinded = `c.id IN (${unblindedCasesSql('@task', '@blindReader')})`;
  const consensus = 'c.id IN (SELECT case_id FROM current_labels WHERE task_id = @task)';
  const hasLabel = blindFor ? `(${consensus} AND ${unblinded})` : consensus;
  if (filter === 'quarantined') where.push(quarantined);
  else where.push(`NOT ${quarantined}`);
  if (filter === 'labeled') where.push(hasLabel);
  if (filter === 'unlabeled') where.push(`NOT ${hasLabel}`);
  if (filter === 'suggested') where.push('c.id IN (SELECT case_id FROM suggestions WHERE task_id = @task)');
  if (filter === 'flagged') where.push('c.id IN (SELECT case_id FROM review_marks WHERE task_id = @task AND flagged = 1)');
  if (filter === 'skipped') where.push('c.id IN (SELECT case_id FROM review_marks WHERE task_id = @task AND skipped = 1)');
  if (filter === 'disagree') {
    where.push(`c.id IN (SELECT cl.case_id FROM current_labels cl JOIN predictions pr
      ON pr.case_id = cl.case_id AND pr.version_id = @version
      WHERE cl.task_id = @task AND pr.predicted IS NOT cl.value_text)`);
    if (blindFor) where.push(unblinded);
  }
  if (filter === 'awaiting-my-read') {
    if (!q.reader?.trim()) throw new WorkspaceError('invalid', "The 'awaiting my read' filter needs the reader");
    params.reader = q.reader.trim();
    // Read once per case: the unlabelled cases. Read k times: cases this reader has not read that still
    // lack reads, and the cases picked for this reader's blind repeat read.
    where.push(
      readsPerCase <= 1
        ? `NOT ${hasLabel}`
        : `(c.id NOT IN (SELECT case_id FROM read_events WHERE task_id = @task AND reader = @reader AND kind = 'first')
            AND c.id NOT IN (SELECT case_id FROM case_states WHERE task_id = @task AND state <> 'read')
          OR c.id IN (SELECT rr.case_id FROM read_repeats rr WHERE rr.task_id = @task AND rr.reader = @reader AND ${DUE_REPEAT_SQL} AND NOT EXISTS (
            SELECT 1 FROM read_events re WHERE re.task_id = rr.task_id AND re.case_id = rr.case_id AND re.reader = rr.reader AND re.kind = 'repeat')))`,
    );
    if (readsPerCase > 1) Object.assign(params, repeatDueParams({ settings }));
  }
  if (filter === 'readers-disagree') {
    where.push(`c.id IN (SELECT case_id FROM case_states WHERE task_id = @task AND state = 'disagreement')`);
    if (blindFor) where.push(unblinded);
  }
  const search = q.search?.trim().toLowerCase();
  if (search) {
    where.push(`c.search_text LIKE @search ESCAPE '\\'`);
    params.search = `%${search.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  }
  const whereSql = `WHERE ${where.join(' AND ')}`;

  return { whereSql, params, scope, caseUnit, readsPerCase, blindFor };
}

/** The reader a k-read task's worklist is blind for: a named reader who is not a reviewer or admin. */
function blindReader(db: Database, reader: string | undefined): string | undefined {
  const name = reader?.trim();
  if (!name) return undefined;
  return db.prepare(`SELECT 1 FROM readers WHERE name = ? AND role IN ('reviewer', 'admin')`).get(name) ? undefined : name;
}

/** The worklist: one page of cases plus the filtered total, in two indexed queries. */
export function listCases(db: Database, q: WorklistQuery): { total: number; items: CaseSummary[] } {
  const sort = q.sort ?? 'imported';
  if (!SORTS.includes(sort)) throw new WorkspaceError('invalid', `Unknown worklist sort '${String(sort)}'`);
  const offset = Math.max(0, Math.floor(q.offset ?? 0));
  const limit = Math.min(MAX_PAGE, Math.max(0, Math.floor(q.limit ?? 100)));
  const { whereSql, params, scope, caseUnit } = worklistSelection(db, q);
  const total = (db.prepare(`SELECT count(*) AS n FROM cases c ${whereSql}`).get(params) as { n: number }).n;

  let join = '';
  let order = 'c.id';
  if (sort === 'rank') {
    join = 'LEFT JOIN suggestions s ON s.task_id = @task AND s.case_id = c.id';
    order = 's.rank IS NULL, s.rank, c.id';
  } else if (sort === 'uncertainty') {
    join = 'LEFT JOIN predictions p ON p.version_id = @version AND p.case_id = c.id';
    order = 'p.uncertainty IS NULL, p.uncertainty DESC, c.id';
  }
  const ids = (
    db
      .prepare(`SELECT c.id FROM cases c ${join} ${whereSql} ORDER BY ${order} LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit, offset }) as { id: number }[]
  ).map((r) => r.id);
  const items = caseSummaries(db, ids, params.task as number, params.version as number);
  if (caseUnit !== 'image') {
    const sizes = unitSizes(db, scope, caseUnit, ids);
    for (const item of items) item.unitSize = sizes.get(item.id) ?? 1;
  }
  return { total, items };
}

export interface WorklistSeriesGroup {
  seriesUid: string;
  seriesNumber?: number;
  description?: string;
  modality?: string;
  /** The worklist's cases of the series, by instance number then case id. */
  caseIds: number[];
  labelled: number;
}
export interface WorklistStudyGroup {
  studyUid: string;
  studyDate?: string;
  description?: string;
  series: WorklistSeriesGroup[];
}
export interface WorklistPatientGroup {
  patientId?: string;
  patientName?: string;
  studies: WorklistStudyGroup[];
}

/** Cases the grouped worklist lists at most; past it the groups say they are truncated (the flat list has them all). */
export const MAX_GROUPED_CASES = 20_000;

/**
 * The worklist's cases (same filter, search, sort and task as the flat list) grouped patient → study → series.
 * Sort 'imported': patients by name and ID, their studies newest first, series by series number. Sort 'rank'
 * or 'uncertainty': each group where its best case would be in the flat list (lowest suggestion rank, highest
 * uncertainty; groups without one after, in the 'imported' order), so the truncated tail is the least worth reading.
 * Inside a series the cases stay in stack order (instance number).
 */
export function worklistGroups(
  db: Database,
  q: Pick<WorklistQuery, 'filter' | 'search' | 'taskId' | 'reader' | 'sort'>,
  limit = MAX_GROUPED_CASES,
): { total: number; patients: WorklistPatientGroup[]; truncated: boolean } {
  const sort = q.sort ?? 'imported';
  if (!SORTS.includes(sort)) throw new WorkspaceError('invalid', `Unknown worklist sort '${String(sort)}'`);
  const { whereSql, params, blindFor } = worklistSelection(db, q);
  // Blind k-read task: a reader counts the consensus only of cases they may see it on (read by them, no repeat
  // pending), as the flat list shows it; otherwise a complete case's label would tell agreement from disagreement.
  const labelled = blindFor
    ? `c.id IN (SELECT case_id FROM current_labels WHERE task_id = @task) AND c.id IN (${unblindedCasesSql('@task', '@blindReader')})`
    : 'c.id IN (SELECT case_id FROM current_labels WHERE task_id = @task)';
  // A case's place in the flat list's sort (lower first); NULL when it has none (no suggestion, no prediction).
  const score =
    sort === 'rank'
      ? '(SELECT s.rank FROM suggestions s WHERE s.task_id = @task AND s.case_id = c.id)'
      : sort === 'uncertainty'
        ? '(SELECT -p.uncertainty FROM predictions p WHERE p.version_id = @version AND p.case_id = c.id)'
        : 'NULL';
  const byScore = (partition: string) => `min(score) OVER (PARTITION BY ${partition}) IS NULL, min(score) OVER (PARTITION BY ${partition})`;
  const rows = db
    .prepare(
      `SELECT * FROM (
         SELECT c.id, pa.id AS patientRef, pa.patient_id AS patientId, pa.patient_name AS patientName,
           st.id AS studyRef, st.study_uid AS studyUid, st.study_date AS studyDate, st.description AS studyDescription,
           se.id AS seriesRef, se.series_uid AS seriesUid, se.series_number AS seriesNumber, se.description AS seriesDescription, se.modality,
           i.instance_number AS instanceNumber,
           ${labelled} AS labelled, ${score} AS score
         FROM cases c JOIN instances i ON i.id = c.instance_ref JOIN series se ON se.id = i.series_ref
           JOIN studies st ON st.id = se.study_ref JOIN patients pa ON pa.id = st.patient_ref
         ${whereSql})
       ORDER BY ${byScore('patientRef')}, patientName IS NULL, patientName, patientId, patientRef,
         ${byScore('studyRef')}, studyDate IS NULL, studyDate DESC, studyRef,
         ${byScore('seriesRef')}, seriesNumber IS NULL, seriesNumber, seriesRef, instanceNumber IS NULL, instanceNumber, id
       LIMIT @limit`,
    )
    .all({ ...params, limit: limit + 1 }) as {
    id: number;
    patientRef: number;
    patientId: string | null;
    patientName: string | null;
    studyUid: string;
    studyDate: string | null;
    studyDescription: string | null;
    seriesUid: string;
    seriesNumber: number | null;
    seriesDescription: string | null;
    modality: string | null;
    labelled: number;
  }[];
  const truncated = rows.length > limit;
  if (truncated) rows.length = limit;
  const patients: WorklistPatientGroup[] = [];
  let patientRef = -1;
  for (const r of rows) {
    if (r.patientRef !== patientRef) {
      patientRef = r.patientRef;
      patients.push({ ...(r.patientId ? { patientId: r.patientId } : {}), ...(r.patientName ? { patientName: r.patientName } : {}), studies: [] });
    }
    const studies = patients[patients.length - 1].studies;
    let study = studies[studies.length - 1];
    if (!study || study.studyUid !== r.studyUid) {
      study = { studyUid: r.studyUid, ...(r.studyDate ? { studyDate: r.studyDate } : {}), ...(r.studyDescription ? { description: r.studyDescription } : {}), series: [] };
      studies.push(study);
    }
    let series = study.series[study.series.length - 1];
    if (!series || series.seriesUid !== r.seriesUid) {
      series = {
        seriesUid: r.seriesUid,
        ...(r.seriesNumber !== null ? { seriesNumber: r.seriesNumber } : {}),
        ...(r.seriesDescription ? { description: r.seriesDescription } : {}),
        ...(r.modality ? { modality: r.modality } : {}),
        caseIds: [],
        labelled: 0,
      };
      study.series.push(series);
    }
    series.caseIds.push(r.id);
    series.labelled += r.labelled;
  }
  const total = truncated ? (db.prepare(`SELECT count(*) AS n FROM cases c ${whereSql}`).get(params) as { n: number }).n : rows.length;
  return { total, patients, truncated };
}

/** A task's scope, case unit and reads per case, straight from its settings (every case, one per image, one read when there is no task). */
function taskScope(db: Database, taskId: number | null): { scope: TaskScope; caseUnit: CaseUnit; readsPerCase: number; settings: TaskSettings } {
  if (taskId === null) return { scope: {}, caseUnit: 'image', readsPerCase: 1, settings: {} as TaskSettings };
  const row = db.prepare('SELECT settings FROM tasks WHERE id = ?').get(taskId) as { settings: string } | undefined;
  const settings = JSON.parse(row?.settings ?? '{}') as { scope?: unknown; caseUnit?: unknown; readsPerCase?: unknown };
  const k = typeof settings.readsPerCase === 'number' ? settings.readsPerCase : 1;
  return { scope: normaliseScope(settings.scope), caseUnit: normaliseCaseUnit(settings.caseUnit), readsPerCase: k, settings: settings as TaskSettings };
}

interface SummaryRow {
  id: number;
  kind: 'dicom' | 'photo';
  displayName: string;
  patientId: string | null;
  patientName: string | null;
  studyDate: string | null;
  modality: string | null;
  label: string | null;
  predicted: string | null;
  confidence: number | null;
  uncertainty: number | null;
  suggestionRank: number | null;
  importedAt: string;
  frameCount: number;
  split: 'train' | 'val';
  taskSplit: Split | null;
  quarantined: number;
  quarantineReason: string | null;
  flagged: number | null;
  skipped: number | null;
}

/** Summaries for the given case ids, in the given order. */
export function caseSummaries(db: Database, ids: number[], taskId: number, versionId: number): CaseSummary[] {
  if (ids.length === 0) return [];
  const rows = db
    .prepare(
      `SELECT c.id, c.kind, c.display_name AS displayName, pa.patient_id AS patientId, pa.patient_name AS patientName,
         st.study_date AS studyDate, se.modality, cl.value_text AS label, pr.predicted, pr.confidence, pr.uncertainty,
         sg.rank AS suggestionRank, c.imported_at AS importedAt, c.frame_count AS frameCount, c.split,
         ts.split AS taskSplit, rm.flagged, rm.skipped,
         EXISTS (SELECT 1 FROM quarantine qu WHERE qu.case_id = c.id) AS quarantined,
         (SELECT qu.reason FROM quarantine qu WHERE qu.case_id = c.id ORDER BY qu.id DESC LIMIT 1) AS quarantineReason
       FROM cases c
       JOIN instances i ON i.id = c.instance_ref
       JOIN series se ON se.id = i.series_ref
       JOIN studies st ON st.id = se.study_ref
       JOIN patients pa ON pa.id = st.patient_ref
       LEFT JOIN current_labels cl ON cl.task_id = ? AND cl.case_id = c.id
       LEFT JOIN predictions pr ON pr.version_id = ? AND pr.case_id = c.id
       LEFT JOIN suggestions sg ON sg.task_id = ? AND sg.case_id = c.id
       LEFT JOIN review_marks rm ON rm.task_id = ? AND rm.case_id = c.id
       LEFT JOIN task_splits ts ON ts.task_id = ? AND ts.case_id = c.id
       WHERE c.id IN (SELECT value FROM json_each(?))`,
    )
    .all(taskId, versionId, taskId, taskId, taskId, JSON.stringify(ids)) as SummaryRow[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => {
    const r = byId.get(id);
    return r ? [toSummary(r)] : [];
  });
}

function toSummary(r: SummaryRow): CaseSummary {
  const s: CaseSummary = {
    id: r.id,
    kind: r.kind,
    displayName: r.displayName,
    importedAt: r.importedAt,
    frameCount: r.frameCount,
    split: r.split,
    quarantined: r.quarantined === 1,
    flagged: r.flagged === 1,
    skipped: r.skipped === 1,
  };
  if (r.patientId) s.patientId = r.patientId;
  if (r.patientName) s.patientName = r.patientName;
  if (r.studyDate) s.studyDate = r.studyDate;
  if (r.modality) s.modality = r.modality;
  if (r.label !== null) s.label = r.label;
  if (r.predicted !== null) s.predicted = r.predicted;
  if (r.confidence !== null) s.confidence = r.confidence;
  if (r.uncertainty !== null) s.uncertainty = r.uncertainty;
  if (r.suggestionRank !== null) s.suggestionRank = r.suggestionRank;
  if (r.taskSplit !== null) s.taskSplit = r.taskSplit;
  if (r.quarantineReason !== null) s.quarantineReason = r.quarantineReason;
  return s;
}
