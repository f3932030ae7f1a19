import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../core/util/prng';
import { HALF_NORMALIZATION } from '../../../core/imaging/model-input';
import {
  AUGMENTATION_PRESETS,
  applyAugmentation,
  augmentToChw,
  drawAugmentation,
  NO_AUGMENTATION,
  type AugmentationDraw,
} from '../../../core/train/augment';

const S = 8;
/** A gradient image: R = x*30, G = y*30, B = 100. */
function gradient(): Uint8Array {
  const img = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const o = (y * S + x) * 3;
      img[o] = x * 30;
      img[o + 1] = y * 30;
      img[o + 2] = 100;
    }
  return img;
}
const base: AugmentationDraw = { cropW: S, cropH: S, cropX: 0, cropY: 0, flipX: false, flipY: false, angle: 0, brightness: 0, contrast: 1 };
const px = (img: Uint8Array, x: number, y: number) => Array.from(img.subarray((y * S + x) * 3, (y * S + x) * 3 + 3));

describe('augmentation', () => {
  it('is the identity when nothing is drawn', () => {
    const img = gradient();
    expect(applyAugmentation(img, S, base)).toBe(img);
    const drawn = drawAugmentation(NO_AUGMENTATION, S, seededRandom(1));
    expect(applyAugmentation(img, S, drawn)).toBe(img);
  });

  it('flips exactly', () => {
    const img = gradient();
    const h = applyAugmentation(img, S, { ...base, flipX: true });
    expect(px(h, 0, 3)).toEqual(px(img, 7, 3));
    expect(px(h, 7, 5)).toEqual(px(img, 0, 5));
    const v = applyAugmentation(img, S, { ...base, flipY: true });
    expect(px(v, 2, 0)).toEqual(px(img, 2, 7));
  });

  it('rotates by 90° exactly (pixel centres map onto pixel centres)', () => {
    const img = gradient();
    const r = applyAugmentation(img, S, { ...base, angle: Math.PI / 2 });
    // out(x, y) = src(S-1-y, x) for a 90° turn about the centre.
    for (const [x, y] of [[1, 2], [0, 0], [7, 3]]) expect(px(r, x, y)).toEqual(px(img, S - 1 - y, x));
  });

  it('zooms into a crop', () => {
    const img = gradient();
    const z = applyAugmentation(img, S, { ...base, cropW: 4, cropH: 4, cropX: 4, cropY: 0 });
    // The right half is stretched over the whole width: red starts at x=4 (120) and grows.
    expect(px(z, 0, 0)[0]).toBeGreaterThanOrEqual(110);
    expect(px(z, 7, 0)[0]).toBeGreaterThanOrEqual(200);
  });

  it('changes brightness and contrast around mid-grey, clamped', () => {
    const img = gradient();
    const b = applyAugmentation(img, S, { ...base, brightness: 20 });
    expect(px(b, 0, 0)).toEqual([20, 20, 120]);
    const c = applyAugmentation(img, S, { ...base, contrast: 2 });
    expect(px(c, 7, 7)).toEqual([255, 255, 72]);
  });

  it('draws within the configured ranges, reproducibly from a seed', () => {
    const cfg = AUGMENTATION_PRESETS.fundus;
    const a = drawAugmentation(cfg, 224, seededRandom('x'));
    const b = drawAugmentation(cfg, 224, seededRandom('x'));
    expect(a).toEqual(b);
    for (let i = 0; i < 200; i++) {
      const d = drawAugmentation(cfg, 224, seededRandom(i));
      expect((d.cropW * d.cropH) / 224 / 224).toBeLessThanOrEqual(1.0001);
      expect(d.cropX).toBeGreaterThanOrEqual(0);
      expect(d.cropX + d.cropW).toBeLessThanOrEqual(224.0001);
      expect(Math.abs(d.angle)).toBeLessThanOrEqual((15 * Math.PI) / 180);
    }
    const cxr = drawAugmentation(AUGMENTATION_PRESETS.radiograph, 224, seededRandom(3));
    expect(cxr.flipX).toBe(false);
  });

  it('normalises to CHW', () => {
    const chw = augmentToChw(gradient(), S, HALF_NORMALIZATION, null);
    expect(chw.length).toBe(3 * S * S);
    expect(chw[0]).toBeCloseTo(-1, 6); // R at (0,0) = 0
    expect(chw[2 * S * S]).toBeCloseTo(100 / 255 / 0.5 - 1, 6); // B plane
  });
});
