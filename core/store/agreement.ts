import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { ReadService } from './reads';
import { diceCounts, diceOf, masksByAuthor, meanDiceOf, predictedMasks, type FrameMasks } from './mask-reads';
import { readingSettings, TaskService, type LabelTask } from './tasks';
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
  /** Cases both rated (painted, for masks). */
  n: number;
  /** Class tasks. */
  kappa?: AgreementStat;
  percent?: AgreementStat;
  /** Segmentation tasks: mean over cases of the case's Dice averaged over the classes either painted. */
  dice?: AgreementStat;
  /** Per class, in the task's class order: one-vs-rest kappa and agreement (classes, labels of a multilabel task), or Dice (masks). */
  perClass: { className: string; kappa?: AgreementStat; percent?: AgreementStat; dice?: AgreementStat }[];
}

export interface AgreementReport {
  taskId: number;
  taskName: string;
  classes: string[];
  /** Kappa and percent agreement (class tasks) or Dice (segmentation). */
  measure: 'kappa' | 'dice';
  /** Quadratic for ordinal tasks, none otherwise. */
  weights: KappaWeights;
  readers: string[];
  /** Reader–reader, every pair. */
  pairs: PairAgreement[];
  /** Over all readers (cases with at least two reads); absent for masks. */
  fleiss?: { n: number; kappa: AgreementStat; percent: AgreementStat; perClass: { className: string; kappa: AgreementStat }[] };
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
  if (task.kind === 'segmentation') return maskAgreementReport(db, task, options);
  if (task.kind === 'multilabel') return multilabelAgreementReport(db, task, options);
  if (task.kind !== 'multiclass' && task.kind !== 'ordinal') {
    throw new WorkspaceError('unsupported', `Agreement is computed for class, label and mask tasks; '${task.name}' is ${String(task.kind)}`);
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

  const report: AgreementReport = { taskId, taskName: task.name, classes, measure: 'kappa', weights, readers, pairs, fleiss, intra: [] };
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
 * Agreement of a multilabel task, where each label is a yes/no decision per case: per label, Cohen's
 * kappa and percent agreement of "label present or not" (Fleiss' kappa over all readers); overall, the
 * kappa of all case × label decisions pooled, and percent agreement as the share of cases whose label
 * sets are identical (for all readers: the mean share of reader pairs with identical sets). Intervals
 * by bootstrap over cases, as for classes.
 */
function multilabelAgreementReport(db: Database, task: LabelTask, options: BootstrapOptions): AgreementReport {
  const classes = task.classes.map((c) => c.name);
  const L = classes.length;
  const vector = (names: unknown): Uint8Array => {
    const list = Array.isArray(names) ? names : typeof names === 'string' ? [names] : [];
    return Uint8Array.from(classes, (c) => (list.includes(c) ? 1 : 0));
  };
  const first = new Map<string, Map<number, Uint8Array>>();
  const repeat = new Map<string, Map<number, Uint8Array>>();
  for (const r of new ReadService(db).allReads(task.id)) {
    const into = r.kind === 'first' ? first : repeat;
    if (!into.has(r.reader)) into.set(r.reader, new Map());
    into.get(r.reader)!.set(r.caseId, vector(r.value));
  }
  const readers = [...first.keys()].sort();
  options = { resamples: resampleBudget(readers.length, [...first.values()].reduce((n, m) => Math.max(n, m.size), 0)), ...options };
  const pairs: PairAgreement[] = [];
  for (let i = 0; i < readers.length; i++) {
    for (let j = i + 1; j < readers.length; j++) pairs.push(labelPair(readers[i], first.get(readers[i])!, readers[j], first.get(readers[j])!, classes, options));
  }

  // Fleiss: per case (two or more reads) and label, the count of readers saying no / yes; identical sets by set id.
  const byCase = new Map<number, Uint8Array[]>();
  for (const ratings of first.values()) for (const [caseId, v] of ratings) byCase.set(caseId, [...(byCase.get(caseId) ?? []), v]);
  const cases = [...byCase.values()].filter((vs) => vs.length >= 2);
  const perLabel = classes.map((_, l) => cases.map((vs) => Float64Array.of(vs.filter((v) => !v[l]).length, vs.filter((v) => v[l]).length)));
  const setIds = new Map<string, number>();
  const setsOf = cases.map((vs) => vs.map((v) => setIds.get(v.join('')) ?? setIds.set(v.join(''), setIds.size).get(v.join(''))!));
  const setCounts = ratingCounts(setsOf, Math.max(1, setIds.size));
  const [kappa, percent, ...labelKappas] = withIntervals(
    cases.length,
    (idx) => {
      const pooled: Float64Array[] = [];
      for (let k = 0; k < idx.length; k++) for (let l = 0; l < L; l++) pooled.push(perLabel[l][idx[k]]);
      return [fleissOf(pooled, 2), pairwiseAgreementOf(setCounts, idx), ...perLabel.map((rows) => fleissOf(rows, 2, idx))];
    },
    { ...options, seed: 'fleiss' },
  );
  const fleiss = { n: cases.length, kappa, percent, perClass: classes.map((className, l) => ({ className, kappa: labelKappas[l] })) };
  const report: AgreementReport = { taskId: task.id, taskName: task.name, classes, measure: 'kappa', weights: 'none', readers, pairs, fleiss, intra: [] };

  const version = db.prepare(`SELECT id FROM adapter_versions WHERE task_id = ? AND status = 'active'`).get(task.id) as { id: number } | undefined;
  if (version) {
    // The model says a label is present when its probability is at least 0.5 (as its predicted text).
    const predicted = new Map<number, Uint8Array>();
    for (const p of db.prepare('SELECT case_id, probabilities FROM predictions WHERE version_id = ?').all(version.id) as { case_id: number; probabilities: string }[]) {
      const probs = JSON.parse(p.probabilities) as number[];
      if (probs.length === L) predicted.set(p.case_id, Uint8Array.from(probs, (x) => (x >= 0.5 ? 1 : 0)));
    }
    report.model = { versionId: version.id, pairs: readers.map((r) => labelPair(`model v${version.id}`, predicted, r, first.get(r)!, classes, options)) };
  }
  for (const reader of readers) {
    const again = repeat.get(reader);
    if (again) report.intra.push(labelPair(reader, first.get(reader)!, `${reader} (repeat)`, again, classes, options));
  }
  return report;
}

/** Two raters' label sets on the cases both rated: pooled kappa, identical-set share, and per label kappa and agreement. */
function labelPair(a: string, ratingsA: Map<number, Uint8Array>, b: string, ratingsB: Map<number, Uint8Array>, classes: string[], options: BootstrapOptions): PairAgreement {
  const both = [...ratingsA.keys()].filter((caseId) => ratingsB.has(caseId)).sort((x, y) => x - y);
  const x = both.map((caseId) => ratingsA.get(caseId)!);
  const y = both.map((caseId) => ratingsB.get(caseId)!);
  const L = classes.length;
  const [kappa, percent, ...perLabel] = withIntervals(
    both.length,
    (idx) => {
      // One 2×2 table per label (index 0 = absent, 1 = present); the pooled table is their sum.
      const tables = classes.map(() => new Float64Array(4));
      let same = 0;
      for (let k = 0; k < idx.length; k++) {
        const va = x[idx[k]];
        const vb = y[idx[k]];
        let equal = true;
        for (let l = 0; l < L; l++) {
          tables[l][va[l] * 2 + vb[l]]++;
          if (va[l] !== vb[l]) equal = false;
        }
        if (equal) same++;
      }
      const pooled = new Float64Array(4);
      for (const t of tables) for (let c = 0; c < 4; c++) pooled[c] += t[c];
      return [kappaOf(pooled, 2), idx.length ? same / idx.length : NaN, ...tables.flatMap((t) => [kappaOf(t, 2), agreementOf(t, 2)])];
    },
    { ...options, seed: `labels|${a}|${b}` },
  );
  return {
    a,
    b,
    n: both.length,
    kappa,
    percent,
    perClass: classes.map((className, l) => ({ className, kappa: perLabel[2 * l], percent: perLabel[2 * l + 1] })),
  };
}

/**
 * Dice agreement of a segmentation task: each reader's mask of a case (their latest save per frame; on a
 * k-read task only cases they have submitted) against every other reader's on the cases both painted,
 * and the active version's predicted masks against each reader. Per case, Dice per class over the frames
 * either painted; a class neither painted on a case is left out of that case. The statistic is the mean
 * over cases, with a bootstrap interval over cases.
 */
function maskAgreementReport(db: Database, task: LabelTask, options: BootstrapOptions): AgreementReport {
  const classes = task.classes.map((c) => c.name);
  const K = classes.length;
  const multi = readingSettings(task).readsPerCase > 1;
  const submitted = new Set(
    (db.prepare(`SELECT case_id, reader FROM read_events WHERE task_id = ? AND kind = 'first'`).all(task.id) as { case_id: number; reader: string }[]).map(
      (r) => `${r.case_id}|${r.reader}`,
    ),
  );
  // Who painted which case (no pixels); a k-read task compares submitted masks only (drafts change, and
  // consensus masks are no reader's).
  const painted = (db.prepare('SELECT DISTINCT case_id, author FROM mask_events WHERE task_id = ? ORDER BY case_id').all(task.id) as { case_id: number; author: string }[]).filter(
    (r) => !multi || submitted.has(`${r.case_id}|${r.author}`),
  );
  const readers = [...new Set(painted.map((r) => r.author))].sort();
  const version = db.prepare(`SELECT id FROM adapter_versions WHERE task_id = ? AND status = 'active'`).get(task.id) as { id: number } | undefined;
  const model = version ? `model v${version.id}` : undefined;
  // Dice counts per rater pair and case, one case's masks in memory at a time (a DRIVE mask is 330 kB).
  const counts = new Map<string, Float64Array[]>();
  const pairKey = (a: string, b: string) => `${a}\u0000${b}`;
  const byCase = new Map<number, string[]>();
  for (const r of painted) byCase.set(r.case_id, [...(byCase.get(r.case_id) ?? []), r.author]);
  for (const [caseId, authors] of byCase) {
    const masks = masksByAuthor(db, task.id, { caseId, authors });
    const of = (reader: string) => masks.get(reader)?.get(caseId);
    const add = (a: string, b: string, ma: FrameMasks | undefined, mb: FrameMasks | undefined) => {
      if (!ma || !mb) return;
      const key = pairKey(a, b);
      if (!counts.has(key)) counts.set(key, []);
      counts.get(key)!.push(diceCounts(ma, mb, K));
    };
    const sorted = [...authors].sort();
    for (let i = 0; i < sorted.length; i++) for (let j = i + 1; j < sorted.length; j++) add(sorted[i], sorted[j], of(sorted[i]), of(sorted[j]));
    if (version && model) {
      const predicted = predictedMasks(db, version.id, caseId).get(caseId);
      for (const r of sorted) add(model, r, predicted, of(r));
    }
  }
  options = { resamples: resampleBudget(readers.length, byCase.size), ...options };
  const pair = (a: string, b: string) => dicePair(a, b, counts.get(pairKey(a, b)) ?? [], classes, options);
  const pairs: PairAgreement[] = [];
  for (let i = 0; i < readers.length; i++) for (let j = i + 1; j < readers.length; j++) pairs.push(pair(readers[i], readers[j]));
  const report: AgreementReport = { taskId: task.id, taskName: task.name, classes, measure: 'dice', weights: 'none', readers, pairs, intra: [] };
  if (version && model) report.model = { versionId: version.id, pairs: readers.map((r) => pair(model, r)) };
  return report;
}

/** Mean Dice (overall and per class) over the cases of one pair, from their per-case Dice counts. */
function dicePair(a: string, b: string, counts: Float64Array[], classes: string[], options: BootstrapOptions): PairAgreement {
  const K = classes.length;
  const perCase = counts.map((c) => [meanDiceOf(c, K), ...classes.map((_, k) => diceOf(c, k))]);
  const [dice, ...perClass] = withIntervals(
    counts.length,
    (idx) => Array.from({ length: K + 1 }, (_, s) => meanDefined(idx, (i) => perCase[i][s])),
    { ...options, seed: `dice|${a}|${b}` },
  );
  return { a, b, n: counts.length, dice, perClass: classes.map((className, k) => ({ className, dice: perClass[k] })) };
}

/** Mean of the defined values of f over `indices` (NaN when none is defined). */
function meanDefined(indices: ArrayLike<number>, f: (i: number) => number): number {
  let sum = 0;
  let n = 0;
  for (let k = 0; k < indices.length; k++) {
    const v = f(indices[k]);
    if (!Number.isNaN(v)) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
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
