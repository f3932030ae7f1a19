import * as tf from '@tensorflow/tfjs-core';
import type { Normalization } from '../imaging/model-input';
import type { SegmentationModel } from '../model/segmentation-head';
import { classCounts, dice } from './metrics';
import { cropWindow } from './tiling';

/**
 * A segmentation model on whole images of any size: tiles at the backbone's input size (no resizing, so
 * one-pixel structures stay one pixel), training tiles drawn around the painted structures, per-image
 * Dice, and the uncertainty the active-learning queue ranks predicted masks by.
 */

/** One image with its mask: RGB at full resolution and one class id per pixel (0 = background). */
export interface MaskedImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  labels: Uint8Array;
}

/** RGB tiles (NHWC, 8-bit) → the backbone's normalised input. */
export function normaliseTiles(rgb: Uint8Array, normalization: Normalization): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) {
    const c = i % 3;
    out[i] = (rgb[i] / 255 - normalization.mean[c]) / normalization.std[c];
  }
  return out;
}

/**
 * `count` training tiles of `tile`×`tile` (top-left corners) from random images, half of them centred on a
 * labelled pixel so thin, rare structures (vessels, lesions) are seen often enough, the rest anywhere.
 */
export function sampleTiles(images: MaskedImage[], count: number, tile: number, next: () => number): { image: number; x0: number; y0: number }[] {
  const foreground = images.map((im) => {
    const idx: number[] = [];
    for (let i = 0; i < im.labels.length; i++) if (im.labels[i]) idx.push(i);
    return idx;
  });
  const out: { image: number; x0: number; y0: number }[] = [];
  for (let n = 0; n < count; n++) {
    const k = Math.floor(next() * images.length);
    const im = images[k];
    const fg = foreground[k];
    let cx: number;
    let cy: number;
    if (n % 2 === 0 && fg.length > 0) {
      const i = fg[Math.floor(next() * fg.length)];
      cx = i % im.width;
      cy = Math.floor(i / im.width);
    } else {
      cx = Math.floor(next() * im.width);
      cy = Math.floor(next() * im.height);
    }
    out.push({ image: k, x0: Math.min(Math.max(0, cx - (tile >> 1)), Math.max(0, im.width - tile)), y0: Math.min(Math.max(0, cy - (tile >> 1)), Math.max(0, im.height - tile)) });
  }
  return out;
}

/** Cuts the sampled tiles into an image batch [n, S, S, 3] (normalised) and a label batch [n, S, S]. */
export function tileBatch(images: MaskedImage[], tiles: { image: number; x0: number; y0: number }[], tile: number, normalization: Normalization): { x: Float32Array; y: Int32Array } {
  const rgb = new Uint8Array(tiles.length * tile * tile * 3);
  const labels = new Uint8Array(tiles.length * tile * tile);
  tiles.forEach((t, b) => {
    const im = images[t.image];
    cropWindow(im.rgb, im.width, im.height, 3, t.x0, t.y0, tile, rgb, b * tile * tile * 3);
    cropWindow(im.labels, im.width, im.height, 1, t.x0, t.y0, tile, labels, b * tile * tile);
  });
  return { x: normaliseTiles(rgb, normalization), y: Int32Array.from(labels) };
}

/**
 * Class probabilities of a whole image, [height × width × K], tile by tile. Tiles overlap by half: each keeps
 * only its central half (the tile's edges, where the convolutions see zero padding, are left to its
 * neighbours), so no seams appear at tile borders. Costs about four times as many tiles as a plain grid.
 */
export function predictImage(model: Pick<SegmentationModel, 'head' | 'probabilities'>, im: Pick<MaskedImage, 'width' | 'height' | 'rgb'>, tile: number, normalization: Normalization, batchSize = 32): Float32Array {
  const K = model.head.numClasses;
  const half = tile >> 1;
  const margin = tile >> 2;
  const out = new Float32Array(im.width * im.height * K);
  const starts = (size: number) => {
    const s: number[] = [];
    for (let c = 0; c < size; c += half) s.push(c - margin);
    return s;
  };
  const xs = starts(im.width);
  const ys = starts(im.height);
  const tiles = ys.flatMap((y0) => xs.map((x0) => [x0, y0] as const));
  for (let t0 = 0; t0 < tiles.length; t0 += batchSize) {
    const batch = tiles.slice(t0, t0 + batchSize);
    const rgb = new Uint8Array(batch.length * tile * tile * 3);
    batch.forEach(([x0, y0], i) => cropWindow(im.rgb, im.width, im.height, 3, x0, y0, tile, rgb, i * tile * tile * 3));
    const probs = tf.tidy(() => model.probabilities(tf.tensor4d(normaliseTiles(rgb, normalization), [batch.length, tile, tile, 3])));
    const values = probs.dataSync() as Float32Array;
    probs.dispose();
    batch.forEach(([x0, y0], i) => {
      // The central half×half window: tile pixels [margin, margin + half) in both directions.
      for (let y = margin; y < margin + half; y++) {
        const oy = y0 + y;
        if (oy < 0 || oy >= im.height) continue;
        for (let x = margin; x < margin + half; x++) {
          const ox = x0 + x;
          if (ox < 0 || ox >= im.width) continue;
          const src = ((i * tile + y) * tile + x) * K;
          out.set(values.subarray(src, src + K), (oy * im.width + ox) * K);
        }
      }
    });
  }
  return out;
}

/** The most probable class per pixel. */
export function argmaxLabels(probs: Float32Array, K: number): Uint8Array {
  const out = new Uint8Array(probs.length / K);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs[i * K + k] > probs[i * K + best]) best = k;
    out[i] = best;
  }
  return out;
}

/**
 * Mean Dice over the foreground classes present in the reference or the prediction (1 when neither has any):
 * one number per image, averaged over images for version selection.
 */
export function meanForegroundDice(predicted: Uint8Array, reference: Uint8Array, K: number): number {
  const counts = classCounts(predicted, reference, K);
  const present = counts.slice(1).filter((c) => c.tp + c.fp + c.fn > 0);
  return present.length === 0 ? 1 : present.reduce((s, c) => s + dice(c), 0) / present.length;
}

/**
 * Mean pixel entropy (nats) over the predicted foreground and its border (pixels within `border` of it):
 * where the model is unsure about a structure's extent. 0 when nothing is predicted.
 */
export function foregroundEntropy(probs: Float32Array, labels: Uint8Array, width: number, height: number, K: number, border = 2): number {
  const near = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    if (!labels[i]) continue;
    const x = i % width;
    const y = (i - x) / width;
    for (let dy = -border; dy <= border; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= height) continue;
      for (let dx = -border; dx <= border; dx++) {
        const xx = x + dx;
        if (xx >= 0 && xx < width) near[yy * width + xx] = 1;
      }
    }
  }
  let sum = 0;
  let n = 0;
  for (let i = 0; i < near.length; i++) {
    if (!near[i]) continue;
    let h = 0;
    for (let k = 0; k < K; k++) {
      const p = probs[i * K + k];
      if (p > 0) h -= p * Math.log(p);
    }
    sum += h;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}
