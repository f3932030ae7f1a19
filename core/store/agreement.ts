import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { ReadService } from './reads';
import { TaskService } from './tasks';
import {
  cohenKappa,
  fleissKappa,
  oneVsRest,
  pairwiseAgreement,
  percentAgreement,
  pick,
  withInterval,
  type AgreementStat,
  type BootstrapOptions,
  type KappaWeights,
} from '../util/agreement';

/** Agreement of two raters (two readers, a reader with the model, or a reader with their own repeat) on the cases both rated. */
export interface PairAgreement {
  a: string;
  b: string;
  /** Cases both rated. */
  n: number;
  kappa: AgreementStat;
  percent: AgreementStat;
  /** One-vs-rest per class, in the task's class order (unweighted kappa of "class c or not"). */
  perClass: { className: string; kappa: AgreementStat; percent: AgreementStat }[];
}

export interface AgreementReport {
  taskId: number;
  taskName: string;
  classes: string[];
  /** Quadratic for ordinal tasks, none otherwise. */
  weights: KappaWeights;
  readers: string[];
  /** Reader–reader, every pair. */
  pairs: PairAgreement[];
  /** Over all readers (cases with at least two reads). */
  fleiss: { n: number; kappa: AgreementStat; percent: AgreementStat; perClass: { className: string; kappa: AgreementStat }[] };
  /** The active version against each reader on the cases it predicted and they read; absent without an active version. */
  model?: { versionId: number; pairs: PairAgreement[] };
  /** Each reader's first read against their blind repeat. */
  intra: PairAgreement[];
}

/**
 * Inter- and intra-reader agreement of a classification task read by several readers (first reads
 * only between readers), with the active model beside them. Formulas and intervals: core/util/agreement.ts.
 */
export function agreementReport(db: Database, taskId: number, options: BootstrapOptions = {}): AgreementReport {
  const task = new TaskService(db).get(taskId);
  if (task.kind !== 'multiclass' && task.kind !== 'ordinal') {
    throw new WorkspaceError('unsupported', `Agreement is computed for one-class-per-case tasks; '${task.name}' is ${task.kind} (masks: Dice, not yet)`);
  }
  const classes = task.classes.map((c) => c.name);
  const index = new Map(classes.map((c, i) => [c, i]));
  const weights: KappaWeights = task.kind === 'ordinal' ? 'quadratic' : 'none';
  const first = new Map<string, Map<number, number>>();
  const repeat = new Map<string, Map<number, number>>();
  for (const r of new ReadService(db).allReads(taskId)) {
    const id = typeof r.value === 'string' ? index.get(r.value) : undefined;
    if (id === undefined) continue;
    const into = r.kind === 'first' ? first : repeat;
    if (!into.has(r.reader)) into.set(r.reader, new Map());
    into.get(r.reader)!.set(r.caseId, id);
  }
  const readers = [...first.keys()].sort();
  const pairs: PairAgreement[] = [];
  for (let i = 0; i < readers.length; i++) {
    for (let j = i + 1; j < readers.length; j++) {
      pairs.push(pairAgreement(readers[i], first.get(readers[i])!, readers[j], first.get(readers[j])!, classes, weights, options));
    }
  }

  const byCase = new Map<number, number[]>();
  for (const ratings of first.values()) for (const [caseId, id] of ratings) byCase.set(caseId, [...(byCase.get(caseId) ?? []), id]);
  const multi = [...byCase.values()].filter((r) => r.length >= 2);
  const over = (stat: (rows: number[][]) => number, seed: string) => withInterval(multi.length, (idx) => stat(pick(multi, idx)), { ...options, seed });
  const fleiss = {
    n: multi.length,
    kappa: over((rows) => fleissKappa(rows, classes.length), 'fleiss'),
    percent: over((rows) => pairwiseAgreement(rows), 'fleiss-percent'),
    perClass: classes.map((className, c) => ({
      className,
      kappa: over((rows) => fleissKappa(rows.map((r) => oneVsRest(r, c)), 2), `fleiss-${c}`),
    })),
  };

  const report: AgreementReport = { taskId, taskName: task.name, classes, weights, readers, pairs, fleiss, intra: [] };
  const version = db.prepare(`SELECT id FROM adapter_versions WHERE task_id = ? AND status = 'active'`).get(taskId) as { id: number } | undefined;
  if (version) {
    const predicted = new Map<number, number>();
    for (const p of db.prepare('SELECT case_id, predicted FROM predictions WHERE version_id = ?').all(version.id) as { case_id: number; predicted: string | null }[]) {
      const id = p.predicted === null ? undefined : index.get(p.predicted);
      if (id !== undefined) predicted.set(p.case_id, id);
    }
    const model = `model v${version.id}`;
    report.model = { versionId: version.id, pairs: readers.map((r) => pairAgreement(model, predicted, r, first.get(r)!, classes, weights, options)) };
  }
  for (const reader of readers) {
    const again = repeat.get(reader);
    if (again) report.intra.push(pairAgreement(reader, first.get(reader)!, `${reader} (repeat)`, again, classes, weights, options));
  }
  return report;
}

function pairAgreement(
  a: string,
  ratingsA: Map<number, number>,
  b: string,
  ratingsB: Map<number, number>,
  classes: string[],
  weights: KappaWeights,
  options: BootstrapOptions,
): PairAgreement {
  const both = [...ratingsA.keys()].filter((caseId) => ratingsB.has(caseId)).sort((x, y) => x - y);
  const x = both.map((caseId) => ratingsA.get(caseId)!);
  const y = both.map((caseId) => ratingsB.get(caseId)!);
  const stat = (f: (p: number[], q: number[]) => number, seed: string) =>
    withInterval(both.length, (idx) => f(pick(x, idx), pick(y, idx)), { ...options, seed: `${a}|${b}|${seed}` });
  return {
    a,
    b,
    n: both.length,
    kappa: stat((p, q) => cohenKappa(p, q, classes.length, weights), 'kappa'),
    percent: stat(percentAgreement, 'percent'),
    perClass: classes.map((className, c) => ({
      className,
      kappa: stat((p, q) => cohenKappa(oneVsRest(p, c), oneVsRest(q, c), 2), `kappa-${c}`),
      percent: stat((p, q) => percentAgreement(oneVsRest(p, c), oneVsRest(q, c)), `percent-${c}`),
    })),
  };
}
