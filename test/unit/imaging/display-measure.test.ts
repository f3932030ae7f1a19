import { describe, expect, it } from 'vitest';
import { frameRange, wlDragSensitivity } from '../../../core/imaging/display';
import { angleDegrees, chooseSpacing, distance, modalityUnit, roiStats } from '../../../core/imaging/measure';
import type { DecodedImage, PixelArray } from '../../../core/imaging/types';

/** A synthetic grey image of `columns` × (length / columns) stored values. */
function image(frame: PixelArray, columns: number, overrides: Partial<DecodedImage> = {}): DecodedImage {
  return {
    source: 'synthetic',
    kind: 'dicom',
    rows: frame.length / columns,
    columns,
    samplesPerPixel: 1,
    numberOfFrames: 1,
    frames: [frame],
    photometric: 'MONOCHROME2',
    bitsAllocated: 16,
    bitsStored: 16,
    signed: frame instanceof Int16Array,
    lossy: false,
    modality: { slope: 1, intercept: 0 },
    voi: { windows: [], luts: [], fn: 'LINEAR' },
    metadata: {},
    ...overrides,
  };
}

describe('window/level drag sensitivity', () => {
  it('scales with the value range: 4 units a pixel on a 12-bit range, 0.25 on 8 bits', () => {
    expect(wlDragSensitivity({ min: 0, max: 4095 })).toBe(4); // 4096 / 1024
    expect(wlDragSensitivity({ min: 0, max: 255 })).toBe(0.25); // 256 / 1024
    expect(wlDragSensitivity({ min: -1024, max: 3071 })).toBe(4); // CT in HU: 4096 / 1024
    // A 200-pixel drag on the 4095-wide window of the issue now changes the width by 800, not 3200.
    expect(200 * wlDragSensitivity({ min: 0, max: 4095 })).toBe(800);
  });

  it('never drops to zero on a flat image', () => {
    expect(wlDragSensitivity({ min: 7, max: 7 })).toBe(0.01); // 1/1024 would barely move
    expect(wlDragSensitivity({ min: Infinity, max: -Infinity })).toBe(0.01);
  });

  it('uses the modality range of the frame (after rescale)', () => {
    const ct = image(Uint16Array.from([0, 2048, 4095, 100]), 2, { modality: { slope: 1, intercept: -1024 } });
    expect(frameRange(ct)).toEqual({ min: -1024, max: 3071 });
    expect(wlDragSensitivity(frameRange(ct))).toBe(4);
  });
});

describe('pixel spacing and lengths', () => {
  it('prefers Pixel Spacing, falls back to Imager Pixel Spacing, else none', () => {
    expect(chooseSpacing([0.5, 0.25], [0.2, 0.2])).toEqual({ rowMm: 0.5, columnMm: 0.25, source: 'PixelSpacing' });
    expect(chooseSpacing(undefined, [0.2, 0.1])).toEqual({ rowMm: 0.2, columnMm: 0.1, source: 'ImagerPixelSpacing' });
    expect(chooseSpacing([0, 0], [0.2, 0.1])?.source).toBe('ImagerPixelSpacing');
    expect(chooseSpacing(undefined, undefined)).toBeUndefined();
  });

  it('converts a length to mm with anisotropic spacing (rows 0.5 mm apart, columns 0.25 mm)', () => {
    const s = chooseSpacing([0.5, 0.25]);
    // 3-4-5 triangle in mm: 12 columns × 0.25 = 3 mm, 8 rows × 0.5 = 4 mm → 5 mm.
    expect(distance({ x: 0, y: 0 }, { x: 12, y: 8 }, s)).toEqual({ value: 5, unit: 'mm' });
    // Without spacing: √(12² + 8²) = 14.4222 pixels.
    const px = distance({ x: 0, y: 0 }, { x: 12, y: 8 });
    expect(px.unit).toBe('px');
    expect(px.value).toBeCloseTo(Math.sqrt(208), 12);
  });
});

describe('angles', () => {
  it('gives 90° for perpendicular rays and 45° for a diagonal', () => {
    expect(angleDegrees({ x: 10, y: 0 }, { x: 0, y: 0 }, { x: 0, y: 10 })).toBeCloseTo(90, 12);
    expect(angleDegrees({ x: 10, y: 0 }, { x: 0, y: 0 }, { x: 10, y: 10 })).toBeCloseTo(45, 12);
    expect(angleDegrees({ x: 10, y: 0 }, { x: 0, y: 0 }, { x: -10, y: 0 })).toBeCloseTo(180, 12);
  });

  it('measures in physical space: a pixel diagonal on 1 × 2 mm pixels is atan(2/1) from the row', () => {
    // Rows 2 mm apart, columns 1 mm apart: (1, 1) px is (1 mm, 2 mm); its angle to the x axis is atan2(2, 1) = 63.435°.
    const s = chooseSpacing([2, 1]);
    expect(angleDegrees({ x: 5, y: 0 }, { x: 0, y: 0 }, { x: 1, y: 1 }, s)).toBeCloseTo(63.43494882, 6);
  });

  it('is undefined (NaN) for a zero-length ray', () => {
    expect(angleDegrees({ x: 0, y: 0 }, { x: 0, y: 0 }, { x: 1, y: 1 })).toBeNaN();
  });
});

describe('ROI statistics in modality units', () => {
  // 4 × 4 CT, stored 1000…1015 row by row, HU = stored·2 − 1024 → 976, 978, …, 1006.
  const stored = Uint16Array.from({ length: 16 }, (_, i) => 1000 + i);
  const ct = image(stored, 4, { modality: { slope: 2, intercept: -1024 }, metadata: { modality: 'CT' } });

  it('rectangle over the centre 2 × 2 pixels: mean, sd, min, max and area by hand', () => {
    // Pixels (1,1)=1005 (2,1)=1006 (1,2)=1009 (2,2)=1010 → HU 986, 988, 994, 996.
    const s = roiStats(ct, 0, 'rectangle', { x: 1, y: 1 }, { x: 3, y: 3 }, chooseSpacing([0.5, 0.5]));
    expect(s.pixels).toBe(4);
    expect(s.mean).toBe(991); // (986 + 988 + 994 + 996) / 4
    expect(s.min).toBe(986);
    expect(s.max).toBe(996);
    // Deviations −5, −3, 3, 5 → variance (25 + 9 + 9 + 25) / 4 = 17.
    expect(s.stdDev).toBeCloseTo(Math.sqrt(17), 12);
    expect(s.area).toBe(1); // 2 px × 0.5 mm by 2 px × 0.5 mm
    expect(s.areaUnit).toBe('mm²');
    expect(s.unit).toBe('HU');
  });

  it('the corner order does not matter', () => {
    const a = roiStats(ct, 0, 'rectangle', { x: 3, y: 3 }, { x: 1, y: 1 });
    expect(a.mean).toBe(991);
    expect(a.area).toBe(4);
    expect(a.areaUnit).toBe('px²');
  });

  it('ellipse inscribed in the whole 4 × 4 image leaves out the four corner pixels', () => {
    // Centre (2, 2), radii 2: corner pixel centres (0.5, 0.5) are at ((−1.5/2)² + (−1.5/2)²) = 1.125 > 1 → out;
    // (1.5, 0.5): 0.0625 + 0.5625 = 0.625 → in. So 12 pixels: all but stored 1000, 1003, 1012, 1015.
    const s = roiStats(ct, 0, 'ellipse', { x: 0, y: 0 }, { x: 4, y: 4 }, chooseSpacing([1, 1]));
    expect(s.pixels).toBe(12);
    // The four corners sum to 4030 = 4·1007.5, the mean of all 16, so the mean of the rest is 1007.5 stored → 991 HU.
    expect(s.mean).toBe(991);
    expect(s.min).toBe(2 * 1001 - 1024);
    expect(s.max).toBe(2 * 1014 - 1024);
    expect(s.area).toBeCloseTo(Math.PI * 4, 12); // π · 2 mm · 2 mm
  });

  it('HU only after rescale; other modalities keep the Rescale Type or no unit', () => {
    expect(modalityUnit({ modality: { slope: 1, intercept: 0 }, metadata: { modality: 'MR' } })).toBe('');
    expect(modalityUnit({ modality: { slope: 1, intercept: 0, unit: 'US' }, metadata: { modality: 'PT' } })).toBe('US');
    const mr = image(Int16Array.from([-5, 5, 15, 25]), 2);
    expect(roiStats(mr, 0, 'rectangle', { x: 0, y: 0 }, { x: 2, y: 2 })).toMatchObject({ mean: 10, min: -5, max: 25, unit: '' });
  });

  it('clips to the image and refuses colour images', () => {
    const s = roiStats(ct, 0, 'rectangle', { x: -10, y: -10 }, { x: 1, y: 1 });
    expect(s.pixels).toBe(1);
    expect(s.mean).toBe(976);
    const rgb = image(new Uint8Array(12), 2, { samplesPerPixel: 3, photometric: 'RGB', rows: 2, columns: 2 });
    expect(() => roiStats(rgb, 0, 'rectangle', { x: 0, y: 0 }, { x: 1, y: 1 })).toThrow(/greyscale/);
  });
});
