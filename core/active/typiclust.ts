/**
 * TypiClust (Hacohen, Dekel & Weinshall, ICML 2022), a cold-start strategy on frozen embeddings: with
 * few labels the best cases to label are typical ones from regions no label covers yet. Cluster the
 * labelled and unlabeled embeddings together by k-means into |L| + B clusters, then for each pick take
 * the cluster with the fewest labelled-or-picked cases (the largest on ties; clusters under 5 cases only
 * when nothing else is left) and pick its most typical unlabeled case:
 *   typicality(x) = 1 / mean distance from x to its K nearest neighbours in its cluster (K = 20).
 */
import type { Matrix } from './input';
import { squaredDistance } from './kcenter';
import { seededRandom } from '../util/prng';

export interface TypiClustOptions {
  seed?: number | string;
  /** Upper bound on the number of clusters (the paper's code uses 500). */
  maxClusters?: number;
  /** Clusters smaller than this are picked from only after all others (default 5, as the paper). */
  minClusterSize?: number;
  /** Neighbours in the typicality (default 20). */
  neighbours?: number;
  /** Lloyd iterations at most (default 30). */
  iterations?: number;
  /** Cluster members a case's neighbours are searched among at most (default 1000, a seeded sample of bigger clusters). */
  neighbourSample?: number;
}

export interface TypicalPick {
  /** Row of the unlabeled embedding matrix. */
  index: number;
  typicality: number;
  cluster: number;
  clusterSize: number;
  /** Labelled or already picked cases in the cluster when this one was picked. */
  clusterCovered: number;
  clusters: number;
}

/** Typical cases from the least-covered clusters; `count` picks (fewer when fewer unlabeled). */
export function typiclust(unlabeled: Matrix, labeled: Matrix | undefined, count: number, options: TypiClustOptions = {}): TypicalPick[] {
  const n = unlabeled.rows;
  const m = labeled?.rows ?? 0;
  const dim = unlabeled.cols;
  const total = Math.min(count, n);
  if (total === 0) return [];
  // One matrix, labelled rows first.
  const all = new Float32Array((m + n) * dim);
  if (labeled && m > 0) all.set(labeled.data.subarray(0, m * dim));
  all.set(unlabeled.data.subarray(0, n * dim), m * dim);
  const k = Math.max(1, Math.min(options.maxClusters ?? 500, m + total, m + n));
  const assignment = kMeans(all, m + n, dim, k, options.iterations ?? 30, seededRandom(`typiclust:${options.seed ?? 0}`));
  const size = new Int32Array(k);
  const covered = new Int32Array(k);
  for (let i = 0; i < m + n; i++) size[assignment[i]]++;
  for (let i = 0; i < m; i++) covered[assignment[i]]++;
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < m + n; i++) members[assignment[i]].push(i);

  const typicality = new Float64Array(n);
  const random = seededRandom(`typiclust-neighbours:${options.seed ?? 0}`);
  const sampleCap = options.neighbourSample ?? 1000;
  for (let c = 0; c < k; c++) {
    const reference = members[c].length > sampleCap ? sampleOf(members[c], sampleCap, random) : members[c];
    const kn = Math.min(options.neighbours ?? 20, reference.length - 1);
    for (const row of members[c]) {
      if (row < m) continue;
      typicality[row - m] = kn <= 0 ? 0 : 1 / (meanNearest(all, row, reference, kn, dim) + 1e-12);
    }
  }

  const minSize = options.minClusterSize ?? 5;
  const taken = new Uint8Array(n);
  const left = new Int32Array(k);
  for (let c = 0; c < k; c++) left[c] = members[c].filter((r) => r >= m).length;
  const picks: TypicalPick[] = [];
  while (picks.length < total) {
    let best = -1;
    for (const small of [false, true]) {
      for (let c = 0; c < k; c++) {
        if (left[c] === 0 || (!small && size[c] < minSize)) continue;
        if (best < 0 || covered[c] < covered[best] || (covered[c] === covered[best] && size[c] > size[best])) best = c;
      }
      if (best >= 0) break;
    }
    let pick = -1;
    for (const row of members[best]) {
      const u = row - m;
      if (u < 0 || taken[u]) continue;
      if (pick < 0 || typicality[u] > typicality[pick]) pick = u;
    }
    picks.push({ index: pick, typicality: typicality[pick], cluster: best, clusterSize: size[best], clusterCovered: covered[best], clusters: k });
    taken[pick] = 1;
    covered[best]++;
    left[best]--;
  }
  return picks;
}

function sampleOf(rows: number[], count: number, random: () => number): number[] {
  const copy = rows.slice();
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, count);
}

/** Mean Euclidean distance from `row` to its `kn` nearest other rows among `reference`. */
function meanNearest(all: Float32Array, row: number, reference: number[], kn: number, dim: number): number {
  const d: number[] = [];
  for (const other of reference) if (other !== row) d.push(Math.sqrt(squaredDistance(all, row * dim, all, other * dim, dim)));
  d.sort((a, b) => a - b);
  let s = 0;
  for (let j = 0; j < kn; j++) s += d[j];
  return s / kn;
}

/**
 * k-means with k-means++ seeding (Arthur & Vassilvitskii 2007) from a seeded generator, then Lloyd
 * iterations until no assignment changes. An emptied cluster is re-seeded at the case farthest from
 * its centre, so every cluster keeps at least one case.
 */
export function kMeans(data: Float32Array, n: number, dim: number, k: number, iterations: number, random: () => number): Int32Array {
  const centres = new Float32Array(k * dim);
  const nearest = new Float64Array(n).fill(Infinity);
  let first = Math.floor(random() * n);
  for (let c = 0; c < k; c++) {
    centres.set(data.subarray(first * dim, (first + 1) * dim), c * dim);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = squaredDistance(data, i * dim, centres, c * dim, dim);
      if (d < nearest[i]) nearest[i] = d;
      sum += nearest[i];
    }
    // Next centre drawn with probability ∝ squared distance to the nearest centre so far.
    let target = random() * sum;
    first = n - 1;
    for (let i = 0; i < n; i++) {
      target -= nearest[i];
      if (target < 0) {
        first = i;
        break;
      }
    }
  }
  const assignment = new Int32Array(n).fill(-1);
  const distance = new Float64Array(n);
  for (let iter = 0; iter < Math.max(1, iterations); iter++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const d = squaredDistance(data, i * dim, centres, c * dim, dim);
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      if (assignment[i] !== best) changed++;
      assignment[i] = best;
      distance[i] = bestD;
    }
    const sums = new Float64Array(k * dim);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const c = assignment[i];
      counts[c]++;
      for (let d = 0; d < dim; d++) sums[c * dim + d] += data[i * dim + d];
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        let far = 0;
        for (let i = 1; i < n; i++) if (distance[i] > distance[far]) far = i;
        distance[far] = 0;
        centres.set(data.subarray(far * dim, (far + 1) * dim), c * dim);
        changed++;
        continue;
      }
      for (let d = 0; d < dim; d++) centres[c * dim + d] = sums[c * dim + d] / counts[c];
    }
    if (changed === 0) break;
  }
  return assignment;
}
