/**
 * Painting operations on a label plane: one byte per image pixel, row-major (0 = background, i = class i).
 * All work in image pixel coordinates, so how far the view is zoomed never changes what is painted.
 * Each returns the number of pixels it changed (0: nothing to undo).
 */

export interface Plane {
  width: number;
  height: number;
  labels: Uint8Array;
}

/** Paints a disc of `radius` image pixels at every point along the segment a→b (a brush or eraser stroke). */
export function stampSegment(plane: Plane, a: [number, number], b: [number, number], radius: number, value: number): number {
  const r = Math.max(0.5, radius);
  const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
  // Discs closer than half a radius apart leave no gaps in the stroke.
  const steps = Math.max(1, Math.ceil(length / Math.max(0.5, r / 2)));
  let changed = 0;
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    changed += stampDisc(plane, a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, r, value);
  }
  return changed;
}

function stampDisc(plane: Plane, cx: number, cy: number, r: number, value: number): number {
  const { width, height, labels } = plane;
  let changed = 0;
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(height - 1, Math.ceil(cy + r));
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(width - 1, Math.ceil(cx + r));
  const r2 = r * r;
  for (let y = y0; y <= y1; y++) {
    // Pixel centres at +0.5: a radius-0.5 brush paints exactly the pixel under the pointer.
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy > r2) continue;
      const i = y * width + x;
      if (labels[i] !== value) {
        labels[i] = value;
        changed++;
      }
    }
  }
  return changed;
}

/**
 * Flood fill from (x, y): the 4-connected pixels whose image value lies within `tolerance` of the seed's
 * value take `value`. `intensity` is one value per pixel (see intensityPlane).
 */
export function floodFill(plane: Plane, intensity: ArrayLike<number>, x: number, y: number, tolerance: number, value: number): number {
  const { width, height, labels } = plane;
  const sx = Math.floor(x);
  const sy = Math.floor(y);
  if (sx < 0 || sy < 0 || sx >= width || sy >= height) return 0;
  const seed = intensity[sy * width + sx];
  const seen = new Uint8Array(width * height);
  const stack = [sy * width + sx];
  seen[stack[0]] = 1;
  let changed = 0;
  while (stack.length) {
    const i = stack.pop()!;
    if (labels[i] !== value) {
      labels[i] = value;
      changed++;
    }
    const px = i % width;
    const neighbours = [px > 0 ? i - 1 : -1, px < width - 1 ? i + 1 : -1, i >= width ? i - width : -1, i + width < width * height ? i + width : -1];
    for (const n of neighbours) {
      if (n < 0 || seen[n]) continue;
      seen[n] = 1;
      if (Math.abs(intensity[n] - seed) <= tolerance) stack.push(n);
    }
  }
  return changed;
}

/** Fills a closed polygon (a lasso) with `value`: pixels whose centre is inside (even–odd rule). */
export function fillPolygon(plane: Plane, points: [number, number][], value: number): number {
  if (points.length < 3) return 0;
  const { width, height, labels } = plane;
  let changed = 0;
  const ys = points.map((p) => p[1]);
  const yMin = Math.max(0, Math.floor(Math.min(...ys)));
  const yMax = Math.min(height - 1, Math.ceil(Math.max(...ys)));
  for (let y = yMin; y <= yMax; y++) {
    const cy = y + 0.5;
    const xs: number[] = [];
    for (let k = 0; k < points.length; k++) {
      const [ax, ay] = points[k];
      const [bx, by] = points[(k + 1) % points.length];
      if ((ay <= cy && by > cy) || (by <= cy && ay > cy)) xs.push(ax + ((cy - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k] - 0.5));
      const to = Math.min(width - 1, Math.floor(xs[k + 1] - 0.5));
      for (let x = from; x <= to; x++) {
        const i = y * width + x;
        if (labels[i] !== value) {
          labels[i] = value;
          changed++;
        }
      }
    }
  }
  return changed;
}

/**
 * Fills the holes of class `value`: background pixels that cannot reach the image border without crossing
 * that class. Pixels of other classes are left as they are.
 */
export function fillHoles(plane: Plane, value: number): number {
  const { width, height, labels } = plane;
  const outside = new Uint8Array(width * height);
  const stack: number[] = [];
  const visit = (i: number) => {
    if (!outside[i] && labels[i] !== value) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < width; x++) {
    visit(x);
    visit((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    visit(y * width);
    visit(y * width + width - 1);
  }
  while (stack.length) {
    const i = stack.pop()!;
    const px = i % width;
    if (px > 0) visit(i - 1);
    if (px < width - 1) visit(i + 1);
    if (i >= width) visit(i - width);
    if (i + width < width * height) visit(i + width);
  }
  let changed = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!outside[i] && labels[i] === 0) {
      labels[i] = value;
      changed++;
    }
  }
  return changed;
}

/** One value per pixel for flood fill: the stored value of a grey frame, the mean of the samples of a colour one. */
export function intensityPlane(frame: ArrayLike<number>, width: number, height: number, samplesPerPixel: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(n);
  if (samplesPerPixel === 1) {
    for (let i = 0; i < n; i++) out[i] = frame[i];
    return out;
  }
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let s = 0; s < samplesPerPixel; s++) sum += frame[i * samplesPerPixel + s];
    out[i] = sum / samplesPerPixel;
  }
  return out;
}

/** A rectangle of image pixels, x0/y0 inclusive, x1/y1 exclusive. */
export interface PixelRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The pixels a brush stroke segment a→b of `radius` can touch, plus one for outlines, clipped to the plane. */
export function segmentRect(plane: Plane, a: [number, number], b: [number, number], radius: number): PixelRect {
  const r = Math.max(0.5, radius) + 2;
  return {
    x0: Math.max(0, Math.floor(Math.min(a[0], b[0]) - r)),
    y0: Math.max(0, Math.floor(Math.min(a[1], b[1]) - r)),
    x1: Math.min(plane.width, Math.ceil(Math.max(a[0], b[0]) + r)),
    y1: Math.min(plane.height, Math.ceil(Math.max(a[1], b[1]) + r)),
  };
}

/**
 * The mask as RGBA at image resolution for drawing: each visible class in its colour at `alpha` (0–255);
 * `outline` keeps only the pixels on a class's border (a 4-neighbour differs or lies outside the image).
 * With `rect`, only that part of `out` is redrawn (a stroke in progress), the rest is left as it is.
 */
export function maskToRgba(
  plane: Plane,
  colours: [number, number, number][],
  visible: boolean[],
  alpha: number,
  outline: boolean,
  out?: Uint8ClampedArray,
  rect?: PixelRect,
): Uint8ClampedArray {
  const { width, height, labels } = plane;
  const reuse = out && out.length === width * height * 4;
  const rgba = reuse ? out : new Uint8ClampedArray(width * height * 4);
  const area = rect && reuse ? rect : { x0: 0, y0: 0, x1: width, y1: height };
  for (let y = area.y0; y < area.y1; y++) {
    for (let x = area.x0; x < area.x1; x++) {
      const i = y * width + x;
      const o = i * 4;
      const v = labels[i];
      const inside =
        outline && x > 0 && x < width - 1 && y > 0 && y < height - 1 && labels[i - 1] === v && labels[i + 1] === v && labels[i - width] === v && labels[i + width] === v;
      if (v === 0 || !visible[v] || !colours[v] || inside) {
        rgba[o] = rgba[o + 1] = rgba[o + 2] = rgba[o + 3] = 0;
        continue;
      }
      const [r, g, b] = colours[v];
      rgba[o] = r;
      rgba[o + 1] = g;
      rgba[o + 2] = b;
      rgba[o + 3] = outline ? 255 : alpha;
    }
  }
  return rgba;
}

/** '#rrggbb' → [r, g, b]. */
export function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
