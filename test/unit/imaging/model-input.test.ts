import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HALF_NORMALIZATION,
  IMAGENET_NORMALIZATION,
  findFundusFov,
  fitToSquare,
  frameToRgb8,
  normalizeToChw,
  prepareModelInput,
  resizeRgb,
} from '../../../core/imaging/model-input';
import { decodePhoto } from '../../../core/imaging/photo';
import type { DecodedImage, PixelArray } from '../../../core/imaging/types';
import { decodeImageFile } from '../../../core/imaging/decode-file';
import { DICOM_DIR, FUNDUS_DIR, REPO_ROOT } from '../../helpers/paths';

const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const IDENTITY_8BIT = { center: 128, width: 256 }; // LINEAR: ((x − 127.5)/255 + ½)·255 = x

function greyImage(frame: PixelArray, rows: number, columns: number, overrides: Partial<DecodedImage> = {}): DecodedImage {
  return {
    source: 'synthetic', kind: 'dicom', rows, columns, samplesPerPixel: 1, numberOfFrames: 1, frames: [frame],
    photometric: 'MONOCHROME2', bitsAllocated: 8, bitsStored: 8, signed: false, lossy: false,
    modality: { slope: 1, intercept: 0 }, voi: { windows: [IDENTITY_8BIT], luts: [], fn: 'LINEAR' }, metadata: {},
    ...overrides,
  };
}
/** Single-channel rows → RGB with equal channels, and back. */
const toRgb = (v: number[]) => Uint8Array.from(v.flatMap((x) => [x, x, x]));
const red = (rgb: Uint8Array) => Array.from(rgb.filter((_, i) => i % 3 === 0));

describe('resize', () => {
  it('shrinks by area averaging (2x2 blocks)', () => {
    const src = toRgb([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150]); // 4x4
    // Block means: (0+10+40+50)/4 = 25, (20+30+60+70)/4 = 45, (80+90+120+130)/4 = 105, (100+110+140+150)/4 = 125.
    expect(red(resizeRgb(src, 4, 4, 2, 2))).toEqual([25, 45, 105, 125]);
  });

  it('weights partial pixels by their overlap for non-integer ratios', () => {
    // 3 → 2: output 0 covers [0, 1.5): 2/3·0 + 1/3·90 = 30; output 1 covers [1.5, 3): 1/3·90 + 2/3·180 = 150.
    expect(red(resizeRgb(toRgb([0, 90, 180]), 3, 1, 2, 1))).toEqual([30, 150]);
  });

  it('enlarges bilinearly with half-pixel centres', () => {
    expect(red(resizeRgb(toRgb([0, 100]), 2, 1, 4, 1))).toEqual([0, 25, 75, 100]);
  });

  it('keeps a constant image constant at any ratio', () => {
    const src = new Uint8Array(37 * 23 * 3).fill(77);
    expect(new Set(resizeRgb(src, 37, 23, 16, 16))).toEqual(new Set([77]));
    expect(new Set(resizeRgb(src, 37, 23, 50, 61))).toEqual(new Set([77]));
  });
});

describe('aspect handling', () => {
  it('letterboxes a wide image, centred, with the pad value', () => {
    const out = fitToSquare(new Uint8Array(4 * 2 * 3).fill(200), 4, 2, 4, 'letterbox', 7);
    expect(red(out)).toEqual([7, 7, 7, 7, 200, 200, 200, 200, 200, 200, 200, 200, 7, 7, 7, 7]);
  });

  it('centre-crops a wide image', () => {
    // 6x1 → centred 1x1 square is column 2 (floor((6−1)/2)); resized to 2x2.
    expect(red(fitToSquare(toRgb([1, 2, 3, 4, 5, 6]), 6, 1, 2, 'crop'))).toEqual([3, 3, 3, 3]);
  });
});

describe('normalisation and layout', () => {
  it('writes NCHW planes with (v/255 − mean)/std', () => {
    const hwc = Uint8Array.from([0, 128, 255]); // one RGB pixel (S = 1)
    expect(Array.from(normalizeToChw(hwc, 1, HALF_NORMALIZATION))).toEqual([-1, Math.fround(128 / 127.5 - 1), 1]);
    const chw = normalizeToChw(Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]), 2, IMAGENET_NORMALIZATION);
    // Plane c holds channel c of pixels 0..3 in row-major order.
    expect(chw[0]).toBeCloseTo((10 / 255 - 0.485) / 0.229, 6);
    expect(chw[3]).toBeCloseTo((100 / 255 - 0.485) / 0.229, 6);
    expect(chw[4]).toBeCloseTo((20 / 255 - 0.456) / 0.224, 6);
    expect(chw[11]).toBeCloseTo((120 / 255 - 0.406) / 0.225, 6);
    expect(() => normalizeToChw(new Uint8Array(3), 1, { mean: [0, 0, 0], std: [1, 0, 1] })).toThrow(/std\[1\]/);
  });
});

describe('prepareModelInput on synthetic frames', () => {
  it('inverts MONOCHROME1 and replicates grey to three channels', () => {
    const im = greyImage(Uint8Array.from([0, 100, 200, 255]), 2, 2, { photometric: 'MONOCHROME1' });
    const { hwc, chw } = prepareModelInput(im, 0, { size: 2, normalization: HALF_NORMALIZATION });
    expect(Array.from(hwc)).toEqual([255, 255, 255, 155, 155, 155, 55, 55, 55, 0, 0, 0]);
    expect(chw[0]).toBe(1);
    expect(chw[4 + 3]).toBe(-1);
  });

  it('uses the first window preset, or min–max when the data have none', () => {
    const withPreset = greyImage(Int16Array.from([-1024, 40, 1000, 39]), 2, 2, {
      bitsAllocated: 16, bitsStored: 16, signed: true,
      voi: { windows: [{ center: 40, width: 400 }, { center: -600, width: 1500 }], luts: [], fn: 'LINEAR' },
    });
    expect(red(prepareModelInput(withPreset, 0, { size: 2 }).hwc)).toEqual([0, 128, 255, 127]);

    const raw = greyImage(Uint16Array.from([1000, 2000, 3000, 4000]), 2, 2, {
      bitsAllocated: 16, bitsStored: 12, voi: { windows: [], luts: [], fn: 'LINEAR' },
    });
    // Window centre 2500.5, width 3001: 1000 → 0, 2000 → 85, 3000 → 170, 4000 → 255.
    expect(red(prepareModelInput(raw, 0, { size: 2 }).hwc)).toEqual([0, 85, 170, 255]);
  });

  it('keeps a grey photo\'s raw 8-bit values by default and stretches it per image only when asked', () => {
    const png = greyImage(Uint8Array.from([50, 60, 80, 100]), 2, 2, { kind: 'photo', voi: { windows: [], luts: [], fn: 'LINEAR' } });
    expect(red(prepareModelInput(png, 0, { size: 2 }).hwc)).toEqual([50, 60, 80, 100]);
    expect(red(prepareModelInput(png, 0, { size: 2, intensity: 'auto' }).hwc)).toEqual([50, 60, 80, 100]);
    // Window centre 75.5, width 51: 50 → 0, 100 → 255.
    expect(red(prepareModelInput(png, 0, { size: 2, intensity: 'stretch' }).hwc)).toEqual([0, 51, 153, 255]);
    // DICOM keeps its VOI window under 'auto' and is stretched under 'stretch'.
    const dicom = greyImage(Uint8Array.from([50, 60, 80, 100]), 2, 2);
    expect(red(prepareModelInput(dicom, 0, { size: 2 }).hwc)).toEqual([50, 60, 80, 100]);
    expect(red(prepareModelInput(dicom, 0, { size: 2, intensity: 'stretch' }).hwc)).toEqual([0, 51, 153, 255]);
  });

  it('refuses a bad size', () => {
    expect(() => prepareModelInput(greyImage(Uint8Array.of(1), 1, 1), 0, { size: 0 })).toThrow(RangeError);
  });
});

describe('prepareModelInput on DRIVE fundus photographs', () => {
  const decode = async (rel: string) => decodePhoto(new Uint8Array(readFileSync(path.join(DRIVE, rel))), rel);

  it('finds the field of view where the DRIVE FOV mask says it is', async () => {
    for (const id of ['21', '30', '40']) {
      const photo = await decode(`images/${id}_training.tif`);
      const mask = await decode(`mask/${id}_training_mask.gif`);
      let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      mask.frames[0].forEach((v, i) => {
        if (v === 0) return;
        const x = i % mask.columns, y = Math.floor(i / mask.columns);
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      });
      const { width, height, rgb } = frameToRgb8(photo);
      const fov = findFundusFov(rgb, width, height);
      expect(fov, id).toBeDefined();
      // The published masks are drawn slightly inside the visible disc; allow a few pixels.
      expect(Math.abs(fov!.x - x0), id).toBeLessThanOrEqual(4);
      expect(Math.abs(fov!.y - y0), id).toBeLessThanOrEqual(4);
      expect(Math.abs(fov!.x + fov!.width - 1 - x1), id).toBeLessThanOrEqual(4);
      expect(Math.abs(fov!.y + fov!.height - 1 - y1), id).toBeLessThanOrEqual(4);
    }
  });

  it('is deterministic and consistent between the cached and float forms', async () => {
    const options = { size: 224, fundusFov: true, normalization: IMAGENET_NORMALIZATION } as const;
    const a = prepareModelInput(await decode('images/21_training.tif'), 0, options);
    const b = prepareModelInput(await decode('images/21_training.tif'), 0, options);
    const hash = (x: ArrayBufferView) => createHash('sha256').update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest('hex');
    expect(hash(a.hwc)).toBe(hash(b.hwc));
    expect(hash(a.chw)).toBe(hash(b.chw));
    expect(a.hwc).toHaveLength(224 * 224 * 3);
    expect(a.chw).toHaveLength(3 * 224 * 224);
    expect(Array.from(normalizeToChw(a.hwc, 224))).toEqual(Array.from(a.chw));
    // Centre is retina (red-dominant), corners are outside the disc (dark).
    const at = (x: number, y: number) => Array.from(a.hwc.subarray((y * 224 + x) * 3, (y * 224 + x) * 3 + 3));
    const [r, g, bl] = at(112, 112);
    expect(r).toBeGreaterThan(g);
    expect(r).toBeGreaterThan(bl);
    expect(Math.max(...at(0, 0), ...at(223, 223))).toBeLessThan(20);
  });
});

describe.skipIf(!existsSync(path.join(REPO_ROOT, 'core', 'imaging', 'dicom', 'index.ts')))('prepareModelInput on real DICOM', () => {
  it('windows a CT with its first preset and a MONOCHROME1 CR inverted, letterboxed to S', async () => {
    const ct = await decodeImageFile(path.join(DICOM_DIR, 'octave_dicom_debian', 'CT-MONO2-16-ankle.dcm'));
    const a = prepareModelInput(ct, 0, { size: 64 });
    const b = prepareModelInput(ct, 0, { size: 64 });
    expect(Buffer.from(a.hwc).equals(Buffer.from(b.hwc))).toBe(true);
    // Grey in, grey out: the three channels are equal everywhere.
    for (let i = 0; i < a.hwc.length; i += 3) expect(a.hwc[i] === a.hwc[i + 1] && a.hwc[i] === a.hwc[i + 2]).toBe(true);
    expect(new Set(a.hwc).size).toBeGreaterThan(20);

    const cr = await decodeImageFile(path.join(DICOM_DIR, 'pydicom_debian', 'dicomdirtests', '77654033', 'CR1', '6154'));
    expect(cr.photometric).toBe('MONOCHROME1');
    const asMono2 = prepareModelInput({ ...cr, photometric: 'MONOCHROME2' }, 0, { size: 16 });
    const asMono1 = prepareModelInput(cr, 0, { size: 16 });
    for (let i = 0; i < asMono1.hwc.length; i++) expect(asMono1.hwc[i]).toBe(255 - asMono2.hwc[i]);
  });
});
