/**
 * Measurement maths for the viewer (pure functions, no DOM): lengths in mm from the pixel spacing, angles, and
 * ellipse / rectangle ROI statistics in modality units (HU for CT, after rescale slope/intercept or the Modality LUT).
 * Points are in image pixel coordinates: x along columns, y along rows, (0, 0) the top-left corner of the first
 * pixel, so pixel (c, r) covers [c, c+1) × [r, r+1) and its centre is (c + ½, r + ½).
 */
import { modalityValue, storedValueFunction } from './display';
import type { DecodedImage } from './types';

export interface Point {
  x: number;
  y: number;
}

/**
 * Physical size of a pixel. `rowMm` is the distance between rows (adjacent pixels vertically), `columnMm` between
 * columns, the order DICOM's Pixel Spacing (0028,0030) and Imager Pixel Spacing (0018,1164) use.
 */
export interface Spacing {
  rowMm: number;
  columnMm: number;
  source: 'PixelSpacing' | 'ImagerPixelSpacing';
}

/**
 * The spacing measurements use: Pixel Spacing (in the patient) when present, else Imager Pixel Spacing (at the
 * detector: projection radiographs, uncorrected for magnification), else none (values stay in pixels).
 */
export function chooseSpacing(pixelSpacing?: readonly number[], imagerPixelSpacing?: readonly number[]): Spacing | undefined {
  const valid = (s?: readonly number[]) => !!s && s.length >= 2 && s[0] > 0 && s[1] > 0 && Number.isFinite(s[0]) && Number.isFinite(s[1]);
  if (valid(pixelSpacing)) return { rowMm: pixelSpacing![0], columnMm: pixelSpacing![1], source: 'PixelSpacing' };
  if (valid(imagerPixelSpacing)) return { rowMm: imagerPixelSpacing![0], columnMm: imagerPixelSpacing![1], source: 'ImagerPixelSpacing' };
  return undefined;
}

/** Distance between two points: mm with a spacing, else pixels. */
export function distance(a: Point, b: Point, spacing?: Spacing): { value: number; unit: 'mm' | 'px' } {
  const dx = (b.x - a.x) * (spacing?.columnMm ?? 1);
  const dy = (b.y - a.y) * (spacing?.rowMm ?? 1);
  return { value: Math.hypot(dx, dy), unit: spacing ? 'mm' : 'px' };
}

/**
 * The angle at `vertex` between the rays to `a` and `b`, in degrees [0, 180]. Measured in physical space, so a
 * non-square pixel spacing does not distort it; NaN when a ray has zero length.
 */
export function angleDegrees(a: Point, vertex: Point, b: Point, spacing?: Spacing): number {
  const sx = spacing?.columnMm ?? 1;
  const sy = spacing?.rowMm ?? 1;
  const ux = (a.x - vertex.x) * sx;
  const uy = (a.y - vertex.y) * sy;
  const vx = (b.x - vertex.x) * sx;
  const vy = (b.y - vertex.y) * sy;
  const norms = Math.hypot(ux, uy) * Math.hypot(vx, vy);
  if (norms === 0) return NaN;
  const cos = Math.min(1, Math.max(-1, (ux * vx + uy * vy) / norms));
  return (Math.acos(cos) * 180) / Math.PI;
}

export type RoiShape = 'ellipse' | 'rectangle';

export interface RoiStats {
  /** Pixels whose centre lies inside the shape. */
  pixels: number;
  mean: number;
  /** Population standard deviation. */
  stdDev: number;
  min: number;
  max: number;
  /** The shape's geometric area: mm² with a spacing, else px². */
  area: number;
  areaUnit: 'mm²' | 'px²';
  /** What the values are in: 'HU' for CT, the Rescale Type when the file names one, else '' (stored/pixel values). */
  unit: string;
}

/** The unit of modality values: Rescale Type (0028,1054) when given, HU for CT, else none. */
export function modalityUnit(image: Pick<DecodedImage, 'modality' | 'metadata'>): string {
  if (image.modality.unit) return image.modality.unit;
  return image.metadata.modality === 'CT' ? 'HU' : '';
}

/**
 * Statistics of the modality values inside an ellipse or rectangle spanned by two opposite corners `a` and `b`
 * (the ellipse is inscribed in that box). Grey images only: colour pixels have no single modality value.
 * A pixel counts when its centre is inside the shape (centre on the ellipse's edge counts).
 */
export function roiStats(image: DecodedImage, frameIndex: number, shape: RoiShape, a: Point, b: Point, spacing?: Spacing): RoiStats {
  if (image.samplesPerPixel !== 1 || image.photometric === 'PALETTE COLOR') {
    throw new RangeError(`${image.source}: ROI statistics need a greyscale image (this one is ${image.photometric})`);
  }
  const frame = image.frames[frameIndex];
  if (!frame) throw new RangeError(`${image.source}: frame ${frameIndex} does not exist (${image.frames.length} frame(s))`);
  const left = Math.min(a.x, b.x);
  const right = Math.max(a.x, b.x);
  const top = Math.min(a.y, b.y);
  const bottom = Math.max(a.y, b.y);
  const cx = (left + right) / 2;
  const cy = (top + bottom) / 2;
  const rx = (right - left) / 2;
  const ry = (bottom - top) / 2;
  const stored = storedValueFunction(image);
  const c0 = Math.max(0, Math.floor(left));
  const c1 = Math.min(image.columns - 1, Math.ceil(right) - 1);
  const r0 = Math.max(0, Math.floor(top));
  const r1 = Math.min(image.rows - 1, Math.ceil(bottom) - 1);
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let r = r0; r <= r1; r++) {
    const py = r + 0.5;
    if (py < top || py > bottom) continue;
    for (let c = c0; c <= c1; c++) {
      const px = c + 0.5;
      if (px < left || px > right) continue;
      if (shape === 'ellipse') {
        if (rx === 0 || ry === 0) continue;
        const ex = (px - cx) / rx;
        const ey = (py - cy) / ry;
        if (ex * ex + ey * ey > 1) continue;
      }
      const raw = frame[r * image.columns + c];
      const v = modalityValue(image, stored ? stored(raw) : raw);
      n++;
      sum += v;
      sumSq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const mean = n ? sum / n : NaN;
  const width = (right - left) * (spacing?.columnMm ?? 1);
  const height = (bottom - top) * (spacing?.rowMm ?? 1);
  return {
    pixels: n,
    mean,
    stdDev: n ? Math.sqrt(Math.max(sumSq / n - mean * mean, 0)) : NaN,
    min: n ? min : NaN,
    max: n ? max : NaN,
    area: shape === 'ellipse' ? (Math.PI * width * height) / 4 : width * height,
    areaUnit: spacing ? 'mm²' : 'px²',
    unit: modalityUnit(image),
  };
}
