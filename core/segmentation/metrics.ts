/**
 * Segmentation metrics on label maps (class id per pixel), optionally restricted to a region
 * (e.g. a fundus field of view): Dice and IoU per class, sensitivity/specificity of a binary
 * mask, the pixel AUC of a foreground probability, and a bootstrap CI over images.
 */

/** Pixel counts of one class: true/false positives and negatives. */
export interface ClassCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

function checkSizes(a: ArrayLike<number>, b: ArrayLike<number>, region?: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`prediction has ${a.length} pixels, reference ${b.length}`);
  if (region && region.length !== a.length) throw new Error(`region has ${region.length} pixels, masks ${a.length}`);
}

/** Per-class counts of `predicted` against `reference` over the pixels where region ≠ 0 (all when absent). */
export function classCounts(predicted: ArrayLike<number>, reference: ArrayLike<number>, numClasses: number, region?: ArrayLike<number>): ClassCounts[] {
  checkSizes(predicted, reference, region);
  const out = Array.from({ length: numClasses }, () => ({ tp: 0, fp: 0, fn: 0, tn: 0 }));
  let total = 0;
  const predCount = new Float64Array(numClasses);
  const refCount = new Float64Array(numClasses);
  for (let i = 0; i < predicted.length; i++) {
    if (region && !region[i]) continue;
    const p = predicted[i];
    const r = reference[i];
    if (p >= numClasses || r >= numClasses) throw new Error(`class id ${Math.max(p, r)} at pixel ${i} is not below ${numClasses}`);
    total++;
    predCount[p]++;
    refCount[r]++;
    if (p === r) out[p].tp++;
  }
  for (let k = 0; k < numClasses; k++) {
    out[k].fp = predCount[k] - out[k].tp;
    out[k].fn = refCount[k] - out[k].tp;
    out[k].tn = total - out[k].tp - out[k].fp - out[k].fn;
  }
  return out;
}

/** Dice 2TP / (2TP + FP + FN); 1 when the class is absent from both (nothing to find, nothing found). */
export function dice(c: ClassCounts): number {
  const d = 2 * c.tp + c.fp + c.fn;
  return d === 0 ? 1 : (2 * c.tp) / d;
}

/** IoU (Jaccard) TP / (TP + FP + FN); 1 when the class is absent from both. */
export function iou(c: ClassCounts): number {
  const d = c.tp + c.fp + c.fn;
  return d === 0 ? 1 : c.tp / d;
}

export function sensitivity(c: ClassCounts): number {
  return c.tp + c.fn === 0 ? NaN : c.tp / (c.tp + c.fn);
}

export function specificity(c: ClassCounts): number {
  return c.tn + c.fp === 0 ? NaN : c.tn / (c.tn + c.fp);
}

/**
 * Area under the ROC curve of `scores` for `labels` (1 = positive) inside `region`: the
 * Mann–Whitney statistic with ties counted half, as scikit-learn's roc_auc_score.
 */
export function pixelAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, region?: ArrayLike<number>): number {
  checkSizes(scores, labels, region);
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!region || region[i]) idx.push(i);
  const order = Float64Array.from(idx.map((i) => scores[i]));
  const lab = Uint8Array.from(idx.map((i) => (labels[i] ? 1 : 0)));
  const perm = Uint32Array.from(idx.keys()).sort((a, b) => order[a] - order[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < perm.length; ) {
    let j = i;
    while (j + 1 < perm.length && order[perm[j + 1]] === order[perm[i]]) j++;
    const midRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let t = i; t <= j; t++) if (lab[perm[t]]) {
      pos++;
      rankSum += midRank;
    }
    i = j + 1;
  }
  const neg = perm.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Percentile bootstrap CI of the mean over items (e.g. per-image Dice), resampling items with replacement. */
export function bootstrapMeanCi(values: number[], options: { resamples?: number; level?: number; seed?: number } = {}): { mean: number; low: number; high: number } {
  const { resamples = 2000, level = 0.95, seed = 1 } = options;
  const n = values.length;
  if (n === 0) return { mean: NaN, low: NaN, high: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  let state = seed >>> 0 || 1;
  const next = () => {
    // mulberry32: a seeded draw keeps reported intervals reproducible.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(next() * n)];
    means[r] = s / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))];
  return { mean, low: at((1 - level) / 2), high: at(1 - (1 - level) / 2) };
}

/** One image's prediction: class probabilities or a foreground probability, and its reference. */
export interface ImageResult {
  /** Foreground probability per pixel (binary tasks), for AUC and the 0.5 threshold. */
  foreground: Float32Array;
  reference: Uint8Array;
  /** Pixels that count (field of view); all when absent. */
  region?: Uint8Array;
}

export interface BinarySegmentationReport {
  images: number;
  /** Mean per-image Dice of the foreground with its 95 % bootstrap CI over images. */
  dice: { mean: number; low: number; high: number };
  iou: { mean: number; low: number; high: number };
  sensitivity: number;
  specificity: number;
  accuracy: number;
  /** Pixel AUC pooled over all images' regions. */
  auc: number;
}

/** Binary report at threshold 0.5: Dice/IoU per image (mean, CI), pooled sensitivity/specificity/accuracy/AUC. */
export function binarySegmentationReport(results: ImageResult[], seed = 1): BinarySegmentationReport {
  const dices: number[] = [];
  const ious: number[] = [];
  const pooled = { tp: 0, fp: 0, fn: 0, tn: 0 };
  let total = 0;
  for (const r of results) {
    const predicted = Uint8Array.from(r.foreground, (p) => (p >= 0.5 ? 1 : 0));
    const counts = classCounts(predicted, r.reference, 2, r.region)[1];
    dices.push(dice(counts));
    ious.push(iou(counts));
    for (const k of ['tp', 'fp', 'fn', 'tn'] as const) pooled[k] += counts[k];
    total += counts.tp + counts.fp + counts.fn + counts.tn;
  }
  const scores = new Float32Array(total);
  const labels = new Uint8Array(total);
  let o = 0;
  for (const r of results) {
    for (let i = 0; i < r.foreground.length; i++) {
      if (r.region && !r.region[i]) continue;
      scores[o] = r.foreground[i];
      labels[o++] = r.reference[i];
    }
  }
  return {
    images: results.length,
    dice: bootstrapMeanCi(dices, { seed }),
    iou: bootstrapMeanCi(ious, { seed }),
    sensitivity: sensitivity(pooled),
    specificity: specificity(pooled),
    accuracy: (pooled.tp + pooled.tn) / total,
    auc: pixelAuc(scores, labels),
  };
}
