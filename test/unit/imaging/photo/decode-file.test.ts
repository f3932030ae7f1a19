import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageBytes, decodeImageFile, detectImageKind } from '../../../../core/imaging/decode-file';
import { DICOM_DIR, FUNDUS_DIR } from '../../../helpers/paths';


describe('decodeImageFile / decodeImageBytes', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'medtune-decode-file-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('picks the photo decoder by content, not by extension', async () => {
    const misnamed = path.join(tmp, 'fundus.dcm');
    writeFileSync(misnamed, readFileSync(path.join(FUNDUS_DIR, 'skimage', 'retina.jpg')));
    const im = await decodeImageFile(misnamed);
    expect(im).toMatchObject({ kind: 'photo', source: misnamed, columns: 1411, samplesPerPixel: 3 });
    expect(im.metadata.photoFormat).toBe('jpeg');
  });

  it('treats a Part 10 file as DICOM even when its preamble holds a TIFF header', async () => {
    const bytes = new Uint8Array(200);
    bytes.set([0x49, 0x49, 0x2a, 0x00]); // TIFF signature in the preamble (allowed by PS3.10)
    bytes.set([0x44, 0x49, 0x43, 0x4d], 128);
    expect(await detectImageKind(bytes)).toBe('dicom');
    expect(await detectImageKind(readFileSync(path.join(FUNDUS_DIR, 'DRIVE', 'training', 'mask', '21_training_mask.gif')))).toBe('photo');
  });

  it('names the file in every error', async () => {
    const missing = path.join(tmp, 'nope.tif');
    await expect(decodeImageFile(missing)).rejects.toMatchObject({ name: 'ImagingError', file: missing, code: 'unreadable' });
    await expect(decodeImageFile(missing)).rejects.toThrow(/ENOENT/);
    await expect(decodeImageBytes(new Uint8Array(0), 'empty.png')).rejects.toMatchObject({ file: 'empty.png', code: 'truncated' });
    const text = new TextEncoder().encode('just text, certainly not an image; '.repeat(10));
    await expect(decodeImageBytes(text, 'notes.txt')).rejects.toMatchObject({ name: 'ImagingError', file: 'notes.txt' });
  });

  it('hands DICOM to the DICOM decoder and refuses non-images as unsupported', async () => {
    const file = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');
    const im = await decodeImageFile(file);
    expect(im).toMatchObject({ kind: 'dicom', rows: 128, columns: 128, source: file });
    const text = new TextEncoder().encode('just text, certainly not an image; '.repeat(10));
    await expect(decodeImageBytes(text, 'notes.txt')).rejects.toMatchObject({ code: 'unsupported' });
  });
});
