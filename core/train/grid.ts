/**
 * The small settings grid a training run may try on the validation split (issue: "adapters are cheap,
 * so a run may try learning rate × class weighting within a stated budget"). Pure: which settings to
 * try, in what order, and which one to keep; training-run.ts runs them.
 */
import { GRID_LR_FACTORS, type ClassWeighting } from '../vocabulary';

export interface GridSetting {
  lr: number;
  classWeighting: ClassWeighting;
}

export interface GridTrial extends GridSetting {
  /** Validation selection metric of the epoch this setting kept; null when it has none (NaN, no validation case). */
  selection: number | null;
  bestEpoch: number;
  epochsRun: number;
  seconds: number;
}

export interface GridReport {
  metric: string;
  trials: GridTrial[];
  /** Settings not tried because the budget was spent. */
  skipped: GridSetting[];
  /** Index into `trials` of the setting kept. */
  chosen: number;
  budgetSeconds: number;
  seconds: number;
}

/**
 * The settings to try, the job's own first (it is what runs when the budget allows nothing else).
 * Class weighting: the job's and its opposite (none ↔ inverse; effective pairs with none). The linear
 * probe has no learning rate (it is fitted by L-BFGS) and reads inverse and effective alike as
 * balanced, so it tries only the two weightings.
 */
export function gridSettings(job: GridSetting, options: { probe: boolean }): GridSetting[] {
  const other: ClassWeighting = job.classWeighting === 'none' ? 'inverse' : 'none';
  const weightings: ClassWeighting[] = [job.classWeighting, other];
  const lrs = options.probe ? [job.lr] : GRID_LR_FACTORS.map((f) => job.lr * f);
  const out: GridSetting[] = [];
  for (const classWeighting of weightings) for (const lr of lrs) out.push({ lr, classWeighting });
  return out;
}

/**
 * Whether another setting fits the budget: the first always runs; a further one only when the time so
 * far plus the slowest trial yet stays within it (a trial that would overrun is not started).
 */
export function fitsBudget(trials: readonly Pick<GridTrial, 'seconds'>[], elapsedSeconds: number, budgetSeconds: number): boolean {
  if (trials.length === 0) return true;
  const slowest = Math.max(...trials.map((t) => t.seconds));
  return elapsedSeconds + slowest <= budgetSeconds;
}

/** The trial with the best validation selection metric; ties and unscored trials go to the earlier one (the job's own first). */
export function chooseTrial(trials: readonly Pick<GridTrial, 'selection'>[]): number {
  let best = 0;
  for (let i = 1; i < trials.length; i++) {
    const s = trials[i].selection;
    const b = trials[best].selection;
    if (s !== null && (b === null || s > b + 1e-12)) best = i;
  }
  return best;
}

/** "grid: 6 settings in 84 s (budget 900 s); kept lr 3e-3, class weighting none: val kappaQuadratic 0.412 (the job's own 0.380)". */
export function describeGrid(report: GridReport): string {
  const kept = report.trials[report.chosen];
  const own = report.trials[0];
  const value = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
  const skipped = report.skipped.length ? `, ${report.skipped.length} skipped for the budget` : '';
  const comparison = report.chosen === 0 ? 'the job’s own settings' : `lr ${kept.lr.toExponential(1)}, class weighting ${kept.classWeighting}`;
  return (
    `grid: ${report.trials.length} setting${report.trials.length === 1 ? '' : 's'} tried in ${Math.round(report.seconds)} s (budget ${report.budgetSeconds} s${skipped}); ` +
    `kept ${comparison}: val ${report.metric} ${value(kept.selection)}${report.chosen === 0 ? '' : ` (the job’s own ${value(own.selection)})`}`
  );
}
