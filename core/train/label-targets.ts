/**
 * A task's current labels as training targets (class ids, or 0/1 rows for multi-label), and the per-read
 * targets of a task read by several readers. Shared by training runs and the acquisition's validation influence.
 */
import type { LabelTask, Workspace } from '../store';

/** Current labels of the task as training samples' targets, by case id. */
export function labelTargets(ws: Workspace, task: LabelTask): Map<number, number | number[]> {
  const index = new Map(task.classes.map((c, i) => [c.name, i]));
  const out = new Map<number, number | number[]>();
  for (const l of ws.labels.currentAll(task.id)) {
    if (task.kind === 'multilabel') {
      const names = Array.isArray(l.value) ? (l.value as string[]) : [];
      const row = task.classes.map((c) => (names.includes(c.name) ? 1 : 0));
      out.set(l.caseId, row);
    } else if (typeof l.value === 'string' && index.has(l.value)) {
      out.set(l.caseId, index.get(l.value)!);
    }
  }
  return out;
}

/**
 * A task read by several readers with trainingLabel 'soft': each complete case's class ids, one per read
 * (core/store/reads.ts softReads); training takes one sample per id, which is the cross-entropy against
 * the mean one-hot of the reads. Empty otherwise.
 */
export function softReadTargets(ws: Workspace, task: LabelTask): Map<number, number[]> {
  const index = new Map(task.classes.map((c, i) => [c.name, i]));
  const out = new Map<number, number[]>();
  if (task.kind === 'multilabel') return out;
  for (const [caseId, values] of ws.reads.softReads(task.id)) {
    const ids = values.flatMap((v) => (typeof v === 'string' && index.has(v) ? [index.get(v)!] : []));
    if (ids.length) out.set(caseId, ids);
  }
  return out;
}
