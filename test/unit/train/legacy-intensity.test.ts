import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../../core/imaging/decode-file';
import { toDisplayPixels } from '../../../core/imaging/display';
import { prepareModelInput } from '../../../core/imaging/model-input';
import type { AdapterVersion } from '../../../core/store';
import { InputCache } from '../../../core/train/input-cache';
import { versionManifest } from '../../../core/train/model-loader';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';

// A real grey PNG (the green channel of a fundus crop) and a real CT slice with a VOI window.
const GREY_PNG = path.join(FUNDUS_DIR, 'skimage', 'microaneurysms.png');
const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-legacy-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const version = (preprocessing: Record<string, unknown>) =>
  ({ id: 7, config: { adapter: { method: 'linear' }, backbone: { id: 1, sha256: 'a'.repeat(64) }, preprocessing } }) as unknown as AdapterVersion;

describe("versions trained before 'intensity' existed", () => {
  it("are read with intensity 'legacy'; newer manifests keep theirs", () => {
    expect(versionManifest(version({ size: 224, aspect: 'letterbox', fundusFov: false })).preprocessing.intensity).toBe('legacy');
    expect(versionManifest(version({ size: 224, aspect: 'letterbox', fundusFov: false, intensity: 'auto' })).preprocessing.intensity).toBe('auto');
  });

  it("'legacy' reproduces the old preprocessing: the display's default window (a grey PNG min–max stretched, DICOM by its VOI)", async () => {
    for (const file of [GREY_PNG, CT]) {
      const image = await decodeImageFile(file);
      // What the model input was built from before the mode existed: toDisplayPixels with no options.
      const old = toDisplayPixels(image, 0);
      const legacy = prepareModelInput(image, 0, { size: image.columns, aspect: 'letterbox', intensity: 'legacy' }).hwc;
      const grey = Uint8Array.from({ length: legacy.length / 3 }, (_, i) => legacy[i * 3]);
      expect(old.channels).toBe(1);
      expect(Buffer.from(grey).equals(Buffer.from(old.data)), path.basename(file)).toBe(true);
    }
    // The grey PNG does not span 0..255, so 'auto' (raw 8-bit) differs from the stretched legacy input.
    const png = await decodeImageFile(GREY_PNG);
    const auto = prepareModelInput(png, 0, { size: png.columns, intensity: 'auto' }).hwc;
    const legacy = prepareModelInput(png, 0, { size: png.columns, intensity: 'legacy' }).hwc;
    expect(Buffer.from(auto).equals(Buffer.from(legacy))).toBe(false);
    expect(Math.min(...legacy)).toBe(0);
    expect(Math.max(...legacy)).toBe(255);
    expect(Math.max(...auto) - Math.min(...auto)).toBeLessThan(255);
  });

  it('a legacy version is predicted from inputs prepared as it was trained (its own input cache folder)', async () => {
    const manifest = versionManifest(version({ size: 64, aspect: 'letterbox', fundusFov: false }));
    const legacyCache = new InputCache(tmp, manifest.preprocessing);
    const autoCache = new InputCache(tmp, { ...manifest.preprocessing, intensity: 'auto' });
    expect(legacyCache.dir).not.toBe(autoCache.dir);
    const c = { id: 1, blobPath: GREY_PNG, blobSha256: 'b'.repeat(64), frameCount: 1 };
    const png = await decodeImageFile(GREY_PNG);
    expect(Buffer.from(await legacyCache.compute(c)).equals(Buffer.from(prepareModelInput(png, 0, { size: 64, intensity: 'stretch' }).hwc))).toBe(true);
  });
});
