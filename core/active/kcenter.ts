/**
 * k-center greedy core-set selection (Sener & Savarese, ICLR 2018): repeatedly pick the case whose
 * embedding is farthest from its nearest labelled-or-already-picked case. One pass over the
 * candidates per pick, with the nearest-centre distances updated incrementally, so the cost is
 * O(k·m·D) to start from m labelled cases plus O(k·count·D) for the picks (k candidates).
 */
import type { Matrix } from './input';

export interface CorePick {
  /** Row of the embedding matrix. */
  index: number;
  /** Euclidean distance to the nearest labelled or previously picked case when it was picked. */
  distance: number;
  /** True when there was no centre yet and the case was chosen as the most central one. */
  seededAtCentre: boolean;
}

/** Squared Euclidean distance between two rows of flat [·×dim] arrays. */
export function squaredDistance(a: Float32Array, aStart: number, b: Float32Array, bStart: number, dim: number): number {
  // Four independent accumulators: about twice as fast as one in V8 (the adds no longer wait on each other).
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < dim; k += 4) {
    const d0 = a[aStart + k] - b[bStart + k];
    const d1 = a[aStart + k + 1] - b[bStart + k + 1];
    const d2 = a[aStart + k + 2] - b[bStart + k + 2];
    const d3 = a[aStart + k + 3] - b[bStart + k + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; k < dim; k++) {
    const d = a[aStart + k] - b[bStart + k];
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/**
 * Squared distance from each candidate row to its nearest row of `centres` (Infinity with no centres).
 * Callers that keep these between rounds can pass them back as `initialMinSquaredDistances`.
 */
export function nearestCentreSquaredDistances(embeddings: Matrix, candidates: Uint32Array, centres: Matrix | undefined): Float64Array {
  const dim = embeddings.cols;
  const out = new Float64Array(candidates.length).fill(Infinity);
  if (!centres || centres.rows === 0) return out;
  for (let c = 0; c < candidates.length; c++) {
    const start = candidates[c] * dim;
    let best = Infinity;
    for (let r = 0; r < centres.rows; r++) {
      const d = squaredDistance(embeddings.data, start, centres.data, r * dim, dim);
      if (d < best) best = d;
    }
    out[c] = best;
  }
  return out;
}

export interface KCenterOptions {
  /** Rows of `embeddings` allowed to be picked (default: all). */
  candidates?: Uint32Array;
  /** Embeddings of labelled cases: the initial centres. */
  centres?: Matrix;
  /** Precomputed squared distances of each candidate to its nearest labelled case (skips that O(k·m·D) pass). */
  initialMinSquaredDistances?: Float64Array;
}

/** Greedy k-center: `count` picks (fewer when there are fewer candidates); ties go to the lower row. */
export function kCenterGreedy(embeddings: Matrix, count: number, options: KCenterOptions = {}): CorePick[] {
  const dim = embeddings.cols;
  const candidates = options.candidates ?? Uint32Array.from({ length: embeddings.rows }, (_, i) => i);
  const minDist =
    options.initialMinSquaredDistances?.slice() ?? nearestCentreSquaredDistances(embeddings, candidates, options.centres);
  const taken = new Uint8Array(candidates.length);
  const picks: CorePick[] = [];
  const total = Math.min(count, candidates.length);

  while (picks.length < total) {
    let best = -1;
    let seededAtCentre = false;
    if (picks.length === 0 && !minDist.some((d) => d < Infinity)) {
      // No centre at all: start from the candidate nearest the centroid (a typical case, not an outlier).
      best = nearestToCentroid(embeddings, candidates);
      seededAtCentre = true;
    } else {
      let bestDist = -1;
      for (let c = 0; c < candidates.length; c++) {
        if (taken[c]) continue;
        if (minDist[c] > bestDist || (minDist[c] === bestDist && candidates[c] < candidates[best])) {
          bestDist = minDist[c];
          best = c;
        }
      }
    }
    const row = candidates[best];
    picks.push({ index: row, distance: seededAtCentre ? 0 : Math.sqrt(minDist[best]), seededAtCentre });
    taken[best] = 1;
    // Incremental update: only the distance to the new centre can lower each minimum.
    const start = row * dim;
    for (let c = 0; c < candidates.length; c++) {
      if (taken[c]) continue;
      const d = squaredDistance(embeddings.data, candidates[c] * dim, embeddings.data, start, dim);
      if (d < minDist[c]) minDist[c] = d;
    }
  }
  return picks;
}

function nearestToCentroid(embeddings: Matrix, candidates: Uint32Array): number {
  const dim = embeddings.cols;
  const centroid = new Float64Array(dim);
  for (const row of candidates) for (let k = 0; k < dim; k++) centroid[k] += embeddings.data[row * dim + k];
  for (let k = 0; k < dim; k++) centroid[k] /= candidates.length;
  let best = 0;
  let bestDist = Infinity;
  for (let c = 0; c < candidates.length; c++) {
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const d = embeddings.data[candidates[c] * dim + k] - centroid[k];
      s += d * d;
    }
    if (s < bestDist) {
      bestDist = s;
      best = c;
    }
  }
  return best;
}
