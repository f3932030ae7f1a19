import type { Database } from 'better-sqlite3';
import type { BlobStore } from './blobs';
import { WorkspaceError } from './errors';
import { scopeOptions, type ScopeOptions } from './scope';

export interface CaseDetail {
  id: number;
  kind: 'dicom' | 'photo';
  displayName: string;
  blobSha256: string;
  /** Where the bytes are: the workspace blob, or the original file when imported by reference. */
  blobPath: string;
  sourcePath: string;
  format: string;
  frameCount: number;
  rows?: number;
  columns?: number;
  split: 'train' | 'val';
  importedAt: string;
  sopInstanceUid: string;
  sopClassUid?: string;
  instanceNumber?: number;
  transferSyntaxUid?: string;
  seriesInstanceUid: string;
  seriesNumber?: number;
  seriesDescription?: string;
  modality?: string;
  bodyPart?: string;
  studyInstanceUid: string;
  studyDate?: string;
  studyTime?: string;
  studyDescription?: string;
  accessionNumber?: string;
  institutionName?: string;
  patientId?: string;
  patientName?: string;
  patientBirthDate?: string;
  patientSex?: string;
}

export interface QuarantineEntry {
  id: number;
  sourcePath: string;
  sha256?: string;
  caseId?: number;
  code: string;
  reason: string;
  createdAt: string;
}

const DETAIL_SQL = `
  SELECT c.id, c.kind, c.display_name AS displayName, c.blob_sha256 AS blobSha256, i.source_path AS sourcePath,
    i.format, c.frame_count AS frameCount, c.rows, c.columns, c.split, c.imported_at AS importedAt,
    i.sop_instance_uid AS sopInstanceUid, i.sop_class_uid AS sopClassUid, i.instance_number AS instanceNumber,
    i.transfer_syntax AS transferSyntaxUid, se.series_uid AS seriesInstanceUid, se.series_number AS seriesNumber,
    se.description AS seriesDescription, se.modality, se.body_part AS bodyPart, st.study_uid AS studyInstanceUid,
    st.study_date AS studyDate, st.study_time AS studyTime, st.description AS studyDescription,
    st.accession_number AS accessionNumber, st.institution AS institutionName, pa.patient_id AS patientId,
    pa.patient_name AS patientName, pa.birth_date AS patientBirthDate, pa.sex AS patientSex
  FROM cases c
  JOIN instances i ON i.id = c.instance_ref
  JOIN series se ON se.id = i.series_ref
  JOIN studies st ON st.id = se.study_ref
  JOIN patients pa ON pa.id = st.patient_ref`;

/** Cases (one per imported image) and the quarantine. Cases are created by the importer only. */
export class CaseService {
  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
  ) {}

  get(id: number): CaseDetail {
    const row = this.db.prepare(`${DETAIL_SQL} WHERE c.id = ?`).get(id) as Record<string, unknown> | undefined;
    if (!row) throw new WorkspaceError('not-found', `No case with id ${id}`);
    return this.toDetail(row);
  }

  /** Details of many cases in id order (for export and the trainer). */
  all(ids?: number[]): CaseDetail[] {
    const rows = (
      ids
        ? this.db.prepare(`${DETAIL_SQL} WHERE c.id IN (SELECT value FROM json_each(?)) ORDER BY c.id`).all(JSON.stringify(ids))
        : this.db.prepare(`${DETAIL_SQL} ORDER BY c.id`).all()
    ) as Record<string, unknown>[];
    return rows.map((r) => this.toDetail(r));
  }

  /** The modalities, body parts, kinds, colour and sides present, for choosing a task's scope. */
  scopeOptions(): ScopeOptions {
    return scopeOptions(this.db);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM cases').get() as { n: number }).n;
  }

  idBySopInstanceUid(uid: string): number | undefined {
    return (
      this.db.prepare('SELECT c.id FROM cases c JOIN instances i ON i.id = c.instance_ref WHERE i.sop_instance_uid = ?').get(uid) as
        | { id: number }
        | undefined
    )?.id;
  }

  /**
   * Cases imported from this path (absolute, or as written in the import: also matched by file name), including
   * the paths of duplicates kept as aliases (a byte-identical copy under another name names the same case).
   */
  idsByFile(file: string): number[] {
    return (
      this.db
        .prepare(
          `SELECT id, max(exact) AS exact FROM (
             SELECT c.id, i.source_path = @file AS exact FROM cases c JOIN instances i ON i.id = c.instance_ref
             WHERE i.source_path = @file OR c.display_name = @file
             UNION ALL
             SELECT case_id, source_path = @file FROM case_aliases WHERE source_path = @file OR base_name = @file)
           GROUP BY id ORDER BY exact DESC, id`,
        )
        .all({ file }) as { id: number }[]
    ).map((r) => r.id);
  }

  /** The case imported under exactly this path (its own path or an alias), if any. */
  idByExactPath(file: string): number | undefined {
    return (
      this.db
        .prepare(
          `SELECT c.id FROM cases c JOIN instances i ON i.id = c.instance_ref WHERE i.source_path = @file
           UNION ALL SELECT case_id FROM case_aliases WHERE source_path = @file LIMIT 1`,
        )
        .get({ file }) as { id: number } | undefined
    )?.id;
  }

  /** Every other path the case's file was imported under (duplicates), oldest first. */
  aliases(caseId: number): { sourcePath: string; sha256: string; importedAt: string }[] {
    return this.db
      .prepare('SELECT source_path AS sourcePath, sha256, imported_at AS importedAt FROM case_aliases WHERE case_id = ? ORDER BY id')
      .all(caseId) as { sourcePath: string; sha256: string; importedAt: string }[];
  }

  /** The case's file bytes (verified against its SHA-256 when referenced in place). */
  bytes(id: number): Buffer {
    return this.blobs.read(this.get(id).blobSha256);
  }

  /** Cases per split (the fixed train/validation assignment); quarantined cases are in neither. */
  splitCounts(): { train: number; val: number } {
    const out = { train: 0, val: 0 };
    const rows = this.db
      .prepare('SELECT split, count(*) AS n FROM cases WHERE id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL) GROUP BY split')
      .all();
    for (const r of rows as { split: 'train' | 'val'; n: number }[]) {
      out[r.split] = r.n;
    }
    return out;
  }

  /** Sets a case aside (e.g. its pixels turn out undecodable); it leaves the worklist's other filters. */
  quarantine(caseId: number, reason: string, code = 'manual'): void {
    const c = this.get(caseId);
    this.db
      .prepare(
        `INSERT INTO quarantine (source_path, sha256, case_id, code, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET case_id = excluded.case_id, code = excluded.code, reason = excluded.reason`,
      )
      .run(c.sourcePath, c.blobSha256, caseId, code, reason, new Date().toISOString());
  }

  /** Returns a quarantined case to the worklist. */
  release(caseId: number): void {
    this.db.prepare('DELETE FROM quarantine WHERE case_id = ?').run(caseId);
  }

  /** Files that failed to import and cases set aside, newest first. */
  quarantined(limit = 1000): QuarantineEntry[] {
    const rows = this.db
      .prepare(
        `SELECT id, source_path AS sourcePath, sha256, case_id AS caseId, code, reason, created_at AS createdAt
         FROM quarantine ORDER BY id DESC LIMIT ?`,
      )
      .all(limit) as (QuarantineEntry & { sha256: string | null; caseId: number | null })[];
    return rows.map(({ sha256, caseId, ...q }) => ({ ...q, ...(sha256 ? { sha256 } : {}), ...(caseId !== null ? { caseId } : {}) }));
  }

  private toDetail(row: Record<string, unknown>): CaseDetail {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) if (v !== null && v !== '') out[k] = v;
    const d = out as unknown as CaseDetail;
    d.blobPath = this.blobs.locate(d.blobSha256);
    return d;
  }
}
