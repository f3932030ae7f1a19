/**
 * Learning-curve forecast: fits the inverse power law y = a − b·n^(−c) to (labels, validation metric)
 * points and forecasts what the next labels are worth. For each c on a grid, (a, b) is a bounded
 * weighted least-squares problem in x = n^(−c) (b ≥ 0: more labels never hurt in expectation; a ≤
 * `ceiling`, e.g. 1 for AUC or kappa); the c with the smallest weighted squared error wins.
 *
 * Each point weighs in proportion to its label count: a model fitted on n cases varies roughly as 1/n,
 * so the noisy first rounds must not bend the curve as much as the later ones. Exponents stop at 1: a
 * parametric head's excess loss falls no faster than 1/n, and steeper fits through five noisy points
 * were the ones that flattened too early (eval:al, docs/active-learning.md "Learning-curve forecast").
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
  /** Root-mean-square residual over the points (weighted as in the fit). */
  rmse: number;
  points: number;
}

export interface CurveOptions {
  /** Upper bound on the asymptote a (default +∞; 1 for AUC, accuracy or kappa). */
  ceiling?: number;
  /** Exponents tried (default 0.02, 0.04, …, 1). */
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

const DEFAULT_EXPONENTS = Array.from({ length: 50 }, (_, i) => (i + 1) * 0.02);

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

/** Weights ∝ label count, scaled to sum to the number of points (so a weighted SSE reads like a plain one). */
function pointWeights(points: readonly CurvePoint[]): number[] {
  const total = points.reduce((s, p) => s + p.labels, 0);
  return points.map((p) => (p.labels * points.length) / total);
}

/** y = a − b·x with x = n^(−c), b ≥ 0 and a ≤ ceiling, by weighted least squares (the active bound checked in turn). */
function boundedLine(points: readonly CurvePoint[], c: number, ceiling: number): { a: number; b: number; sse: number } {
  const m = points.length;
  const ws = pointWeights(points);
  const xs = points.map((p) => p.labels ** -c);
  const ys = points.map((p) => p.value);
  const mx = xs.reduce((s, v, i) => s + ws[i] * v, 0) / m;
  const my = ys.reduce((s, v, i) => s + ws[i] * v, 0) / m;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < m; i++) {
    sxy += ws[i] * (xs[i] - mx) * (ys[i] - my);
    sxx += ws[i] * (xs[i] - mx) ** 2;
  }
  let b = sxx > 0 ? -sxy / sxx : 0;
  let a = my + b * mx;
  if (b < 0) {
    b = 0;
    a = my;
  }
  if (a > ceiling) {
    // a fixed at the ceiling: b minimises Σ w·(ceiling − b·x − y)², clipped at 0.
    a = ceiling;
    let num = 0;
    let den = 0;
    for (let i = 0; i < m; i++) {
      num += ws[i] * (a - ys[i]) * xs[i];
      den += ws[i] * xs[i] * xs[i];
    }
    b = Math.max(0, den > 0 ? num / den : 0);
  }
  let sse = 0;
  for (let i = 0; i < m; i++) sse += ws[i] * (ys[i] - (a - b * xs[i])) ** 2;
  return { a, b, sse };
}

/**
 * Expected gain in the metric from `extras` more labels (default 50, 100, 500) beyond the largest
 * observed label count, with a `level` (default 0.9) prediction interval for the value that will be
 * measured there, minus the fitted value now. Three sources of doubt go in, because from a handful of
 * points the residual bootstrap alone was far too narrow (2–8 of 15 eval:al curves inside its 90 %):
 * - the exponent c: every c whose squared error is within the F-test bound of the best
 *   (SSE(c) ≤ SSE_min·(1 + F₁,ₘ₋₃(level)/(m − 3)), a profile-likelihood confidence set) is kept, and each
 *   of the `resamples` refits draws one of them;
 * - (a, b): refitted at that c on the fitted values plus resampled residuals (inflated by √(m/(m − 3)));
 * - the measurement: a validation metric measured later is as noisy as the ones measured so far, so
 *   each forecast value gets noise σ̂·T, σ̂² = Σ residual²/(m − 3) (unweighted: it also stands for how
 *   far the law itself is off, which does not shrink with n) and T Student-t with m − 3 degrees of
 *   freedom (σ̂ itself comes from few points; resampling 5 residuals had too light tails).
 */
export function forecastGain(
  points: readonly CurvePoint[],
  { extras = [50, 100, 500], level = 0.9, resamples = 500, seed = 0, ...options }: CurveOptions & { extras?: readonly number[]; level?: number; resamples?: number; seed?: number | string } = {},
): CurveForecast {
  const fit = fitPowerLaw(points, options);
  const labels = Math.max(...points.map((p) => p.labels));
  const fitted = points.map((p) => powerLaw(fit, p.labels));
  const m = points.length;
  const inflate = m > 3 ? Math.sqrt(m / (m - 3)) : 1;
  const residuals = points.map((p, i) => (p.value - fitted[i]) * inflate);
  const ceiling = options.ceiling ?? Infinity;
  const exponents = plausibleExponents(points, options.exponents ?? DEFAULT_EXPONENTS, ceiling, level);
  const random = seededRandom(`learning-curve:${seed}`);
  const draw = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const dof = m - 3;
  const sigma = dof > 0 ? Math.sqrt(points.reduce((s, p, i) => s + (p.value - fitted[i]) ** 2, 0) / dof) : 0;
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const measurementNoise = () => {
    if (sigma === 0) return 0;
    let chi2 = 0;
    for (let k = 0; k < dof; k++) chi2 += gaussian() ** 2;
    return (sigma * gaussian()) / Math.sqrt(chi2 / dof);
  };
  const gains: number[][] = extras.map(() => []);
  for (let r = 0; r < resamples; r++) {
    const resampled = points.map((p, i) => ({ labels: p.labels, value: fitted[i] + draw(residuals) }));
    const c = draw(exponents);
    const { a, b } = boundedLine(resampled, c, ceiling);
    const now = powerLaw({ a, b, c }, labels);
    extras.forEach((extra, j) => gains[j].push(powerLaw({ a, b, c }, labels + extra) - now + measurementNoise()));
  }
  const tail = (1 - level) / 2;
  const forecasts = extras.map((extra, j) => {
    const sorted = gains[j].sort((x, y) => x - y);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
    const value = powerLaw(fit, labels + extra);
    const gain = value - powerLaw(fit, labels);
    // The point forecast stays inside its own interval.
    return { extra, value, gain, low: Math.min(at(tail), gain), high: Math.max(at(1 - tail), gain) };
  });
  return { fit, labels, forecasts, level };
}

/** Exponents whose least-squares error is within the F-test bound of the best one (all of them with 3 points). */
function plausibleExponents(points: readonly CurvePoint[], exponents: readonly number[], ceiling: number, level: number): number[] {
  const sse = exponents.map((c) => boundedLine(points, c, ceiling).sse);
  const best = Math.min(...sse);
  const dof = points.length - 3;
  if (dof <= 0) return [...exponents];
  const bound = best * (1 + studentTTwoSided(level, dof) ** 2 / dof) + 1e-15;
  return exponents.filter((_, i) => sse[i] <= bound);
}

/** t such that P(|T| ≤ t) = level for Student's t with `dof` (integer ≥ 1) degrees of freedom; F₁,ν = t². */
export function studentTTwoSided(level: number, dof: number): number {
  let lo = 0;
  let hi = 1;
  while (studentTCentral(hi, dof) < level) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCentral(mid, dof) < level) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(|T| ≤ t) for integer degrees of freedom, by the closed-form series of Abramowitz & Stegun 26.7.3–4. */
function studentTCentral(t: number, dof: number): number {
  const theta = Math.atan(t / Math.sqrt(dof));
  const s = Math.sin(theta);
  const c2 = Math.cos(theta) ** 2;
  if (dof % 2 === 1) {
    if (dof === 1) return (2 / Math.PI) * theta;
    let term = Math.cos(theta);
    let sum = term;
    for (let k = 3; k <= dof - 2; k += 2) {
      term *= (c2 * (k - 1)) / k;
      sum += term;
    }
    return (2 / Math.PI) * (theta + s * sum);
  }
  let term = 1;
  let sum = 1;
  for (let k = 2; k <= dof - 2; k += 2) {
    term *= (c2 * (k - 1)) / k;
    sum += term;
  }
  return s * sum;
}
