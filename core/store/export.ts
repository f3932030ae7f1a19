import { createHmac, randomBytes } from 'node:crypto';
import { csvLine } from './csv';
import { WorkspaceError } from './errors';
import type { LabelValue } from './labels';
import { databaseOf, type Workspace } from './workspace';

export interface LabelExportOptions {
  taskId: number;
  format: 'csv' | 'json';
  /**
   * Apply the DICOM PS3.15 Annex E Basic Profile to the exported rows: patient name, ID, birth date
   * and sex, accession number, institution, study date/time and the source path are removed; the
   * patient gets a pseudonym and UIDs are replaced by keyed hashes (the same in every export of this
   * workspace, or of any workspace given the same `deidSecret`).
   */
  deidentify?: boolean;
  /** Key for the UID/pseudonym hashes; default: a random key kept in this workspace. */
  deidSecret?: string;
  /** Every label event instead of the current labels. */
  history?: boolean;
  /**
   * Tasks read k > 1 times: one row per read (first and repeat) with its reader, the case's state and
   * its consensus, instead of the labels. JSON exports of such tasks carry the reads beside the labels anyway.
   */
  reads?: boolean;
  /**
   * JSON exports: the task's measurements grouped per case (core/app/measurement-export.ts makes them with the
   * same identity columns), written as `measurements`. CSV exports carry measurements in a file of their own.
   */
  measurements?: readonly object[];
}

export interface LabelExportRow {
  case_id: number;
  study_instance_uid: string;
  series_instance_uid: string;
  sop_instance_uid: string;
  file?: string;
  patient_id?: string;
  patient_name?: string;
  patient_pseudonym?: string;
  study_date?: string;
  modality?: string;
  split: 'train' | 'val';
  label: string | null;
  value: LabelValue | null;
  author: string;
  source: string;
  labelled_at: string;
  event_id?: number;
  /** Read rows: 'first' or 'repeat'. */
  read_kind?: string;
  /** Read rows: the case's review state and its current (consensus or adjudicated) label. */
  case_state?: string;
  consensus?: string | null;
}

const CSV_COLUMNS_IDENTIFIED = [
  'case_id', 'study_instance_uid', 'series_instance_uid', 'sop_instance_uid', 'file', 'patient_id', 'patient_name',
  'study_date', 'modality', 'split', 'label', 'author', 'source', 'labelled_at',
] as const;
const CSV_COLUMNS_DEID = [
  'case_id', 'study_instance_uid', 'series_instance_uid', 'sop_instance_uid', 'patient_pseudonym', 'modality', 'split', 'label',
  'author', 'source', 'labelled_at',
] as const;

const CSV_READ_COLUMNS = ['read_kind', 'case_state', 'consensus'] as const;

/** The exported rows of a task, current labels (or the full history, or every read), by case. */
export function labelExportRows(ws: Workspace, opts: Omit<LabelExportOptions, 'format'>): LabelExportRow[] {
  ws.tasks.get(opts.taskId);
  if (opts.reads) return readExportRows(ws, opts);
  const sql = opts.history
    ? `SELECT e.case_id, e.value, e.value_text, e.author, e.source, e.created_at, e.id AS event_id
       FROM label_events e WHERE e.task_id = ? ORDER BY e.case_id, e.id`
    : `SELECT cl.case_id, cl.value, cl.value_text, cl.author, cl.source, cl.updated_at AS created_at
       FROM current_labels cl WHERE cl.task_id = ? ORDER BY cl.case_id`;
  const labels = databaseOf(ws).prepare(sql).all(opts.taskId) as {
    case_id: number;
    value: string | null;
    value_text: string | null;
    author: string;
    source: string;
    created_at: string;
    event_id?: number;
  }[];
  return withCases(ws, opts, labels, (l) => ({
    label: l.value_text,
    value: l.value === null ? null : (JSON.parse(l.value) as LabelValue),
    author: l.author,
    source: l.source,
    labelled_at: l.created_at,
    ...(l.event_id !== undefined ? { event_id: l.event_id } : {}),
  }));
}

/** One row per read of a task read k > 1 times: its reader, kind, value and time, with the case's state and consensus. */
function readExportRows(ws: Workspace, opts: Omit<LabelExportOptions, 'format'>): LabelExportRow[] {
  const reads = ws.reads.allReads(opts.taskId).map((r) => ({ ...r, case_id: r.caseId }));
  return withCases(ws, opts, reads, (r) => ({
    label: r.valueText,
    value: r.value,
    author: r.reader,
    source: 'read',
    labelled_at: r.createdAt,
    read_kind: r.kind,
    case_state: ws.reads.state(opts.taskId, r.caseId),
    consensus: ws.labels.current(r.caseId, opts.taskId)?.valueText ?? null,
  }));
}

type RowFields = Pick<LabelExportRow, 'label' | 'value' | 'author' | 'source' | 'labelled_at'> & Partial<LabelExportRow>;

/** Who and what a case is in an export: UIDs and patient, or hashed UIDs and a pseudonym when de-identified. */
export type CaseColumns = Pick<
  LabelExportRow,
  'case_id' | 'study_instance_uid' | 'series_instance_uid' | 'sop_instance_uid' | 'file' | 'patient_id' | 'patient_name' | 'patient_pseudonym' | 'study_date' | 'modality' | 'split'
>;

/**
 * The case columns and reader names of an export's rows, identified or de-identified (hashed UIDs, a patient
 * pseudonym, readers as "Reader n"); shared by the label rows and the measurement rows so both link the same way.
 */
export function exportIdentity(
  ws: Workspace,
  opts: Pick<LabelExportOptions, 'deidentify' | 'deidSecret'>,
  caseIds: number[],
): { caseColumns: (caseId: number) => CaseColumns; author: (name: string) => string } {
  const details = new Map(ws.cases.all([...new Set(caseIds)]).map((c) => [c.id, c]));
  const key = opts.deidentify ? deidKey(ws, opts.deidSecret) : undefined;
  const readerAlias = key ? readerPseudonyms(ws) : undefined;
  const caseColumns = (caseId: number): CaseColumns => {
    const c = details.get(caseId);
    if (!c) throw new WorkspaceError('not-found', `Export refers to missing case ${caseId}`);
    const base = { case_id: c.id, split: c.split, modality: c.modality };
    if (key) {
      return {
        ...base,
        study_instance_uid: hashUid(key, c.studyInstanceUid),
        series_instance_uid: hashUid(key, c.seriesInstanceUid),
        sop_instance_uid: hashUid(key, c.sopInstanceUid),
        patient_pseudonym: pseudonym(key, `${c.patientId ?? ''}\u0000${c.patientName ?? ''}`),
      };
    }
    return {
      ...base,
      study_instance_uid: c.studyInstanceUid,
      series_instance_uid: c.seriesInstanceUid,
      sop_instance_uid: c.sopInstanceUid,
      file: c.sourcePath,
      patient_id: c.patientId,
      patient_name: c.patientName,
      study_date: c.studyDate,
    };
  };
  const author = (name: string) => (readerAlias ? name.split(' + ').map(readerAlias).join(' + ') : name);
  return { caseColumns, author };
}

/** Adds each row's case (identified, or de-identified with hashed UIDs, a patient pseudonym and readers as "Reader n"). */
function withCases<T extends { case_id: number }>(ws: Workspace, opts: Omit<LabelExportOptions, 'format'>, items: T[], fields: (item: T) => RowFields): LabelExportRow[] {
  const identity = exportIdentity(ws, opts, items.map((l) => l.case_id));
  return items.map((l) => {
    const own = fields(l);
    const c = identity.caseColumns(l.case_id);
    // The case's columns first, as before: case_id, split and modality lead, the label's fields follow.
    const { case_id, split, modality, ...ids } = c;
    return { case_id, split, modality, ...own, author: identity.author(own.author), ...ids };
  });
}

/** Labels of a task as CSV or JSON text. */
export function exportLabels(ws: Workspace, opts: LabelExportOptions): string {
  const rows = labelExportRows(ws, opts);
  if (opts.format === 'json') {
    const task = ws.tasks.get(opts.taskId);
    const multiRead = !opts.reads && (task.settings.readsPerCase ?? 1) > 1;
    return `${JSON.stringify(
      {
        task: { name: task.name, kind: task.kind, classes: task.classes },
        exportedAt: new Date().toISOString(),
        deidentified: opts.deidentify === true,
        ...(opts.deidentify ? { deidentificationMethod: 'DICOM PS3.15 Annex E Basic Profile (export rows); UIDs and patient replaced by keyed SHA-256' } : {}),
        history: opts.history === true,
        labels: rows,
        ...(opts.measurements ? { measurements: opts.measurements } : {}),
        ...(multiRead ? { readsPerCase: task.settings.readsPerCase, reads: labelExportRows(ws, { ...opts, reads: true }) } : {}),
      },
      null,
      2,
    )}\n`;
  }
  if (opts.format !== 'csv') throw new WorkspaceError('invalid', `Unknown export format '${String(opts.format)}' (csv or json)`);
  const columns: readonly string[] = [
    ...(opts.deidentify ? CSV_COLUMNS_DEID : CSV_COLUMNS_IDENTIFIED),
    ...(opts.history && !opts.reads ? ['event_id'] : []),
    ...(opts.reads ? CSV_READ_COLUMNS : []),
  ];
  let out = csvLine([...columns]);
  for (const r of rows) out += csvLine(columns.map((col) => (r as unknown as Record<string, unknown>)[col]));
  return out;
}


/**
 * De-identified exports name readers "Reader 1", "Reader 2", … in the order their profiles were made
 * (then any other author of labels, reads or measurements, alphabetically), so a reader's rows stay linked without naming them.
 */
function readerPseudonyms(ws: Workspace): (name: string) => string {
  const order = ws.readers.list().map((r) => r.name);
  const others = (
    databaseOf(ws)
      .prepare(
        `SELECT DISTINCT author AS name FROM label_events UNION SELECT DISTINCT reader FROM read_events
         UNION SELECT DISTINCT author FROM measurements ORDER BY name`,
      )
      .all() as { name: string }[]
  )
    .flatMap((r) => r.name.split(' + '))
    .filter((n) => !order.includes(n));
  const all = [...order, ...[...new Set(others)].sort()];
  return (name) => `Reader ${all.indexOf(name) + 1}`;
}

/** The workspace's de-identification key, made on first use and kept in `meta`. */
function deidKey(ws: Workspace, secret?: string): string {
  if (secret) return secret;
  const row = databaseOf(ws).prepare(`SELECT value FROM meta WHERE key = 'deid_secret'`).get() as { value: string } | undefined;
  if (row) return row.value;
  const fresh = randomBytes(32).toString('hex');
  databaseOf(ws).prepare(`INSERT INTO meta (key, value) VALUES ('deid_secret', ?) ON CONFLICT (key) DO NOTHING`).run(fresh);
  return (databaseOf(ws).prepare(`SELECT value FROM meta WHERE key = 'deid_secret'`).get() as { value: string }).value;
}

/** A replacement UID under 2.25 from a keyed hash: consistent, not reversible without the key. */
export function hashUid(key: string, uid: string): string {
  const h = createHmac('sha256', key).update(`uid:${uid}`).digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${h.toString('hex')}`).toString(10)}`;
}

function pseudonym(key: string, patientKey: string): string {
  return `ANON-${createHmac('sha256', key).update(`patient:${patientKey}`).digest('hex').slice(0, 12).toUpperCase()}`;
}
