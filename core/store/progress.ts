import { databaseOf, type Workspace } from './workspace';

export interface LabelProgress {
  taskId: number;
  /** Cases that can be labelled: every case not in quarantine. */
  total: number;
  labelled: number;
  /** Current labels by the reader who gave them, most first. */
  byReader: { author: string; labelled: number }[];
}

/** How far the labelling of a task has come, overall and per reader; counted in SQL, never by loading cases. */
export function labelProgress(ws: Workspace, taskId: number): LabelProgress {
  ws.tasks.get(taskId);
  const db = databaseOf(ws);
  const inScope = 'c.id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL)';
  const { total } = db.prepare(`SELECT count(*) AS total FROM cases c WHERE ${inScope}`).get() as { total: number };
  const byReader = db
    .prepare(
      `SELECT cl.author AS author, count(*) AS labelled FROM current_labels cl JOIN cases c ON c.id = cl.case_id
       WHERE cl.task_id = ? AND ${inScope} GROUP BY cl.author ORDER BY labelled DESC, author`,
    )
    .all(taskId) as { author: string; labelled: number }[];
  return { taskId, total, labelled: byReader.reduce((n, r) => n + r.labelled, 0), byReader };
}
