import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import { initBackend } from '../../../core/model/backend';
import { argmaxLabels, foregroundEntropy, meanForegroundDice, predictImage, sampleTiles, type MaskedImage } from '../../../core/segmentation/inference';

beforeAll(async () => {
  await initBackend();
});

/** A per-pixel "model" for the stitching geometry: p(class 1) = sigmoid of the pixel's normalised red value. */
const pixelwise = {
  head: { numClasses: 2, channels: 1 },
  probabilities: (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const p = tf.sigmoid(tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 1]));
      return tf.concat([tf.sub(1, p), p], 3) as tf.Tensor4D;
    }),
};

/** A "model" that answers class 1 only in each tile's outer quarter ring, where padding distorts real models. */
function edgeOnly(tile: number) {
  const ring = new Float32Array(tile * tile);
  for (let y = 0; y < tile; y++) for (let x = 0; x < tile; x++) ring[y * tile + x] = Math.min(x, y, tile - 1 - x, tile - 1 - y) < tile / 4 ? 1 : 0;
  return {
    head: { numClasses: 2, channels: 1 },
    probabilities: (x: tf.Tensor4D) =>
      tf.tidy(() => {
        const p = tf.tile(tf.tensor4d(ring, [1, tile, tile, 1]), [x.shape[0], 1, 1, 1]);
        return tf.concat([tf.sub(1, p), p], 3) as tf.Tensor4D;
      }),
  };
}

describe('segmentation inference helpers', () => {
  it('mean foreground Dice counts only the classes present, and 1 when nothing is present anywhere', () => {
    const ref = Uint8Array.from([0, 1, 1, 0, 2, 2]);
    expect(meanForegroundDice(ref, ref, 3)).toBe(1);
    // Class 1 perfect, class 2 half found (Dice 2·1/(1+2) = 2/3).
    expect(meanForegroundDice(Uint8Array.from([0, 1, 1, 0, 2, 0]), ref, 3)).toBeCloseTo((1 + 2 / 3) / 2, 10);
    expect(meanForegroundDice(new Uint8Array(6), new Uint8Array(6), 3)).toBe(1);
    expect(meanForegroundDice(new Uint8Array(6), ref, 3)).toBe(0);
  });

  it('stitches whole-image predictions pixel for pixel, from the tiles’ central halves only', () => {
    const width = 70;
    const height = 45;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256);
    const probs = predictImage(pixelwise, { width, height, rgb }, 16, HALF_NORMALIZATION, 5);
    for (let i = 0; i < width * height; i++) {
      const expected = 1 / (1 + Math.exp(-(rgb[i * 3] / 127.5 - 1)));
      expect(probs[i * 2 + 1], `pixel ${i}`).toBeCloseTo(expected, 5);
    }
    const seams = predictImage(edgeOnly(16), { width, height, rgb }, 16, HALF_NORMALIZATION);
    expect(argmaxLabels(seams, 2).every((v) => v === 0)).toBe(true);
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
