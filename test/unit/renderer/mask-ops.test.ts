import { describe, expect, it } from 'vitest';
import { fillHoles, fillPolygon, floodFill, intensityPlane, maskToRgba, segmentRect, stampSegment, type Plane } from '../../../renderer/src/viewer/mask-ops';

const plane = (width: number, height: number): Plane => ({ width, height, labels: new Uint8Array(width * height) });
const at = (p: Plane, x: number, y: number) => p.labels[y * p.width + x];
const count = (p: Plane, v: number) => p.labels.reduce((n, l) => n + (l === v ? 1 : 0), 0);

describe('mask painting operations', () => {
  it('a brush stroke paints a gap-free band of its width along the segment, an eraser clears it', () => {
    const p = plane(40, 20);
    const changed = stampSegment(p, [2, 10], [37, 10], 2, 1);
    expect(changed).toBe(count(p, 1));
    for (let x = 2; x < 37; x++) for (const y of [9, 10]) expect(at(p, x, y), `(${x}, ${y})`).toBe(1);
    expect(at(p, 20, 5)).toBe(0);
    expect(at(p, 20, 14)).toBe(0);
    // Painting the same again changes nothing (no undo step for it).
    expect(stampSegment(p, [2, 10], [37, 10], 2, 1)).toBe(0);
    stampSegment(p, [0, 10], [39, 10], 4, 0);
    expect(count(p, 1)).toBe(0);
  });

  it('a one-pixel brush paints exactly the pixel under the pointer', () => {
    const p = plane(5, 5);
    expect(stampSegment(p, [2.3, 3.7], [2.3, 3.7], 0.5, 2)).toBe(1);
    expect(at(p, 2, 3)).toBe(2);
  });

  it('flood fill takes connected pixels within the tolerance of the seed value only', () => {
    // A bright 3-wide vertical bar (200) with a slightly darker pixel (190), on a dark background (10); a second bar not connected.
    const w = 12;
    const h = 6;
    const img = new Float32Array(w * h).fill(10);
    for (let y = 0; y < h; y++) for (const x of [2, 3, 4, 9]) img[y * w + x] = 200;
    img[2 * w + 3] = 190;
    const p = plane(w, h);
    expect(floodFill(p, img, 3.5, 0.5, 5, 1)).toBe(3 * h - 1); // 190 is outside ±5
    expect(at(p, 3, 2)).toBe(0);
    expect(at(p, 9, 0)).toBe(0);
    const q = plane(w, h);
    expect(floodFill(q, img, 3.5, 0.5, 15, 1)).toBe(3 * h);
    expect(floodFill(q, img, -1, 0, 15, 1)).toBe(0);
  });

  it('a lasso fills the pixels whose centres lie inside the polygon', () => {
    const p = plane(20, 20);
    expect(fillPolygon(p, [[5, 5], [15, 5], [15, 15], [5, 15]], 1)).toBe(100);
    expect(at(p, 5, 5)).toBe(1);
    expect(at(p, 14, 14)).toBe(1);
    expect(at(p, 15, 15)).toBe(0);
    const tri = plane(20, 20);
    fillPolygon(tri, [[0, 0], [20, 0], [0, 20]], 2);
    expect(at(tri, 1, 1)).toBe(2);
    expect(at(tri, 18, 18)).toBe(0);
  });

  it('fills the holes of one class, not the background that reaches the border or other classes', () => {
    const p = plane(10, 10);
    for (let i = 2; i <= 7; i++) {
      p.labels[2 * 10 + i] = p.labels[7 * 10 + i] = 1;
      p.labels[i * 10 + 2] = p.labels[i * 10 + 7] = 1;
    }
    p.labels[4 * 10 + 4] = 2; // another class inside the ring stays
    expect(fillHoles(p, 1)).toBe(4 * 4 - 1);
    expect(at(p, 4, 4)).toBe(2);
    expect(at(p, 5, 5)).toBe(1);
    expect(at(p, 0, 0)).toBe(0);
    expect(fillHoles(p, 1)).toBe(0);
  });

  it('intensity is the stored value of grey images and the mean of colour samples', () => {
    expect(Array.from(intensityPlane(new Uint16Array([1, 500]), 2, 1, 1))).toEqual([1, 500]);
    expect(Array.from(intensityPlane(new Uint8Array([0, 30, 60, 255, 255, 255]), 2, 1, 3))).toEqual([30, 255]);
  });

  it('draws visible classes filled at the opacity, or only their outlines', () => {
    const p = plane(5, 5);
    fillPolygon(p, [[0, 0], [5, 0], [5, 5], [0, 5]], 1);
    const colours: [number, number, number][] = [[0, 0, 0], [255, 0, 0]];
    const filled = maskToRgba(p, colours, [false, true], 128, false);
    expect(Array.from(filled.slice(12 * 4, 12 * 4 + 4))).toEqual([255, 0, 0, 128]);
    const outline = maskToRgba(p, colours, [false, true], 128, true);
    expect(outline[12 * 4 + 3]).toBe(0); // the centre is inside
    expect(Array.from(outline.slice(0, 4))).toEqual([255, 0, 0, 255]);
    expect(maskToRgba(p, colours, [false, false], 128, false).every((v) => v === 0)).toBe(true);
  });

  it('redrawing only a stroke’s rectangle gives the same pixels as redrawing everything', () => {
    const colours: [number, number, number][] = [[0, 0, 0], [255, 0, 0], [0, 0, 255]];
    for (const outline of [false, true]) {
      const p = plane(60, 40);
      fillPolygon(p, [[5, 5], [30, 5], [30, 30], [5, 30]], 2);
      const rgba = maskToRgba(p, colours, [false, true, true], 100, outline);
      stampSegment(p, [10, 20], [50, 22], 3, 1);
      maskToRgba(p, colours, [false, true, true], 100, outline, rgba, segmentRect(p, [10, 20], [50, 22], 3));
      expect(Array.from(rgba), outline ? 'outline' : 'filled').toEqual(Array.from(maskToRgba(p, colours, [false, true, true], 100, outline)));
    }
  });
});
