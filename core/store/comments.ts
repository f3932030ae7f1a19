import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';

/** Longest comment, in characters (the schema checks it too). */
export const MAX_COMMENT_LENGTH = 4000;

export interface CaseComment {
  id: number;
  caseId: number;
  author: string;
  body: string;
  createdAt: string;
}

interface Row {
  id: number;
  case_id: number;
  author: string;
  body: string;
  created_at: string;
}

/** Readers' comments per case: added, listed oldest first, deleted only by whoever wrote them. */
export class CommentService {
  constructor(private readonly db: Database) {}

  list(caseId: number): CaseComment[] {
    const rows = this.db.prepare('SELECT * FROM case_comments WHERE case_id = ? ORDER BY id').all(caseId) as Row[];
    return rows.map(toComment);
  }

  add(caseId: number, author: string, body: string): CaseComment {
    const text = body.trim();
    if (!author?.trim()) throw new WorkspaceError('invalid', 'A comment needs an author');
    if (!text) throw new WorkspaceError('invalid', 'A comment cannot be empty');
    if (text.length > MAX_COMMENT_LENGTH) throw new WorkspaceError('invalid', `A comment is at most ${MAX_COMMENT_LENGTH} characters (this one has ${text.length})`);
    if (!this.db.prepare('SELECT 1 FROM cases WHERE id = ?').get(caseId)) throw new WorkspaceError('not-found', `No case with id ${caseId}`);
    const info = this.db
      .prepare('INSERT INTO case_comments (case_id, author, body, created_at) VALUES (?, ?, ?, ?)')
      .run(caseId, author.trim(), text, new Date().toISOString());
    return toComment(this.db.prepare('SELECT * FROM case_comments WHERE id = ?').get(info.lastInsertRowid) as Row);
  }

  /** Deletes a comment its author wrote; someone else's comment is refused, not silently kept. */
  delete(id: number, author: string): void {
    const row = this.db.prepare('SELECT * FROM case_comments WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new WorkspaceError('not-found', `No comment with id ${id}`);
    if (row.author !== author) throw new WorkspaceError('conflict', `Only ${row.author} can delete this comment (you are ${author})`);
    this.db.prepare('DELETE FROM case_comments WHERE id = ?').run(id);
  }
}

function toComment(r: Row): CaseComment {
  return { id: r.id, caseId: r.case_id, author: r.author, body: r.body, createdAt: r.created_at };
}
