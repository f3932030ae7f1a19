import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { ReadService } from './reads';
import { TaskService } from './tasks';
import {
  agreementOf,
  confusion,
  fleissOf,
  kappaOf,
  oneVsRestCounts,
  oneVsRestTable,
  pairwiseAgreementOf,
  ratingCounts,
  withIntervals,
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
  options = { resamples: resampleBudget(readers.length, [...first.values()].reduce((n, m) => Math.max(n, m.size), 0)), ...options };
  const pairs: PairAgreement[] = [];
  for (let i = 0; i < readers.length; i++) {
    for (let j = i + 1; j < readers.length; j++) {
      pairs.push(pairAgreement(readers[i], first.get(readers[i])!, readers[j], first.get(readers[j])!, classes, weights, options));
    }
  }

  const byCase = new Map<number, number[]>();
  for (const ratings of first.values()) for (const [caseId, id] of ratings) byCase.set(caseId, [...(byCase.get(caseId) ?? []), id]);
  // Per-case class counts once; every resample then sums rows (cases with fewer than two reads are left out).
  const counts = ratingCounts([...byCase.values()], classes.length);
  const perClass = classes.map((_, c) => oneVsRestCounts(counts, c));
  const [kappa, percent, ...classKappas] = withIntervals(
    counts.length,
    (idx) => [fleissOf(counts, classes.length, idx), pairwiseAgreementOf(counts, idx), ...perClass.map((pc) => fleissOf(pc, 2, idx))],
    { ...options, seed: 'fleiss' },
  );
  const fleiss = { n: counts.length, kappa, percent, perClass: classes.map((className, c) => ({ className, kappa: classKappas[c] })) };

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

/**
 * Bootstrap resamples for a report: 1,000, fewer (down to 200) when pairs × cases is large, so a
 * workspace of many readers and thousands of cases still answers in seconds (the report runs on the
 * app's thread). Each resample costs one pass over a pair's cases.
 */
function resampleBudget(readers: number, cases: number): number {
  const pairs = (readers * (readers + 1)) / 2 + readers; // reader pairs, model–reader, intra-reader
  return Math.max(200, Math.min(1000, Math.floor(5e7 / Math.max(1, pairs * cases))));
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
  const K = classes.length;
  // One K×K table per resample gives every statistic: overall kappa and agreement, and one vs rest per class.
  const [kappa, percent, ...perClass] = withIntervals(
    both.length,
    (idx) => {
      const m = confusion(x, y, K, idx);
      return [kappaOf(m, K, weights), agreementOf(m, K), ...classes.flatMap((_, c) => {
        const t = oneVsRestTable(m, K, c);
        return [kappaOf(t, 2), agreementOf(t, 2)];
      })];
    },
    { ...options, seed: `${a}|${b}` },
  );
  return {
    a,
    b,
    n: both.length,
    kappa,
    percent,
    perClass: classes.map((className, c) => ({ className, kappa: perClass[2 * c], percent: perClass[2 * c + 1] })),
  };
}
