import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { SPLITS, type Split } from '../vocabulary';

/** How a case came into its split: at labelling (stratified), by the user, or from the import-time hash of older workspaces. */
export type SplitSource = 'auto' | 'user' | 'import';

export interface SplitAssignment {
  caseId: number;
  split: Split;
  source: SplitSource;
  /** The class the case was stratified on when it was assigned. */
  stratum: string | null;
}

/** Fractions of newly labelled cases assigned to validation and test, per stratum (class). */
export interface SplitFractions {
  val: number;
  test: number;
}

export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { val: 0.2, test: 0 };

/**
 * Per-task train / validation / test assignment. A case is assigned when it is first labelled,
 * stratified by its class so that every class keeps about the same share in validation (and test);
 * once assigned it never moves by itself, so versions are compared on a set that only grows. A user
 * may assign cases explicitly (a `split` column in the label CSV, or a worklist selection), which
 * wins over the automatic rule. Test cases are never trained on or suggested.
 */
export class SplitService {
  constructor(private readonly db: Database) {}

  /** The assignments of a task, by case id. */
  forTask(taskId: number): Map<number, SplitAssignment> {
    const rows = this.db
      .prepare('SELECT case_id AS caseId, split, source, stratum FROM task_splits WHERE task_id = ?')
      .all(taskId) as SplitAssignment[];
    return new Map(rows.map((r) => [r.caseId, r]));
  }

  get(taskId: number, caseId: number): SplitAssignment | undefined {
    return this.db
      .prepare('SELECT case_id AS caseId, split, source, stratum FROM task_splits WHERE task_id = ? AND case_id = ?')
      .get(taskId, caseId) as SplitAssignment | undefined;
  }

  /** Case ids of one split of a task. */
  caseIds(taskId: number, split: Split): number[] {
    return (this.db.prepare('SELECT case_id AS id FROM task_splits WHERE task_id = ? AND split = ? ORDER BY case_id').all(taskId, split) as { id: number }[]).map(
      (r) => r.id,
    );
  }

  /** Assigned cases per split. */
  counts(taskId: number): Record<Split, number> {
    const out: Record<Split, number> = { train: 0, val: 0, test: 0 };
    for (const r of this.db.prepare('SELECT split, count(*) AS n FROM task_splits WHERE task_id = ? GROUP BY split').all(taskId) as { split: Split; n: number }[]) {
      out[r.split] = r.n;
    }
    return out;
  }

  /**
   * Assigns a newly labelled case by the stratified rule (nothing happens when it has a split already):
   * within its stratum, the k-th case goes to test/validation whenever that brings the split's count up
   * to round(k × fraction), so each class holds its share from the first few labels on.
   */
  assignOnLabel(taskId: number, caseId: number, stratum: string, fractions: SplitFractions): Split {
    const existing = this.get(taskId, caseId);
    if (existing) {
      // A case the user placed before labelling joins its class's stratum now, so the shares count it.
      if (existing.stratum === null) this.db.prepare('UPDATE task_splits SET stratum = ? WHERE task_id = ? AND case_id = ?').run(stratum, taskId, caseId);
      return existing.split;
    }
    const counts = { train: 0, val: 0, test: 0 } as Record<Split, number>;
    for (const r of this.db
      .prepare('SELECT split, count(*) AS n FROM task_splits WHERE task_id = ? AND stratum = ? GROUP BY split')
      .all(taskId, stratum) as { split: Split; n: number }[]) {
      counts[r.split] = r.n;
    }
    const k = counts.train + counts.val + counts.test + 1;
    const split: Split =
      counts.test < Math.round(k * fractions.test) ? 'test' : counts.val < Math.round(k * fractions.val) ? 'val' : 'train';
    this.insert(taskId, caseId, split, 'auto', stratum);
    return split;
  }

  /** The user's own assignment of cases (it replaces an automatic one). */
  assign(taskId: number, caseIds: number[], split: Split): void {
    if (!(SPLITS as readonly string[]).includes(split)) throw new WorkspaceError('invalid', `Unknown split '${String(split)}' (expected ${SPLITS.join(', ')})`);
    const known = this.db.prepare('SELECT 1 FROM cases WHERE id = ?');
    this.db.transaction(() => {
      for (const id of caseIds) {
        if (!known.get(id)) throw new WorkspaceError('not-found', `No case with id ${id}`);
        const previous = this.get(taskId, id);
        this.db.prepare('DELETE FROM task_splits WHERE task_id = ? AND case_id = ?').run(taskId, id);
        this.insert(taskId, id, split, 'user', previous?.stratum ?? null);
      }
    })();
  }

  /**
   * Holds cases out for testing (a worklist selection): they become the user's test cases and leave
   * the task's suggestions at once, since a test case is never offered for labelling-to-train.
   */
  holdOut(taskId: number, caseIds: number[]): void {
    this.db.transaction(() => {
      this.assign(taskId, caseIds, 'test');
      const drop = this.db.prepare('DELETE FROM suggestions WHERE task_id = ? AND case_id = ?');
      for (const id of caseIds) drop.run(taskId, id);
    })();
  }

  /**
   * Returns held-out cases to the pool: the user's assignment is removed; a labelled case is placed
   * again by the stratified rule, in train or validation only (the user just took it out of test).
   * Cases that are not in the test split are left as they are. Returns the cases that moved.
   */
  release(taskId: number, caseIds: number[], fractions: SplitFractions): number[] {
    const moved: number[] = [];
    const labelled = this.db.prepare('SELECT 1 FROM current_labels WHERE task_id = ? AND case_id = ?');
    this.db.transaction(() => {
      for (const id of caseIds) {
        const previous = this.get(taskId, id);
        if (previous?.split !== 'test') continue;
        this.db.prepare('DELETE FROM task_splits WHERE task_id = ? AND case_id = ?').run(taskId, id);
        if (previous.stratum !== null && labelled.get(taskId, id)) this.assignOnLabel(taskId, id, previous.stratum, { val: fractions.val, test: 0 });
        moved.push(id);
      }
    })();
    return moved;
  }

  private insert(taskId: number, caseId: number, split: Split, source: SplitSource, stratum: string | null): void {
    this.db
      .prepare('INSERT INTO task_splits (task_id, case_id, split, source, stratum, assigned_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(taskId, caseId, split, source, stratum, new Date().toISOString());
  }
}
