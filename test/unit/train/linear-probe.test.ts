import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitLinearProbe, LinearProbeError, minimiseLbfgs, predictProbabilities, type FeatureSet } from '../../../core/train/linear-probe';
import { readMedMnist, type MedMnistSplit } from '../../../core/train/medmnist';
import { MEDMNIST_DIR } from '../../helpers/paths';

// Expected numbers: scikit-learn 1.2.1 LogisticRegression(lbfgs) on StandardScaler features, written by
// `/usr/bin/python3 test/unit/train/reference/linear_probe_reference.py` (same pooled features as below).
interface Reference {
  cases: { file: string; kind: 'ordinal' | 'multiclass'; C: number; classWeighting: 'none' | 'balanced'; accuracy: number; probabilities: number[] }[];
  grids: { file: string; kind: 'ordinal' | 'multiclass'; classWeighting: 'balanced'; grid: number[]; scores: number[]; C: number }[];
}
const REFERENCE: Reference = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'reference', 'linear_probe_reference.json'), 'utf8'));

/** 4×4 average pooling, channels last: 28×28×C → 7×7×C features (as the reference script). */
function pooled(split: MedMnistSplit): FeatureSet {
  const { n, height: h, width: w, channels: c } = split;
  const dim = (h / 4) * (w / 4) * c;
  const features = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let by = 0; by < h / 4; by++) {
      for (let bx = 0; bx < w / 4; bx++) {
        for (let k = 0; k < c; k++) {
          let sum = 0;
          for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) sum += split.images[((i * h + by * 4 + y) * w + bx * 4 + x) * c + k];
          features[i * dim + (by * (w / 4) + bx) * c + k] = sum / 16;
        }
      }
    }
  }
  return { features, labels: Int32Array.from({ length: n }, (_, i) => split.labels[i * split.labelsPerCase]) };
}

const cache = new Map<string, Record<'train' | 'val' | 'test', FeatureSet>>();
async function load(file: string) {
  if (!cache.has(file)) {
    const d = await readMedMnist(path.join(MEDMNIST_DIR, file));
    cache.set(file, { train: pooled(d.train), val: pooled(d.val), test: pooled(d.test) });
  }
  return cache.get(file)!;
}

const argmax = (p: Float32Array, classes: number, i: number) => {
  let best = 0;
  for (let c = 1; c < classes; c++) if (p[i * classes + c] > p[i * classes + best]) best = c;
  return best;
};

describe('fitLinearProbe against scikit-learn on MedMNIST pixels', () => {
  for (const ref of REFERENCE.cases) {
    it(`${ref.file}, C = ${ref.C}, class weights ${ref.classWeighting}: same probabilities (±1e-3) and accuracy`, async () => {
      const data = await load(ref.file);
      const classes = ref.file.startsWith('retina') ? 5 : 2;
      const probe = fitLinearProbe(data.train, data.val, { task: ref.kind, numClasses: classes, grid: [ref.C], classWeighting: ref.classWeighting, tolerance: 1e-9 });
      expect(probe.scores[0].converged).toBe(true);
      expect(probe.tensors['head.weight'].shape).toEqual([classes, data.train.features.length / data.train.labels.length]);
      const p = predictProbabilities(probe.tensors, data.test.features);
      let maxDiff = 0;
      for (let k = 0; k < p.length; k++) maxDiff = Math.max(maxDiff, Math.abs(p[k] - ref.probabilities[k]));
      expect(maxDiff).toBeLessThan(1e-3);
      const n = data.test.labels.length;
      let correct = 0;
      for (let i = 0; i < n; i++) if (argmax(p, classes, i) === data.test.labels[i]) correct++;
      expect(correct / n).toBeCloseTo(ref.accuracy, 10);
    }, 60_000);
  }

  for (const ref of REFERENCE.grids) {
    it(`${ref.file}: C chosen on val by the selection metric, as scikit-learn's scores choose it`, async () => {
      const data = await load(ref.file);
      const probe = fitLinearProbe(data.train, data.val, { task: ref.kind, numClasses: ref.file.startsWith('retina') ? 5 : 2, grid: ref.grid, classWeighting: ref.classWeighting, tolerance: 1e-8 });
      expect(probe.metric).toBe(ref.kind === 'ordinal' ? 'kappaQuadratic' : 'macroAuc');
      expect(probe.scores.map((s) => s.C)).toEqual(ref.grid);
      probe.scores.forEach((s, i) => expect(s.value).toBeCloseTo(ref.scores[i], 6));
      expect(probe.C).toBe(ref.C);
    }, 120_000);
  }
});

describe('fitLinearProbe edge cases', () => {
  // Two separable-ish 2-D blobs, three declared classes, class 2 never labelled.
  const train: FeatureSet = {
    features: Float32Array.from([0, 0, 0.2, 0.1, -0.1, 0.3, 3, 3, 3.2, 2.9, 2.8, 3.1]),
    labels: [0, 0, 0, 1, 1, 1],
  };
  it('gives a class absent from training zero weights and a probability near 0', () => {
    const probe = fitLinearProbe(train, { features: new Float32Array(0), labels: [] }, { task: 'multiclass', numClasses: 3 });
    expect(probe.C).toBe(1);
    expect(Array.from(probe.tensors['head.weight'].data.slice(4, 6))).toEqual([0, 0]);
    const p = predictProbabilities(probe.tensors, Float32Array.from([0, 0, 3, 3]));
    expect(p[2]).toBeLessThan(1e-3);
    expect(p[0]).toBeGreaterThan(0.5);
    expect(p[4]).toBeGreaterThan(0.5);
  });

  it('folds the standardisation back: a constant feature and a huge offset do not change the fit', () => {
    const shifted: FeatureSet = { features: train.features.map((v, k) => (k % 2 === 0 ? v * 1000 + 5e4 : v)), labels: train.labels };
    const a = fitLinearProbe(train, { features: new Float32Array(0), labels: [] }, { task: 'multiclass', numClasses: 2 });
    const b = fitLinearProbe(shifted, { features: new Float32Array(0), labels: [] }, { task: 'multiclass', numClasses: 2 });
    const pa = predictProbabilities(a.tensors, Float32Array.from([1, 2]));
    const pb = predictProbabilities(b.tensors, Float32Array.from([1000 + 5e4, 2]));
    expect(pb[1]).toBeCloseTo(pa[1], 3);
  });

  it('names bad input', () => {
    const empty = { features: new Float32Array(0), labels: [] };
    expect(() => fitLinearProbe({ features: train.features, labels: [0, 0, 0, 1, 1, 7] }, empty, { task: 'multiclass', numClasses: 3 })).toThrow(/train: label 5 is 7/);
    expect(() => fitLinearProbe({ features: train.features.slice(0, 5), labels: train.labels }, empty, { task: 'multiclass', numClasses: 2 })).toThrow(LinearProbeError);
    expect(() => fitLinearProbe(train, empty, { task: 'multiclass', numClasses: 2, grid: [] })).not.toThrow(); // no val: C = 1 alone
    expect(() => fitLinearProbe(train, { features: Float32Array.from([0, 0]), labels: [0] }, { task: 'multiclass', numClasses: 2, grid: [-1] })).toThrow(/grid must hold positive/);
    expect(() => fitLinearProbe({ features: Float32Array.from([NaN, 0]), labels: [0] }, empty, { task: 'multiclass', numClasses: 2 })).toThrow(/feature 0 \(row 0\) is NaN/);
  });
});

describe('minimiseLbfgs', () => {
  it('finds the minimum of the Rosenbrock function', () => {
    const r = minimiseLbfgs(
      (x) => ({
        f: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2,
        g: Float64Array.from([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)]),
      }),
      Float64Array.from([-1.2, 1]),
      { tolerance: 1e-10 },
    );
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 6);
    expect(r.x[1]).toBeCloseTo(1, 6);
  });
});
