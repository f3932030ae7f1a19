import { describe, expect, it } from 'vitest';
import { EarlyStopping } from '../../../core/train/early-stopping';

/** Feeds (metric, loss) epochs and returns the epoch it stops after (or null) and the best epoch. */
function run(patience: number, minEpochs: number, epochs: [number, number | undefined][]): { stop: number | null; best: number } {
  const s = new EarlyStopping(patience, minEpochs);
  let best = 0;
  for (let i = 0; i < epochs.length; i++) {
    const v = s.update(...epochs[i]);
    if (v.best) best = i + 1;
    if (v.stop) return { stop: i + 1, best };
  }
  return { stop: null, best };
}

describe('early stopping', () => {
  it('does not stop on a chance peak of the metric while the validation loss still falls (the seed-2 DVPT run)', () => {
    // Val kappa and loss of RetinaMNIST DVPT, seed 2, epochs 1–9: kappa peaks at epoch 4, the loss falls to epoch 9.
    const epochs: [number, number][] = [
      [0.106, 1.641], [0.289, 1.549], [0.287, 1.568], [0.385, 1.441], [0.277, 1.569], [0.206, 1.391], [0.274, 1.492], [0.379, 1.419], [0.354, 1.365],
    ];
    expect(run(5, 7, epochs)).toEqual({ stop: null, best: 4 });
  });

  it('stops once neither has improved for `patience` epochs, keeping the best metric', () => {
    const epochs: [number, number][] = [[0.1, 1.6], [0.4, 1.5], [0.3, 1.4], [0.35, 1.45], [0.3, 1.41], [0.2, 1.5]];
    // Epoch 3 improved the loss; epochs 4–6 improved nothing: with patience 3 it stops after epoch 6.
    expect(run(3, 0, epochs)).toEqual({ stop: 6, best: 2 });
    expect(run(4, 0, epochs)).toEqual({ stop: null, best: 2 });
  });

  it('does not count a loss that falls by less than a relative 1e-4 as progress', () => {
    const crawling: [number, number][] = [[0.5, 1.0], [0.5, 0.99995], [0.5, 0.9999], [0.5, 0.9998]];
    // Each epoch gains only 5e-5 (relative) on the best loss so far: no progress, so patience 2 ends it after epoch 3.
    expect(run(2, 0, crawling)).toEqual({ stop: 3, best: 1 });
  });

  it('waits for minEpochs, never stops with patience 0, and uses the metric alone without validation cases', () => {
    const flat: [number, number][] = Array.from({ length: 6 }, () => [0.5, 1.0]);
    expect(run(1, 4, flat)).toEqual({ stop: 4, best: 1 });
    expect(run(0, 0, flat)).toEqual({ stop: null, best: 1 });
    expect(run(2, 0, [[-1.0, undefined], [-0.9, undefined], [-0.95, undefined], [-0.92, undefined]])).toEqual({ stop: 4, best: 2 });
  });
});
