/** Every decodable DICOM file of the shared set and the DRIVE photos render without error, at the right size. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../../core/imaging/decode-file';
import { frameStats, renderFrame } from '../../../core/imaging/display';
import { ImagingError } from '../../../core/imaging/types';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));

describe('renderFrame on real files', () => {
  it('renders frame 0 and the last frame of every decodable DICOM file', async () => {
    let rendered = 0;
    for (const file of walk(DICOM_DIR).filter((f) => !/\.(json|txt)$/.test(f))) {
      let image;
      try {
        image = await decodeImageFile(file);
      } catch (err) {
        expect(err, file).toBeInstanceOf(ImagingError); // not decodable: fine here, the DICOM tests judge that
        continue;
      }
      for (const frame of new Set([0, image.frames.length - 1])) {
        const out = renderFrame(image, frame);
        expect([out.width, out.height], file).toEqual([image.columns, image.rows]);
        expect(out.rgba.length, file).toBe(image.columns * image.rows * 4);
        expect(Number.isFinite(frameStats(image, frame).mean), file).toBe(true);
      }
      rendered++;
    }
    expect(rendered).toBeGreaterThan(80);
  });

  it('renders the DRIVE photos unchanged (full range, no window)', async () => {
    const dir = path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images');
    const file = path.join(dir, readdirSync(dir).sort()[0]);
    const image = await decodeImageFile(file);
    const { rgba } = renderFrame(image, 0);
    const rgb = image.frames[0];
    for (let p = 0; p < image.rows * image.columns; p += 997) {
      expect([rgba[p * 4], rgba[p * 4 + 1], rgba[p * 4 + 2], rgba[p * 4 + 3]]).toEqual([rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2], 255]);
    }
  });
});
