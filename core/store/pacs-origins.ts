import type { Database } from 'better-sqlite3';

/** Where a retrieved case came from: the PACS connection, its study and series. */
export interface PacsOrigin {
  connection: string;
  studyUid: string;
  seriesUid: string;
  retrievedAt: string;
}

interface Row {
  connection: string;
  study_uid: string;
  series_uid: string;
  retrieved_at: string;
}

/**
 * The PACS origin of retrieved cases. A case imported from a staged file (core/pacs/retrieve.ts) also
 * takes a name and source that say where it came from, instead of the staging path that is deleted.
 */
export class PacsOriginService {
  constructor(private readonly db: Database) {}

  /**
   * Records that `caseId` came from `origin`. When the case was made from `stagedPath` just now, its
   * display name and source path become `displayName` and `sourceUri` (and the worklist search finds
   * them); a case that was already here from a file keeps its own name and path.
   */
  record(caseId: number, origin: Omit<PacsOrigin, 'retrievedAt'>, staged: { path: string; displayName: string; sourceUri: string }): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO pacs_origins (case_id, connection, study_uid, series_uid, retrieved_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (case_id) DO UPDATE SET connection = excluded.connection, study_uid = excluded.study_uid,
             series_uid = excluded.series_uid, retrieved_at = excluded.retrieved_at`,
        )
        .run(caseId, origin.connection, origin.studyUid, origin.seriesUid, new Date().toISOString());
      const renamed = this.db
        .prepare(`UPDATE instances SET source_path = ? WHERE source_path = ? AND id = (SELECT instance_ref FROM cases WHERE id = ?)`)
        .run(staged.sourceUri, staged.path, caseId).changes;
      if (renamed > 0) {
        this.db.prepare(`UPDATE cases SET display_name = ?, search_text = search_text || ' ' || ? WHERE id = ?`).run(staged.displayName, `${staged.displayName} ${origin.connection}`, caseId);
      }
    })();
  }

  get(caseId: number): PacsOrigin | undefined {
    const r = this.db.prepare('SELECT connection, study_uid, series_uid, retrieved_at FROM pacs_origins WHERE case_id = ?').get(caseId) as Row | undefined;
    return r && { connection: r.connection, studyUid: r.study_uid, seriesUid: r.series_uid, retrievedAt: r.retrieved_at };
  }

  /** The cases retrieved through a connection (only from these studies, when given), in id order. */
  caseIds(connection: string, studyUids?: string[]): number[] {
    const rows = studyUids
      ? this.db.prepare('SELECT case_id FROM pacs_origins WHERE connection = ? AND study_uid IN (SELECT value FROM json_each(?)) ORDER BY case_id').all(connection, JSON.stringify(studyUids))
      : this.db.prepare('SELECT case_id FROM pacs_origins WHERE connection = ? ORDER BY case_id').all(connection);
    return (rows as { case_id: number }[]).map((r) => r.case_id);
  }
}
