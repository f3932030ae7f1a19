/**
 * When to stop labelling: the task's versions give (labels, validation selection metric) points; an
 * inverse power law fitted to them (learning-curve.ts) forecasts the gain from the next 50, 100 and
 * 500 labels, with a bootstrap interval. The Training screen, `medtune versions` and the API show it.
 * Versions are scored on the validation set of their day, which grows with the labels; the interval
 * is wide while there are few versions, and the forecast is withheld until there are three.
 */
import type { Workspace } from '../store';
import { forecastGain, LearningCurveError, type CurveForecast, type CurvePoint } from './learning-curve';

export const FORECAST_EXTRAS = [50, 100, 500] as const;

export interface VersionCurve {
  /** The selection metric the points are in (the newest version's); null before any version has one. */
  metric: string | null;
  points: (CurvePoint & { versionId: number })[];
  forecast: CurveForecast | null;
  /** Why there is no forecast (too few versions, one label count only, a fit that failed). */
  reason?: string;
}

interface VersionMetrics {
  selection?: { name?: string; value?: number | null };
}

export function versionCurve(ws: Workspace, taskId: number): VersionCurve {
  const versions = ws.versions.list(taskId);
  const scored = versions
    .map((v) => ({ v, selection: (v.metrics as VersionMetrics).selection, labels: (v.labelSnapshot as { labelCount?: number }).labelCount }))
    .filter((x) => x.selection?.name && typeof x.selection.value === 'number' && Number.isFinite(x.selection.value) && (x.labels ?? 0) > 0);
  const newest = [...scored].sort((a, b) => b.v.id - a.v.id)[0];
  const metric = newest?.selection?.name ?? null;
  const points = scored
    .filter((x) => x.selection!.name === metric)
    .map((x) => ({ versionId: x.v.id, labels: x.labels!, value: x.selection!.value! }))
    .sort((a, b) => a.labels - b.labels || a.versionId - b.versionId);
  const distinct = new Set(points.map((p) => p.labels)).size;
  if (points.length < 3 || distinct < 2) {
    const reason = `a forecast needs 3 versions trained on at least 2 label counts (${points.length} version${points.length === 1 ? '' : 's'}, ${distinct} label count${distinct === 1 ? '' : 's'} so far)`;
    return { metric, points, forecast: null, reason };
  }
  try {
    // Every selection metric (kappa, AUC, mAP, accuracy) is at most 1.
    return { metric, points, forecast: forecastGain(points, { extras: FORECAST_EXTRAS, ceiling: 1, seed: `task-${taskId}` }) };
  } catch (err) {
    if (err instanceof LearningCurveError) return { metric, points, forecast: null, reason: err.message };
    throw err;
  }
}

/** One line per horizon, e.g. "next 50 labels: +0.021 (90 % interval −0.005 to +0.048), expected 0.734". */
export function describeForecast(curve: VersionCurve): string[] {
  if (!curve.forecast) return [`learning curve: ${curve.reason ?? 'no forecast'}`];
  const { forecast, metric } = curve;
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
  return [
    `learning curve of ${metric} over ${curve.points.length} versions (${forecast.labels} labels now; ${metric} ≈ a − b·n^(−c), c = ${forecast.fit.c.toFixed(2)})`,
    ...forecast.forecasts.map(
      (f) => `next ${f.extra} labels: ${signed(f.gain)} (${Math.round(forecast.level * 100)} % interval ${signed(f.low)} to ${signed(f.high)}), expected ${f.value.toFixed(3)}`,
    ),
  ];
}
