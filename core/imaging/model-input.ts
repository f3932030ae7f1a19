/**
 * Backbone input from any decoded frame, deterministic to the byte:
 *   display pixels by the intensity mode (below; MONOCHROME1 inverted; palette/YBR → RGB)
 *   → grey replicated to 3 channels → optional fundus field-of-view crop → aspect (letterbox or centre crop)
 *   → resize (area averaging when shrinking, bilinear when enlarging) → Uint8 [S,S,3] (the cached form)
 *   → Float32 NCHW [3,S,S] = (v/255 − mean[c]) / std[c].
 * The float tensor is always derived from the 8-bit form, so a cached image and a freshly decoded one are identical.
 */
import { frameRange, minMaxWindow, toDisplayPixels, type RenderOptions } from './display';
import type { DecodedImage } from './types';

export interface Normalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** timm/torchvision ImageNet statistics (most ViT-B/16 "augreg"-free checkpoints). */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** mean = std = 0.5, i.e. [−1, 1] (timm "inception" and many augreg/HF ViTs). */
export const HALF_NORMALIZATION: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

export type AspectMode = 'letterbox' | 'crop';

/**
 * How grey values become 8 bits before the model:
 * - 'auto' (default): photos and PNGs keep their stored values (raw 8-bit: 0..2^bits−1 mapped linearly,
 *   no per-image stretch); DICOM uses its first VOI window, else its VOI LUT, else the frame's min–max
 *   (DICOM without any VOI has no other meaningful scale);
 * - 'stretch': every grey image is min–max stretched on its own (the viewer's default without a preset);
 * - 'legacy': what versions trained before the mode existed saw, the display pipeline's default window
 *   (DICOM: first VOI window, else VOI LUT, else min–max; grey photos and PNGs: min–max per image).
 *   Their manifests have no intensity, and they are predicted with it (core/train/model-loader.ts).
 * Colour images always keep their stored values.
 */
export type IntensityMode = 'auto' | 'stretch' | 'legacy';
export const INTENSITY_MODES = ['auto', 'stretch', 'legacy'] as const;

export interface FovOptions {
  /** Channel to threshold: red is brightest inside a fundus FOV; green is an alternative for red-saturated images. */
  channel?: 'red' | 'green';
  /** 8-bit display value a pixel must exceed to count as inside the FOV (default 20). */
  threshold?: number;
}

export interface ModelInputOptions {
  /** Output side S in pixels (the backbone's image size). */
  size: number;
  /** 'letterbox' (default) keeps the whole image and pads; 'crop' takes the centred square. */
  aspect?: AspectMode;
  /** Crop to the circular fundus field of view before the aspect step (default off). */
  fundusFov?: boolean | FovOptions;
  normalization?: Normalization;
  /** Letterbox padding value, 8-bit (default 0: black, like a fundus or radiograph background). */
  padValue?: number;
  /** Grey-value mapping (see IntensityMode); default 'auto'. */
  intensity?: IntensityMode;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ModelInput {
  size: number;
  /** Compact cached form: Uint8 [S, S, 3], row-major, RGB interleaved. */
  hwc: Uint8Array;
  /** Backbone input for one image: Float32 [3, S, S] (NCHW without the batch axis). */
  chw: Float32Array;
  /** The field of view found (source pixel coordinates) when `fundusFov` was asked for and one was found. */
  fov?: Rect;
}

/** The display window that realises an intensity mode for a grey frame (undefined: the image's own VOI). */
export function intensityWindow(image: DecodedImage, frameIndex: number, intensity: IntensityMode): RenderOptions['window'] {
  const grey = image.photometric === 'MONOCHROME1' || image.photometric === 'MONOCHROME2';
  if (!grey || intensity === 'legacy') return undefined;
  if (intensity === 'stretch') {
    const { min, max } = frameRange(image, frameIndex);
    return minMaxWindow(min, max);
  }
  // A photo's stored range, identity for 8 bits: centre 2^(b−1), width 2^b maps 0 → 0 and 2^b−1 → 255.
  if (image.kind === 'photo') return minMaxWindow(0, 2 ** image.bitsStored - 1);
  return undefined;
}

/** A frame as 8-bit RGB at its own resolution, grey values mapped by the intensity mode (default 'auto'). */
export function frameToRgb8(image: DecodedImage, frameIndex = 0, intensity: IntensityMode = 'auto'): { width: number; height: number; rgb: Uint8Array } {
  const { width, height, channels, data } = toDisplayPixels(image, frameIndex, { window: intensityWindow(image, frameIndex, intensity) });
  if (channels === 3) return { width, height, rgb: data };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; i < data.length; i++, o += 3) rgb[o] = rgb[o + 1] = rgb[o + 2] = data[i];
  return { width, height, rgb };
}

/**
 * Bounding box of a fundus photograph's circular field of view: pixels whose red (or green) value exceeds the
 * threshold; a row or column belongs to the FOV when at least 1% of it (min 3 pixels) does, which ignores isolated
 * noise and text burnt into the black border. Undefined when less than 10% of the image qualifies.
 */
export function findFundusFov(rgb: Uint8Array, width: number, height: number, options: FovOptions = {}): Rect | undefined {
  const channel = options.channel === 'green' ? 1 : 0;
  const threshold = options.threshold ?? 20;
  const rowCounts = new Uint32Array(height);
  const colCounts = new Uint32Array(width);
  let inside = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0, i = y * width * 3 + channel; x < width; x++, i += 3) {
      if (rgb[i] > threshold) {
        rowCounts[y]++;
        colCounts[x]++;
        inside++;
      }
    }
  }
  if (inside < 0.1 * width * height) return undefined;
  const span = (counts: Uint32Array, minCount: number): [number, number] => {
    let first = 0;
    while (first < counts.length && counts[first] < minCount) first++;
    let last = counts.length - 1;
    while (last > first && counts[last] < minCount) last--;
    return [first, last];
  };
  const [y0, y1] = span(rowCounts, Math.max(3, Math.round(0.01 * width)));
  const [x0, x1] = span(colCounts, Math.max(3, Math.round(0.01 * height)));
  if (x1 < x0 || y1 < y0) return undefined;
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

export function cropRgb(rgb: Uint8Array, width: number, rect: Rect): Uint8Array {
  const out = new Uint8Array(rect.width * rect.height * 3);
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.y + y) * width + rect.x) * 3;
    out.set(rgb.subarray(from, from + rect.width * 3), y * rect.width * 3);
  }
  return out;
}

interface AxisWeights {
  start: Int32Array; // first source index per output index
  count: Int32Array; // number of source taps
  weights: Float64Array[]; // per output index
}

/**
 * 1-D resampling weights. Shrinking: exact area coverage (each output pixel averages the source interval
 * [i·s, (i+1)·s), partial pixels weighted by their overlap; like OpenCV INTER_AREA). Enlarging or same size:
 * bilinear with pixel centres at +½ (align_corners = false), edges clamped.
 */
function axisWeights(src: number, dst: number): AxisWeights {
  const scale = src / dst;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights: Float64Array[] = [];
  for (let i = 0; i < dst; i++) {
    if (scale > 1) {
      const lo = i * scale;
      const hi = Math.min((i + 1) * scale, src);
      const first = Math.floor(lo);
      const last = Math.min(Math.ceil(hi) - 1, src - 1);
      const w = new Float64Array(last - first + 1);
      for (let j = first; j <= last; j++) w[j - first] = (Math.min(j + 1, hi) - Math.max(j, lo)) / (hi - lo);
      start[i] = first;
      count[i] = w.length;
      weights.push(w);
    } else {
      const centre = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), src - 1);
      const first = Math.floor(centre);
      const frac = centre - first;
      if (frac === 0 || first + 1 >= src) {
        start[i] = first;
        count[i] = 1;
        weights.push(Float64Array.of(1));
      } else {
        start[i] = first;
        count[i] = 2;
        weights.push(Float64Array.of(1 - frac, frac));
      }
    }
  }
  return { start, count, weights };
}

/** Resize 8-bit RGB (separable: horizontal pass in float64, vertical pass, round half up, clamp). */
export function resizeRgb(rgb: Uint8Array, srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): Uint8Array {
  if (srcWidth === dstWidth && srcHeight === dstHeight) return rgb.slice();
  const wx = axisWeights(srcWidth, dstWidth);
  const wy = axisWeights(srcHeight, dstHeight);
  const tmp = new Float64Array(srcHeight * dstWidth * 3);
  for (let y = 0; y < srcHeight; y++) {
    const row = y * srcWidth * 3;
    for (let x = 0; x < dstWidth; x++) {
      const w = wx.weights[x];
      let r = 0, g = 0, b = 0;
      for (let k = 0, s = row + wx.start[x] * 3; k < wx.count[x]; k++, s += 3) {
        r += w[k] * rgb[s];
        g += w[k] * rgb[s + 1];
        b += w[k] * rgb[s + 2];
      }
      const o = (y * dstWidth + x) * 3;
      tmp[o] = r;
      tmp[o + 1] = g;
      tmp[o + 2] = b;
    }
  }
  const out = new Uint8Array(dstWidth * dstHeight * 3);
  const rowStride = dstWidth * 3;
  for (let y = 0; y < dstHeight; y++) {
    const w = wy.weights[y];
    for (let x = 0; x < rowStride; x++) {
      let v = 0;
      for (let k = 0, s = wy.start[y] * rowStride + x; k < wy.count[y]; k++, s += rowStride) v += w[k] * tmp[s];
      // Tiny float residue (e.g. 6.9999999) must not flip the rounding of exact averages.
      const rounded = Math.floor(v + 0.5 + 1e-9);
      out[y * rowStride + x] = rounded < 0 ? 0 : rounded > 255 ? 255 : rounded;
    }
  }
  return out;
}

/** Square S×S RGB from any image: letterbox (fit inside, pad, centred) or centre crop then resize. */
export function fitToSquare(rgb: Uint8Array, width: number, height: number, size: number, aspect: AspectMode = 'letterbox', padValue = 0): Uint8Array {
  if (aspect === 'crop') {
    const side = Math.min(width, height);
    const rect = { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), width: side, height: side };
    const square = side === width && side === height ? rgb : cropRgb(rgb, width, rect);
    return resizeRgb(square, side, side, size, size);
  }
  const scale = size / Math.max(width, height);
  const w = Math.min(size, Math.max(1, Math.round(width * scale)));
  const h = Math.min(size, Math.max(1, Math.round(height * scale)));
  const resized = resizeRgb(rgb, width, height, w, h);
  if (w === size && h === size) return resized;
  const out = new Uint8Array(size * size * 3).fill(padValue);
  const x0 = Math.floor((size - w) / 2);
  const y0 = Math.floor((size - h) / 2);
  for (let y = 0; y < h; y++) out.set(resized.subarray(y * w * 3, (y + 1) * w * 3), ((y0 + y) * size + x0) * 3);
  return out;
}

/** Uint8 [S,S,3] → Float32 [3,S,S] with (v/255 − mean[c]) / std[c]. */
export function normalizeToChw(hwc: Uint8Array, size: number, normalization: Normalization = IMAGENET_NORMALIZATION): Float32Array {
  const plane = size * size;
  if (hwc.length !== plane * 3) throw new RangeError(`expected ${plane * 3} bytes for ${size}x${size}x3, got ${hwc.length}`);
  const { mean, std } = normalization;
  const chw = new Float32Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    if (!(std[c] > 0)) throw new RangeError(`normalisation std[${c}] must be positive, got ${std[c]}`);
    // One table per channel: 256 possible inputs, computed once in float64.
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v / 255 - mean[c]) / std[c];
    for (let p = 0, i = c; p < plane; p++, i += 3) chw[c * plane + p] = table[hwc[i]];
  }
  return chw;
}

/** Backbone input of one frame (see the module comment for the steps). */
export function prepareModelInput(image: DecodedImage, frameIndex: number, options: ModelInputOptions): ModelInput {
  const { size } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`model input size must be a positive integer, got ${size}`);
  let { width, height, rgb } = frameToRgb8(image, frameIndex, options.intensity ?? 'auto');
  let fov: Rect | undefined;
  if (options.fundusFov) {
    fov = findFundusFov(rgb, width, height, options.fundusFov === true ? {} : options.fundusFov);
    if (fov) {
      rgb = cropRgb(rgb, width, fov);
      ({ width, height } = fov);
    }
  }
  const hwc = fitToSquare(rgb, width, height, size, options.aspect ?? 'letterbox', options.padValue ?? 0);
  const chw = normalizeToChw(hwc, size, options.normalization ?? IMAGENET_NORMALIZATION);
  return fov ? { size, hwc, chw, fov } : { size, hwc, chw };
}
