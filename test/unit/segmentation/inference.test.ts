import { describe, expect, it } from 'vitest';
import { argmaxLabels, foregroundEntropy, meanForegroundDice, sampleTiles, type MaskedImage } from '../../../core/segmentation/inference';

describe('segmentation inference helpers', () => {
  it('mean foreground Dice counts only the classes present, and 1 when nothing is present anywhere', () => {
    const ref = Uint8Array.from([0, 1, 1, 0, 2, 2]);
    expect(meanForegroundDice(ref, ref, 3)).toBe(1);
    // Class 1 perfect, class 2 half found (Dice 2·1/(1+2) = 2/3).
    expect(meanForegroundDice(Uint8Array.from([0, 1, 1, 0, 2, 0]), ref, 3)).toBeCloseTo((1 + 2 / 3) / 2, 10);
    expect(meanForegroundDice(new Uint8Array(6), new Uint8Array(6), 3)).toBe(1);
    expect(meanForegroundDice(new Uint8Array(6), ref, 3)).toBe(0);
  });

  it('argmax picks the most probable class per pixel', () => {
    expect(Array.from(argmaxLabels(Float32Array.from([0.9, 0.1, 0.2, 0.8]), 2))).toEqual([0, 1]);
  });

  it('entropy is taken over the predicted foreground and its border only', () => {
    // 1×5 image, two classes; pixel 0 predicted foreground (border 1 reaches pixel 1), pixels 3–4 far away and uncertain.
    const probs = Float32Array.from([0.2, 0.8, 0.5, 0.5, 0.99, 0.01, 0.5, 0.5, 0.5, 0.5]);
    const labels = argmaxLabels(probs, 2);
    const h = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
    expect(foregroundEntropy(probs, labels, 5, 1, 2, 1)).toBeCloseTo((h(0.8) + h(0.5)) / 2, 6);
    expect(foregroundEntropy(probs, new Uint8Array(5), 5, 1, 2, 1)).toBe(0);
  });

  it('draws every other training tile around a labelled pixel, inside the image', () => {
    const labels = new Uint8Array(100 * 100);
    labels[50 * 100 + 70] = 1;
    const im: MaskedImage = { width: 100, height: 100, rgb: new Uint8Array(100 * 100 * 3), labels };
    let s = 0;
    const next = () => ((s = (s * 9301 + 49297) % 233280) / 233280);
    const tiles = sampleTiles([im], 10, 32, next);
    for (const [i, t] of tiles.entries()) {
      expect(t.x0 >= 0 && t.y0 >= 0 && t.x0 <= 68 && t.y0 <= 68).toBe(true);
      if (i % 2 === 0) expect(70 >= t.x0 && 70 < t.x0 + 32 && 50 >= t.y0 && 50 < t.y0 + 32).toBe(true);
    }
  });
});
