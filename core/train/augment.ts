/**
 * Training-time augmentation on the cached 8-bit model input (Uint8 [S,S,3]), producing the
 * normalised Float32 [3,S,S] the backbone takes. Crop, flips and rotation are folded into one affine
 * map sampled bilinearly in a single pass, so augmentation costs about as much as normalisation.
 */
import { normalizeToChw, type Normalization } from '../imaging/model-input';
import type { AugmentationName } from '../vocabulary';

export interface AugmentationConfig {
  /** Random resized crop: fraction of the image area kept, [min, max] (1,1 = off). */
  cropScale: [number, number];
  /** Aspect ratio range of the crop (w/h). */
  cropRatio: [number, number];
  /** Mirror left–right with p = 0.5 (off for chest radiographs: laterality matters). */
  hflip: boolean;
  /** Mirror top–bottom with p = 0.5 (fundus photographs only). */
  vflip: boolean;
  /** Uniform random rotation in ±degrees. */
  rotateDegrees: number;
  /** Additive brightness in ±fraction of full scale. */
  brightness: number;
  /** Multiplicative contrast in 1 ± fraction around mid-grey. */
  contrast: number;
}

export const NO_AUGMENTATION: AugmentationConfig = {
  cropScale: [1, 1],
  cropRatio: [1, 1],
  hflip: false,
  vflip: false,
  rotateDegrees: 0,
  brightness: 0,
  contrast: 0,
};

/** Defaults per modality: what is anatomically valid to vary. */
export const AUGMENTATION_PRESETS: Record<AugmentationName, AugmentationConfig> = {
  fundus: { cropScale: [0.8, 1], cropRatio: [0.9, 1.1], hflip: true, vflip: true, rotateDegrees: 15, brightness: 0.1, contrast: 0.1 },
  radiograph: { cropScale: [0.85, 1], cropRatio: [0.9, 1.1], hflip: false, vflip: false, rotateDegrees: 5, brightness: 0.05, contrast: 0.1 },
  'ct-mr': { cropScale: [0.85, 1], cropRatio: [0.9, 1.1], hflip: false, vflip: false, rotateDegrees: 5, brightness: 0.05, contrast: 0.05 },
  none: NO_AUGMENTATION,
};

/** The drawn parameters of one augmentation, exposed for tests and reproducibility. */
export interface AugmentationDraw {
  cropW: number;
  cropH: number;
  cropX: number;
  cropY: number;
  flipX: boolean;
  flipY: boolean;
  angle: number;
  brightness: number;
  contrast: number;
}

export function drawAugmentation(config: AugmentationConfig, size: number, random: () => number): AugmentationDraw {
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  const area = uniform(config.cropScale[0], config.cropScale[1]);
  const logRatio = uniform(Math.log(config.cropRatio[0]), Math.log(config.cropRatio[1]));
  const ratio = Math.exp(logRatio);
  const cropW = Math.min(1, Math.sqrt(area * ratio)) * size;
  const cropH = Math.min(1, Math.sqrt(area / ratio)) * size;
  return {
    cropW,
    cropH,
    cropX: uniform(0, size - cropW),
    cropY: uniform(0, size - cropH),
    flipX: config.hflip && random() < 0.5,
    flipY: config.vflip && random() < 0.5,
    angle: (uniform(-config.rotateDegrees, config.rotateDegrees) * Math.PI) / 180,
    brightness: uniform(-config.brightness, config.brightness) * 255,
    contrast: 1 + uniform(-config.contrast, config.contrast),
  };
}

function isIdentity(d: AugmentationDraw, size: number): boolean {
  return (
    d.cropW === size && d.cropH === size && !d.flipX && !d.flipY && d.angle === 0 && d.brightness === 0 && d.contrast === 1
  );
}

/** Applies one draw to an 8-bit [S,S,3] image and returns the augmented 8-bit image. */
export function applyAugmentation(hwc: Uint8Array, size: number, d: AugmentationDraw, padValue = 0): Uint8Array {
  if (isIdentity(d, size)) return hwc;
  const out = new Uint8Array(size * size * 3);
  const cos = Math.cos(d.angle);
  const sin = Math.sin(d.angle);
  const sx = d.cropW / size;
  const sy = d.cropH / size;
  const cx = d.cropX + d.cropW / 2;
  const cy = d.cropY + d.cropH / 2;
  const half = size / 2;
  const tone = new Uint8Array(256);
  for (let v = 0; v < 256; v++) tone[v] = Math.max(0, Math.min(255, Math.round((v - 128) * d.contrast + 128 + d.brightness)));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Output pixel centre → centred, flipped, rotated, scaled into the crop → source coordinates.
      let u = x + 0.5 - half;
      let v = y + 0.5 - half;
      if (d.flipX) u = -u;
      if (d.flipY) v = -v;
      const ru = cos * u - sin * v;
      const rv = sin * u + cos * v;
      const srcX = cx + ru * sx - 0.5;
      const srcY = cy + rv * sy - 0.5;
      const o = (y * size + x) * 3;
      // Outside the source (beyond its outer half-pixel) is padding; the rim itself replicates the edge.
      if (srcX < -0.5 || srcY < -0.5 || srcX > size - 0.5 || srcY > size - 0.5) {
        out[o] = out[o + 1] = out[o + 2] = tone[padValue];
        continue;
      }
      const x0 = Math.floor(srcX);
      const y0 = Math.floor(srcY);
      const fx = srcX - x0;
      const fy = srcY - y0;
      const xa = Math.max(0, x0);
      const xb = Math.min(size - 1, x0 + 1);
      const ya = Math.max(0, y0);
      const yb = Math.min(size - 1, y0 + 1);
      for (let c = 0; c < 3; c++) {
        const top = hwc[(ya * size + xa) * 3 + c] * (1 - fx) + hwc[(ya * size + xb) * 3 + c] * fx;
        const bottom = hwc[(yb * size + xa) * 3 + c] * (1 - fx) + hwc[(yb * size + xb) * 3 + c] * fx;
        out[o + c] = tone[Math.round(top * (1 - fy) + bottom * fy)];
      }
    }
  }
  return out;
}

/** Augment (when a random source is given) and normalise one cached image into the backbone input. */
export function augmentToChw(
  hwc: Uint8Array,
  size: number,
  normalization: Normalization,
  config: AugmentationConfig | null,
  random?: () => number,
): Float32Array {
  const image = config && random ? applyAugmentation(hwc, size, drawAugmentation(config, size, random)) : hwc;
  return normalizeToChw(image, size, normalization);
}
