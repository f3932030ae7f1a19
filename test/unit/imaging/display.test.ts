import { describe, expect, it } from 'vitest';
import {
  applyWindow,
  defaultWindow,
  frameStats,
  lutLookup,
  modalityValue,
  renderFrame,
  toDisplayPixels,
  ybrFullToRgb,
} from '../../../core/imaging/display';
import { ImagingError, type DecodedImage, type PixelArray } from '../../../core/imaging/types';

/** A synthetic image: one row of `pixels` samples (grey unless overridden). */
function image(frame: PixelArray, overrides: Partial<DecodedImage> = {}): DecodedImage {
  const samplesPerPixel = overrides.samplesPerPixel ?? 1;
  return {
    source: 'synthetic',
    kind: 'dicom',
    rows: 1,
    columns: frame.length / samplesPerPixel,
    samplesPerPixel,
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
const grey = (im: DecodedImage, options = {}) => Array.from(toDisplayPixels(im, 0, options).data);

describe('VOI windowing (PS3.3 C.11.2.1.2)', () => {
  // CT stored values with intercept −1024: HU −1024, −160, −100, 39, 40, 239, 240, 976.
  const ct = (fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' = 'LINEAR', photometric: 'MONOCHROME1' | 'MONOCHROME2' = 'MONOCHROME2') =>
    image(Int16Array.from([0, 864, 924, 1063, 1064, 1263, 1264, 2000]), {
      modality: { slope: 1, intercept: -1024, unit: 'HU' },
      voi: { windows: [{ center: 40, width: 400 }], luts: [], fn },
      photometric,
    });

  it('LINEAR window 40/400 on HU', () => {
    // Thresholds −160 (≤ → 0) and 239 (> → 255); ramp ((x − 39.5)/399 + ½)·255: −100 → 38.35, 39 → 127.18, 40 → 127.82.
    expect(grey(ct())).toEqual([0, 0, 38, 127, 128, 255, 255, 255]);
  });

  it('LINEAR_EXACT window 40/400', () => {
    // ((x − 40)/400 + ½)·255: −100 → 38.25, 39 → 126.86, 40 → 127.5 (rounds up), 239 → 254.36, 240 → 255.
    expect(grey(ct('LINEAR_EXACT'))).toEqual([0, 0, 38, 127, 128, 254, 255, 255]);
  });

  it('SIGMOID window 40/400', () => {
    expect(applyWindow(40, { center: 40, width: 400 }, 'SIGMOID')).toBeCloseTo(127.5, 10);
    expect(applyWindow(140, { center: 40, width: 400 }, 'SIGMOID')).toBeCloseTo(255 / (1 + Math.exp(-1)), 10); // 186.42
    expect(Math.round(applyWindow(-60, { center: 40, width: 400 }, 'SIGMOID'))).toBe(69); // 255/(1+e) = 68.58
  });

  it('MONOCHROME1 is inverted, and the user invert undoes it', () => {
    expect(grey(ct('LINEAR', 'MONOCHROME1'))).toEqual([255, 255, 217, 128, 127, 0, 0, 0]);
    expect(grey(ct('LINEAR', 'MONOCHROME1'), { invert: true })).toEqual([0, 0, 38, 127, 128, 255, 255, 255]);
    expect(grey(ct(), { invert: true })).toEqual([255, 255, 217, 128, 127, 0, 0, 0]);
  });

  it('a user window overrides the preset', () => {
    // Window 0/2: thresholds −1 and 0, so HU ≤ −1 → 0 and HU > 0 → 255.
    expect(grey(ct(), { window: { center: 0, width: 2 } })).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
  });

  it('defaults to the min–max of modality values when there is no window', () => {
    const im = image(Uint16Array.from([100, 150, 200, 300]), { modality: { slope: 2, intercept: -50 } });
    // modality values 150, 250, 350, 550 → window centre 350.5, width 401.
    expect(defaultWindow(im)).toEqual({ center: 350.5, width: 401 });
    const out = grey(im);
    expect(out[0]).toBe(0);
    expect(out[3]).toBe(255);
    expect(out[1]).toBe(Math.round(((250 - 350) / 400 + 0.5) * 255)); // 63.75 → 64
  });
});

describe('stored values', () => {
  it('uses only Bits Stored bits, sign-extended when signed', () => {
    // 12-bit signed in 16-bit words with unmasked high bits: 0x0FFF is −1, 0xF800 is −2048, 0x07FF is 2047.
    const signed = image(Int16Array.from([0x0fff, -2048, 0x07ff, 5]), { bitsStored: 12, signed: true });
    expect(frameStats(signed)).toMatchObject({ min: -2048, max: 2047 });
    expect(grey(signed, { window: { center: 0, width: 1 } })).toEqual([0, 0, 255, 255]);
    // Unsigned 12-bit with an overlay bit set above the high bit: 0x1005 is 5.
    const unsigned = image(Uint16Array.from([0x1005, 5, 4095]), { bitsStored: 12 });
    expect(frameStats(unsigned)).toMatchObject({ min: 5, max: 4095 });
    const out = grey(unsigned);
    expect(out[0]).toBe(out[1]);
  });
});

describe('modality and VOI LUTs', () => {
  const mlut = { firstMapped: 10, bitsPerEntry: 16, data: Uint16Array.from([100, 200, 300]) };

  it('Modality LUT clamps below and above its range and replaces slope/intercept', () => {
    const im = image(Uint16Array.from([5, 10, 11, 12, 20]), { modality: { slope: 7, intercept: 9, lut: mlut } });
    expect([5, 10, 11, 12, 20].map((v) => modalityValue(im, v))).toEqual([100, 100, 200, 300, 300]);
    expect(frameStats(im)).toMatchObject({ min: 100, max: 300, mean: 200, count: 5 });
    expect(lutLookup(mlut, 11)).toBe(200);
  });

  it('VOI LUT is used when there is no window, scaled by its entry bits', () => {
    const luts = [
      { firstMapped: 0, bitsPerEntry: 12, data: Uint16Array.from([0, 2048, 4095]) },
      { firstMapped: 0, bitsPerEntry: 8, data: Uint8Array.from([255, 128, 0]) },
    ];
    const im = image(Uint16Array.from([0, 1, 2, 3]), { voi: { windows: [], luts, fn: 'LINEAR' } });
    expect(grey(im)).toEqual([0, 128, 255, 255]); // 2048·255/4095 = 127.53
    expect(grey(im, { voiLutIndex: 1 })).toEqual([255, 128, 0, 0]);
    expect(() => grey(im, { voiLutIndex: 5 })).toThrow(RangeError);
  });
});

describe('colour', () => {
  it('applies a 3-entry 8-bit palette', () => {
    const palette = {
      red: { firstMapped: 0, bitsPerEntry: 8, data: Uint8Array.from([255, 0, 0]) },
      green: { firstMapped: 0, bitsPerEntry: 8, data: Uint8Array.from([0, 255, 0]) },
      blue: { firstMapped: 0, bitsPerEntry: 8, data: Uint8Array.from([0, 0, 255]) },
    };
    const im = image(Uint8Array.from([0, 1, 2, 7]), { photometric: 'PALETTE COLOR', palette, bitsAllocated: 8, bitsStored: 8 });
    expect(grey(im)).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255]);
    expect(grey(im, { greenOnly: true })).toEqual([0, 255, 0, 0]);
  });

  it('applies a 16-bit palette with a first mapped value', () => {
    const lut = (d: number[]) => ({ firstMapped: 100, bitsPerEntry: 16, data: Uint16Array.from(d) });
    const palette = { red: lut([65535, 0, 32896]), green: lut([0, 65535, 32896]), blue: lut([0, 0, 257]) };
    const im = image(Uint16Array.from([100, 101, 102, 50]), { photometric: 'PALETTE COLOR', palette });
    expect(grey(im)).toEqual([255, 0, 0, 0, 255, 0, 128, 128, 1, 255, 0, 0]);
  });

  it('converts YBR_FULL to RGB (BT.601 full range)', () => {
    expect(ybrFullToRgb(128, 128, 128)).toEqual([128, 128, 128]);
    expect(ybrFullToRgb(76, 85, 255)).toEqual([254, 0, 0]); // ≈ pure red
    expect(ybrFullToRgb(29, 255, 107)).toEqual([0, 0, 254]); // ≈ pure blue
    expect(ybrFullToRgb(255, 128, 128)).toEqual([255, 255, 255]);
    const im = image(Uint8Array.from([76, 85, 255, 29, 255, 107]), { photometric: 'YBR_FULL_422', samplesPerPixel: 3, bitsStored: 8 });
    expect(grey(im)).toEqual([254, 0, 0, 0, 0, 254]);
  });

  it('scales 16-bit RGB by its stored range, and windows colour per channel on request', () => {
    const im = image(Uint16Array.from([65535, 32896, 0]), { photometric: 'RGB', samplesPerPixel: 3 });
    expect(grey(im)).toEqual([255, 128, 0]);
    const rgb8 = image(Uint8Array.from([10, 100, 200]), { photometric: 'RGB', samplesPerPixel: 3, bitsStored: 8 });
    expect(grey(rgb8)).toEqual([10, 100, 200]);
    expect(grey(rgb8, { invert: true })).toEqual([245, 155, 55]);
    expect(grey(rgb8, { window: { center: 100, width: 1 } })).toEqual([0, 255, 255]);
  });
});

describe('renderFrame and frameStats', () => {
  it('gives RGBA with opaque alpha; grey replicated to three channels', () => {
    const im = image(Uint8Array.from([0, 255, 0, 255, 0, 255]), {
      rows: 2, columns: 3, bitsStored: 8, voi: { windows: [{ center: 128, width: 256 }], luts: [], fn: 'LINEAR' },
    });
    const out = renderFrame(im, 0);
    expect(out.width).toBe(3);
    expect(out.height).toBe(2);
    expect(out.rgba).toBeInstanceOf(Uint8ClampedArray);
    expect(Array.from(out.rgba.subarray(0, 8))).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
  });

  it('green-only shows the green channel of a colour frame as grey', () => {
    const im = image(Uint8Array.from([200, 50, 10, 30, 120, 60]), { photometric: 'RGB', samplesPerPixel: 3, bitsStored: 8 });
    expect(Array.from(renderFrame(im, 0, { greenOnly: true }).rgba)).toEqual([50, 50, 50, 255, 120, 120, 120, 255]);
  });

  it('computes stats of modality values, and per channel for colour', () => {
    const im = image(Int16Array.from([0, 10, 20, 30]), { modality: { slope: 1, intercept: -1024 } });
    const s = frameStats(im);
    expect(s).toMatchObject({ min: -1024, max: -994, mean: -1009, count: 4 });
    expect(s.stdDev).toBeCloseTo(Math.sqrt(125), 10);
    const rgb = image(Uint8Array.from([1, 2, 3, 5, 6, 7]), { photometric: 'RGB', samplesPerPixel: 3 });
    const c = frameStats(rgb);
    expect(c.channels?.map((x) => x.mean)).toEqual([3, 4, 5]);
    expect(c).toMatchObject({ min: 1, max: 7, count: 6 });
  });

  it('refuses missing frames and short frames, naming the source', () => {
    const im = image(Uint8Array.from([1, 2]), { columns: 4 });
    expect(() => renderFrame(im, 0)).toThrow(ImagingError);
    expect(() => renderFrame(im, 0)).toThrow(/^synthetic: frame 0 holds 2 samples, expected 4/);
    expect(() => renderFrame(image(Uint8Array.from([1])), 3)).toThrow(RangeError);
  });
});
