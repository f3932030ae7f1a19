/**
 * Cross-check of the display pipeline against an independent renderer, Debian's dcmtk `dcm2pnm`, on real DICOM
 * files. dcmtk quantises by truncation where we round, so single pixels may differ by 1 (2 for YBR→RGB).
 * Skipped where dcmtk (apt-get install dcmtk) or the DICOM decoder is not available.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../../core/imaging/decode-file';
import { toDisplayPixels } from '../../../core/imaging/display';
import { DICOM_DIR } from '../../helpers/paths';

const hasDcmtk = !spawnSync('dcm2pnm', ['--version'], { stdio: 'ignore' }).error;

/** Binary PGM (P5) or PPM (P6), 8-bit. */
function readPnm(file: string): { channels: number; width: number; height: number; data: Uint8Array } {
  const bytes = readFileSync(file);
  const tokens: string[] = [];
  let pos = 0;
  while (tokens.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[pos]))) pos++;
    if (bytes[pos] === 0x23) {
      while (bytes[pos] !== 0x0a) pos++;
      continue;
    }
    let token = '';
    while (!/\s/.test(String.fromCharCode(bytes[pos]))) token += String.fromCharCode(bytes[pos++]);
    tokens.push(token);
  }
  return { channels: tokens[0] === 'P6' ? 3 : 1, width: +tokens[1], height: +tokens[2], data: new Uint8Array(bytes.subarray(pos + 1)) };
}

const cases: { file: string; dcmtkArgs: string[]; maxDiff: number }[] = [
  { file: 'octave_dicom_debian/CT-MONO2-16-ankle.dcm', dcmtkArgs: ['+Wi', '1'], maxDiff: 1 }, // CT, window from the file
  { file: 'pydicom_debian/dicomdirtests/77654033/CR1/6154', dcmtkArgs: ['+Wi', '1'], maxDiff: 1 }, // MONOCHROME1
  { file: 'pydicom_data/vlut_04.dcm', dcmtkArgs: ['+Wl', '1'], maxDiff: 1 }, // VOI LUT sequence
  { file: 'pydicom_data/emri_small.dcm', dcmtkArgs: ['+Wm'], maxDiff: 1 }, // no window: min–max
  { file: 'pydicom_data/mlut_18.dcm', dcmtkArgs: ['+Wm'], maxDiff: 1 }, // Modality LUT; 12-bit signed, unmasked high bits
  { file: 'pydicom_data/OBXXXX1A.dcm', dcmtkArgs: [], maxDiff: 1 }, // PALETTE COLOR
  { file: 'pydicom_data/OT-PAL-8-face.dcm', dcmtkArgs: [], maxDiff: 1 }, // PALETTE COLOR, no file meta
  { file: 'pydicom_data/SC_ybr_full_uncompressed.dcm', dcmtkArgs: [], maxDiff: 2 }, // YBR_FULL
  { file: 'pydicom_debian/SC_ybr_full_422_uncompressed.dcm', dcmtkArgs: [], maxDiff: 2 }, // YBR_FULL_422
  { file: 'pydicom_debian/SC_rgb_rle_16bit.dcm', dcmtkArgs: [], maxDiff: 0 }, // 16-bit RGB
];

describe.skipIf(!hasDcmtk)('display pipeline agrees with dcmtk dcm2pnm', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'medtune-dcm2pnm-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const { file, dcmtkArgs, maxDiff } of cases) {
    it(file, async () => {
      const source = path.join(DICOM_DIR, file);
      const out = path.join(tmp, `${path.basename(file)}.pnm`);
      const run = spawnSync('dcm2pnm', [...dcmtkArgs, source, out], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const reference = readPnm(out);
      const ours = toDisplayPixels(await decodeImageFile(source), 0);
      expect([ours.width, ours.height, ours.channels]).toEqual([reference.width, reference.height, reference.channels]);
      let max = 0;
      for (let i = 0; i < ours.data.length; i++) max = Math.max(max, Math.abs(ours.data[i] - reference.data[i]));
      expect(max).toBeLessThanOrEqual(maxDiff);
    });
  }
});
