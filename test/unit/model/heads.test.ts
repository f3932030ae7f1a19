import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/model/backend';
import { taskLoss } from '../../../core/model/heads';

const logitRows = [
  [2, -1, 0.5],
  [0.1, 0.2, 0.3],
  [-3, 1, 4],
  [1, 1, -2],
];
const ids = [0, 2, 1, 0];

/** −log softmax(row)[y], in double precision. */
const nll = (row: number[], y: number) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[y];

const lossOf = (weights?: number[]) =>
  tf.tidy(() => taskLoss('multiclass', tf.tensor2d(logitRows), tf.tensor1d(ids, 'int32'), weights ? tf.tensor1d(weights) : undefined).dataSync()[0]);

describe('taskLoss: the one training loss', () => {
  beforeAll(async () => {
    await initBackend({ force: 'cpu' });
  });

  it('is the mean cross-entropy without class weights', () => {
    const expected = ids.reduce((s, y, i) => s + nll(logitRows[i], y), 0) / ids.length;
    expect(lossOf()).toBeCloseTo(expected, 5);
  });

  it('is the weighted mean Σ w_y·nll / Σ w_y with class weights (PyTorch CrossEntropyLoss(weight=…))', () => {
    const w = [0.5, 2, 3];
    const expected = ids.reduce((s, y, i) => s + w[y] * nll(logitRows[i], y), 0) / ids.reduce((s, y) => s + w[y], 0);
    expect(lossOf(w)).toBeCloseTo(expected, 5);
    expect(lossOf(w)).not.toBeCloseTo(lossOf(), 3);
    // Equal weights give the plain mean.
    expect(lossOf([4, 4, 4])).toBeCloseTo(lossOf(), 6);
  });

  it('refuses class weights of the wrong length', () => {
    expect(() => lossOf([1, 2])).toThrow(/class weights must be \[3\], got \[2\]/);
  });

  it('multi-label: BCE over batch × classes, class weights not applied', () => {
    const targets = [[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]];
    const bce = (x: number, z: number) => Math.max(x, 0) - x * z + Math.log1p(Math.exp(-Math.abs(x)));
    const expected = logitRows.flatMap((row, i) => row.map((x, c) => bce(x, targets[i][c]))).reduce((a, b) => a + b, 0) / 12;
    const loss = (weights?: number[]) =>
      tf.tidy(() => taskLoss('multilabel', tf.tensor2d(logitRows), tf.tensor2d(targets), weights ? tf.tensor1d(weights) : undefined).dataSync()[0]);
    expect(loss()).toBeCloseTo(expected, 5);
    expect(loss([1, 5, 9])).toBeCloseTo(expected, 5);
  });
});
