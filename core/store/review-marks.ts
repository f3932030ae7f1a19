import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';

/** A reader's marks on one case for one task: skipped for now, and/or flagged for a second look. */
export interface ReviewMark {
  flagged: boolean;
  skipped: boolean;
  note?: string;
  /** Who changed the mark last, and when (absent while the case carries no mark). */
  author?: string;
  updatedAt?: string;
}

export interface ReviewMarkChange {
  flagged?: boolean;
  skipped?: boolean;
  /** A string replaces the note ('' removes it); undefined keeps it. */
  note?: string;
}

export const MAX_NOTE_LENGTH = 2000;

interface MarkRow {
  flagged: number;
  skipped: number;
  note: string | null;
  author: string;
  updated_at: string;
}

const NO_MARK: ReviewMark = { flagged: false, skipped: false };

/**
 * Skip and flag-for-review per (task, case), kept in the workspace so they survive a restart. Unlike
 * labels they are plain state, not history: the latest change wins, and a row that no longer marks
 * anything is removed.
 */
export class ReviewMarkService {
  constructor(private readonly db: Database) {}

  get(taskId: number, caseId: number): ReviewMark {
    const row = this.db
      .prepare('SELECT flagged, skipped, note, author, updated_at FROM review_marks WHERE task_id = ? AND case_id = ?')
      .get(taskId, caseId) as MarkRow | undefined;
    return row ? toMark(row) : { ...NO_MARK };
  }

  /** Applies a change and returns the case's marks after it. */
  update(taskId: number, caseId: number, change: ReviewMarkChange, author: string): ReviewMark {
    if (!author?.trim()) throw new WorkspaceError('invalid', 'A review mark needs an author');
    if (change.note !== undefined && change.note.length > MAX_NOTE_LENGTH) {
      throw new WorkspaceError('invalid', `A review note is at most ${MAX_NOTE_LENGTH} characters (got ${change.note.length})`);
    }
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM tasks WHERE id = ?').get(taskId)) {
        throw new WorkspaceError('not-found', `No label task with id ${taskId}`);
      }
      if (!this.db.prepare('SELECT 1 FROM cases WHERE id = ?').get(caseId)) {
        throw new WorkspaceError('not-found', `No case with id ${caseId}`);
      }
      const before = this.get(taskId, caseId);
      const note = change.note === undefined ? before.note : change.note.trim() || undefined;
      const next = { flagged: change.flagged ?? before.flagged, skipped: change.skipped ?? before.skipped, note };
      if (!next.flagged && !next.skipped && next.note === undefined) {
        this.db.prepare('DELETE FROM review_marks WHERE task_id = ? AND case_id = ?').run(taskId, caseId);
        return { ...NO_MARK };
      }
      const changed = next.flagged !== before.flagged || next.skipped !== before.skipped || next.note !== before.note;
      if (!changed) return before;
      this.db
        .prepare(
          `INSERT INTO review_marks (task_id, case_id, flagged, skipped, note, author, updated_at)
           VALUES (@task, @case, @flagged, @skipped, @note, @author, @now)
           ON CONFLICT (task_id, case_id) DO UPDATE SET flagged = excluded.flagged, skipped = excluded.skipped,
             note = excluded.note, author = excluded.author, updated_at = excluded.updated_at`,
        )
        .run({
          task: taskId,
          case: caseId,
          flagged: next.flagged ? 1 : 0,
          skipped: next.skipped ? 1 : 0,
          note: next.note ?? null,
          author: author.trim(),
          now: new Date().toISOString(),
        });
      return this.get(taskId, caseId);
    })();
  }

  /** Case ids carrying a mark, in case order. */
  caseIds(taskId: number, mark: 'flagged' | 'skipped'): number[] {
    const column = mark === 'flagged' ? 'flagged' : 'skipped';
    return (
      this.db.prepare(`SELECT case_id AS id FROM review_marks WHERE task_id = ? AND ${column} = 1 ORDER BY case_id`).all(taskId) as {
        id: number;
      }[]
    ).map((r) => r.id);
  }

  counts(taskId: number): { flagged: number; skipped: number } {
    const row = this.db
      .prepare('SELECT coalesce(sum(flagged), 0) AS flagged, coalesce(sum(skipped), 0) AS skipped FROM review_marks WHERE task_id = ?')
      .get(taskId) as { flagged: number; skipped: number };
    return { flagged: row.flagged, skipped: row.skipped };
  }
}

function toMark(r: MarkRow): ReviewMark {
  const mark: ReviewMark = { flagged: r.flagged === 1, skipped: r.skipped === 1, author: r.author, updatedAt: r.updated_at };
  if (r.note !== null) mark.note = r.note;
  return mark;
}
