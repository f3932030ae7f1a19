/**
 * Learning-curve forecast: fits the inverse power law y = a − b·n^(−c) to (labels, validation metric)
 * points and forecasts what the next labels are worth. For each c on a grid, (a, b) is a bounded linear
 * least-squares problem in x = n^(−c) (b ≥ 0: more labels never hurt in expectation; a ≤ `ceiling`,
 * e.g. 1 for AUC or kappa); the c with the smallest squared error wins. The interval is a residual
 * bootstrap: refits on the fitted values plus resampled residuals (inflated by √(m/(m−3)) for the three
 * fitted parameters), percentiles of the forecasts.
 */
import { seededRandom } from '../util/prng';

export class LearningCurveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LearningCurveError';
  }
}

export interface CurvePoint {
  labels: number;
  value: number;
}

export interface PowerLawFit {
  a: number;
  b: number;
  c: number;
  /** Root-mean-square residual over the points. */
  rmse: number;
  points: number;
}

export interface CurveOptions {
  /** Upper bound on the asymptote a (default +∞; 1 for AUC, accuracy or kappa). */
  ceiling?: number;
  /** Exponents tried (default 0.02, 0.04, …, 2). */
  exponents?: readonly number[];
}

export interface GainForecast {
  /** Extra labels beyond the current count. */
  extra: number;
  /** Expected metric at current + extra labels, and the gain over the fitted value now. */
  value: number;
  gain: number;
  /** Bootstrap interval of the gain (default 90 %). */
  low: number;
  high: number;
}

export interface CurveForecast {
  fit: PowerLawFit;
  /** Labels the forecast starts from (the largest observed). */
  labels: number;
  forecasts: GainForecast[];
  level: number;
}

const DEFAULT_EXPONENTS = Array.from({ length: 100 }, (_, i) => (i + 1) * 0.02);

export const powerLaw = (fit: Pick<PowerLawFit, 'a' | 'b' | 'c'>, labels: number): number => fit.a - fit.b * labels ** -fit.c;

/** Least-squares inverse power law through the points (at least 3, with at least 2 distinct label counts). */
export function fitPowerLaw(points: readonly CurvePoint[], options: CurveOptions = {}): PowerLawFit {
  if (points.length < 3) throw new LearningCurveError(`need at least 3 points to fit a − b·n^(−c), got ${points.length}`);
  for (const p of points) {
    if (!(p.labels > 0) || !Number.isFinite(p.labels) || !Number.isFinite(p.value)) {
      throw new LearningCurveError(`point (${p.labels}, ${p.value}): labels must be > 0 and both finite`);
    }
  }
  if (new Set(points.map((p) => p.labels)).size < 2) throw new LearningCurveError('all points have the same label count');
  const ceiling = options.ceiling ?? Infinity;
  let best: PowerLawFit | undefined;
  let bestSse = Infinity;
  for (const c of options.exponents ?? DEFAULT_EXPONENTS) {
    const { a, b, sse } = boundedLine(points, c, ceiling);
    if (sse < bestSse - 1e-15) {
      bestSse = sse;
      best = { a, b, c, rmse: Math.sqrt(sse / points.length), points: points.length };
    }
  }
  return best!;
}

/** y = a − b·x with x = n^(−c), b ≥ 0 and a ≤ ceiling, by least squares (the active bound checked in turn). */
function boundedLine(points: readonly CurvePoint[], c: number, ceiling: number): { a: number; b: number; sse: number } {
  const m = points.length;
  const xs = points.map((p) => p.labels ** -c);
  const ys = points.map((p) => p.value);
  const mx = xs.reduce((s, v) => s + v, 0) / m;
  const my = ys.reduce((s, v) => s + v, 0) / m;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < m; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  let b = sxx > 0 ? -sxy / sxx : 0;
  let a = my + b * mx;
  if (b < 0) {
    b = 0;
    a = my;
  }
  if (a > ceiling) {
    // a fixed at the ceiling: b minimises Σ (ceiling − b·x − y)², clipped at 0.
    a = ceiling;
    let num = 0;
    let den = 0;
    for (let i = 0; i < m; i++) {
      num += (a - ys[i]) * xs[i];
      den += xs[i] * xs[i];
    }
    b = Math.max(0, den > 0 ? num / den : 0);
  }
  let sse = 0;
  for (let i = 0; i < m; i++) sse += (ys[i] - (a - b * xs[i])) ** 2;
  return { a, b, sse };
}

/**
 * Expected gain in the metric from `extras` more labels (default 50, 100, 500) beyond the largest
 * observed label count, with a residual-bootstrap interval (`level`, default 0.9; `resamples`, default 500).
 */
export function forecastGain(
  points: readonly CurvePoint[],
  { extras = [50, 100, 500], level = 0.9, resamples = 500, seed = 0, ...options }: CurveOptions & { extras?: readonly number[]; level?: number; resamples?: number; seed?: number | string } = {},
): CurveForecast {
  const fit = fitPowerLaw(points, options);
  const labels = Math.max(...points.map((p) => p.labels));
  const fitted = points.map((p) => powerLaw(fit, p.labels));
  const inflate = points.length > 3 ? Math.sqrt(points.length / (points.length - 3)) : 1;
  const residuals = points.map((p, i) => (p.value - fitted[i]) * inflate);
  const random = seededRandom(`learning-curve:${seed}`);
  const gains: number[][] = extras.map(() => []);
  for (let r = 0; r < resamples; r++) {
    const resampled = points.map((p, i) => ({ labels: p.labels, value: fitted[i] + residuals[Math.floor(random() * residuals.length)] }));
    const f = fitPowerLaw(resampled, options);
    extras.forEach((extra, j) => gains[j].push(powerLaw(f, labels + extra) - powerLaw(f, labels)));
  }
  const tail = (1 - level) / 2;
  const forecasts = extras.map((extra, j) => {
    const sorted = gains[j].sort((x, y) => x - y);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
    const value = powerLaw(fit, labels + extra);
    return { extra, value, gain: value - powerLaw(fit, labels), low: at(tail), high: at(1 - tail) };
  });
  return { fit, labels, forecasts, level };
}
