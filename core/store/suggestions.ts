import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';

export interface Suggestion {
  taskId: number;
  caseId: number;
  versionId?: number;
  strategy: string;
  score: number;
  /** 1 = label this case first. */
  rank: number;
  reason?: string;
  createdAt: string;
}

export interface NewSuggestions {
  taskId: number;
  strategy: string;
  versionId?: number;
  /** Ranked by `rank` when every item has one (the strategy's own order), else by score, highest first (ties: input order). */
  items: { caseId: number; score: number; reason?: string; rank?: number }[];
}

/** The active-learning queue of a task: replaced as a whole each time a strategy runs. */
export class SuggestionService {
  constructor(private readonly db: Database) {}

  replace(input: NewSuggestions): number {
    if (!input.strategy?.trim()) throw new WorkspaceError('invalid', 'Suggestions need a strategy name');
    // A strategy whose scores are on different scales (mixed: random 0, influence, margin) gives its own ranks.
    const byRank = input.items.length > 0 && input.items.every((it) => it.rank !== undefined);
    const ranked = input.items.map((it, i) => ({ ...it, i })).sort((a, b) => (byRank ? a.rank! - b.rank! : b.score - a.score) || a.i - b.i);
    const insert = this.db.prepare(
      `INSERT INTO suggestions (task_id, version_id, case_id, strategy, score, rank, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const createdAt = new Date().toISOString();
    this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM tasks WHERE id = ?').get(input.taskId)) {
        throw new WorkspaceError('not-found', `No label task with id ${input.taskId}`);
      }
      this.db.prepare('DELETE FROM suggestions WHERE task_id = ?').run(input.taskId);
      const seen = new Set<number>();
      ranked.forEach((it, k) => {
        if (!Number.isFinite(it.score)) throw new WorkspaceError('invalid', `Case ${it.caseId}: suggestion score must be finite`);
        if (seen.has(it.caseId)) throw new WorkspaceError('invalid', `Case ${it.caseId} is suggested twice`);
        seen.add(it.caseId);
        insert.run(input.taskId, input.versionId ?? null, it.caseId, input.strategy, it.score, k + 1, it.reason ?? null, createdAt);
      });
    })();
    return ranked.length;
  }

  list(taskId: number, limit = 100): Suggestion[] {
    const rows = this.db
      .prepare(
        `SELECT task_id AS taskId, case_id AS caseId, version_id AS versionId, strategy, score, rank, reason, created_at AS createdAt
         FROM suggestions WHERE task_id = ? ORDER BY rank LIMIT ?`,
      )
      .all(taskId, limit) as (Suggestion & { versionId: number | null; reason: string | null })[];
    return rows.map(({ versionId, reason, ...s }) => ({
      ...s,
      ...(versionId !== null ? { versionId } : {}),
      ...(reason !== null ? { reason } : {}),
    }));
  }

  clear(taskId: number): void {
    this.db.prepare('DELETE FROM suggestions WHERE task_id = ?').run(taskId);
  }
}
