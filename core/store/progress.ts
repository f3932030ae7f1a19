import { taskCaseCondition } from './scope';
import { readingSettings } from './tasks';
import { databaseOf, type Workspace } from './workspace';

export interface LabelProgress {
  taskId: number;
  /** The task's cases, counted as its worklist lists them: in scope, one per series or study unit, quarantine left out. */
  total: number;
  labelled: number;
  /** Current labels by the reader who gave them, most first; a task read k > 1 times: each reader's first reads. */
  byReader: { author: string; labelled: number }[];
}

/** How far the labelling of a task has come, overall and per reader; counted in SQL, never by loading cases. */
export function labelProgress(ws: Workspace, taskId: number): LabelProgress {
  const task = ws.tasks.get(taskId);
  const db = databaseOf(ws);
  // The same selection as the worklist's 'all' filter (worklist.ts), so the header and the list agree.
  const unit = taskCaseCondition(task.settings.scope, task.settings.caseUnit);
  const params = { ...unit.params, task: taskId };
  const taskCases = `c.id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL) AND ${unit.where}`;
  const { total } = db.prepare(`SELECT count(*) AS total FROM cases c WHERE ${taskCases}`).get(params) as { total: number };
  const byReader = db
    .prepare(
      `SELECT cl.author AS author, count(*) AS labelled FROM current_labels cl JOIN cases c ON c.id = cl.case_id
       WHERE cl.task_id = @task AND ${taskCases} GROUP BY cl.author ORDER BY labelled DESC, author`,
    )
    .all(params) as { author: string; labelled: number }[];
  const labelled = byReader.reduce((n, r) => n + r.labelled, 0);
  if (readingSettings(task).readsPerCase <= 1) return { taskId, total, labelled, byReader };
  // Read by several readers: the labels are the consensus; what each reader has done is their reads.
  const reads = db
    .prepare(
      `SELECT re.reader AS author, count(*) AS labelled FROM read_events re JOIN cases c ON c.id = re.case_id
       WHERE re.task_id = @task AND re.kind = 'first' AND ${taskCases} GROUP BY re.reader ORDER BY labelled DESC, author`,
    )
    .all(params) as { author: string; labelled: number }[];
  return { taskId, total, labelled, byReader: reads };
}
