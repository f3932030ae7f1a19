import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePhoto, detectPhotoFormat } from '../../../../core/imaging/photo';
import { ImagingError, type DecodedImage } from '../../../../core/imaging/types';
import { FUNDUS_DIR } from '../../../helpers/paths';

const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const read = (p: string) => new Uint8Array(readFileSync(p));
const sha256 = (a: ArrayBufferView) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
const pixel = (im: DecodedImage, x: number, y: number) => {
  const i = (y * im.columns + x) * im.samplesPerPixel;
  return Array.from(im.frames[0].subarray(i, i + im.samplesPerPixel));
};

// Expected values below were produced independently with Pillow 9.4 (Debian python3-pil):
// Image.open(f).tobytes() (GIF masks converted to 'L'), hashed with sha256, and getpixel((x, y)).
describe('decodePhoto on real fundus data', () => {
  it('decodes DRIVE 21_training.tif as 565x584 RGB, byte-identical to Pillow', async () => {
    const file = path.join(DRIVE, 'images', '21_training.tif');
    const im = await decodePhoto(read(file), file);
    expect(im).toMatchObject({
      kind: 'photo', columns: 565, rows: 584, samplesPerPixel: 3, numberOfFrames: 1, photometric: 'RGB',
      bitsAllocated: 8, bitsStored: 8, signed: false, lossy: false, source: file,
    });
    expect(im.metadata).toMatchObject({ photoFormat: 'tiff', exifOrientation: 1 });
    expect(im.voi.windows).toEqual([]);
    expect(im.frames[0]).toBeInstanceOf(Uint8Array);
    expect(pixel(im, 282, 292)).toEqual([199, 110, 66]);
    expect(pixel(im, 100, 300)).toEqual([245, 149, 89]);
    expect(sha256(im.frames[0])).toBe('1f85335253132351be931aa365fc5095f8e0b5137351429e0b9829d6f07cc146');
  });

  it('decodes all 20 DRIVE training images as 565x584 colour', async () => {
    const dir = path.join(DRIVE, 'images');
    const files = readdirSync(dir).filter((f) => f.endsWith('.tif'));
    expect(files).toHaveLength(20);
    for (const f of files) {
      const im = await decodePhoto(read(path.join(dir, f)), f);
      expect([im.columns, im.rows, im.samplesPerPixel], f).toEqual([565, 584, 3]);
      // Fundus photographs are red-dominant: mean red well above mean blue.
      const px = im.frames[0];
      let red = 0, blue = 0;
      for (let i = 0; i < px.length; i += 3) { red += px[i]; blue += px[i + 2]; }
      expect(red, f).toBeGreaterThan(2 * blue);
    }
  });

  it('decodes DRIVE GIF masks as one-sample 0/255 images (Pillow counts)', async () => {
    const fov = await decodePhoto(read(path.join(DRIVE, 'mask', '21_training_mask.gif')), 'mask');
    expect(fov).toMatchObject({ columns: 565, rows: 584, samplesPerPixel: 1, photometric: 'MONOCHROME2' });
    expect(fov.metadata.photoFormat).toBe('gif');
    const counts = new Map<number, number>();
    for (const v of fov.frames[0]) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ 0: 104360, 255: 225600 });
    expect(sha256(fov.frames[0])).toBe('5d70c2749640647f725269ffbe009d97884345a1c208273bf5e4dfab63bfccff');

    const vessels = await decodePhoto(read(path.join(DRIVE, '1st_manual', '21_manual1.gif')), 'manual');
    expect(sha256(vessels.frames[0])).toBe('fa8d65fd009ae14e109a1c694c09b457e46da2b2384606ce43a066dcf10554bc');
  });

  it('decodes skimage retina.jpg (1411x1411 colour JPEG) identically to Pillow/libjpeg-turbo', async () => {
    const im = await decodePhoto(read(path.join(FUNDUS_DIR, 'skimage', 'retina.jpg')), 'retina.jpg');
    expect(im).toMatchObject({ columns: 1411, rows: 1411, samplesPerPixel: 3, photometric: 'RGB', lossy: true });
    expect(pixel(im, 282, 292)).toEqual([209, 87, 66]);
    expect(sha256(im.frames[0])).toBe('3670e389d0dae9f755cc1bb7e4da4c3d2cdf10eba2dc3060836d8d4b8024d860');
  });

  it('decodes a greyscale PNG as one sample', async () => {
    const im = await decodePhoto(read(path.join(FUNDUS_DIR, 'skimage', 'microaneurysms.png')), 'm.png');
    expect(im).toMatchObject({ columns: 102, rows: 102, samplesPerPixel: 1, photometric: 'MONOCHROME2' });
    expect(sha256(im.frames[0])).toBe('78db349f8ec2c55042ac896f290f733590d2cf12b63e1a965200ae164a4eae09');
  });
});

describe('decodePhoto on generated files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'medtune-photo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies EXIF orientation 6 (rotate 90° clockwise) and records it', async () => {
    // 64 wide x 32 high: left half red, right half blue. Rotated clockwise, the left half becomes the top.
    const w = 64, h = 32;
    const raw = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(x < w / 2 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
    const file = path.join(dir, 'rotated.jpg');
    writeFileSync(file, await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer());

    const im = await decodePhoto(read(file), file);
    expect(im.metadata.exifOrientation).toBe(6);
    expect([im.columns, im.rows]).toEqual([32, 64]);
    const [r1, , b1] = pixel(im, 16, 8);
    const [r2, , b2] = pixel(im, 16, 56);
    expect(r1).toBeGreaterThan(200);
    expect(b1).toBeLessThan(50);
    expect(r2).toBeLessThan(50);
    expect(b2).toBeGreaterThan(200);
  });

  it('keeps 16-bit PNG samples exactly, in a Uint16Array', async () => {
    const w = 3, h = 2;
    const values = Uint16Array.from([0, 1, 256, 4095, 65535, 12345, 300, 301, 302, 40000, 50000, 60000, 7, 8, 9, 1000, 2000, 3000]);
    const png = await sharp(values, { raw: { width: w, height: h, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    const im = await decodePhoto(new Uint8Array(png), 'sixteen.png');
    expect(im.frames[0]).toBeInstanceOf(Uint16Array);
    expect(im).toMatchObject({ bitsAllocated: 16, bitsStored: 16, samplesPerPixel: 3, photometric: 'RGB' });
    expect(Array.from(im.frames[0])).toEqual(Array.from(values));

    const grey = Uint16Array.from([0, 65535, 1234, 4321, 500, 9]);
    const greyPng = await sharp(grey, { raw: { width: w, height: h, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    const g = await decodePhoto(new Uint8Array(greyPng), 'grey16.png');
    expect(g.samplesPerPixel).toBe(1);
    expect(Array.from(g.frames[0])).toEqual(Array.from(grey));
  });

  it('returns stored values, not ICC-converted ones (as Pillow does)', async () => {
    // sharp converts sRGB (200, 50, 30) into Display P3 on writing and embeds the profile; Pillow 9.4 reads the
    // stored (184, 63, 42). Applying the profile would give back (200, 50, 30).
    const raw = new Uint8Array(8 * 8 * 3);
    for (let i = 0; i < raw.length; i += 3) raw.set([200, 50, 30], i);
    const png = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } }).withIccProfile('p3').png().toBuffer();
    expect((await sharp(png).metadata()).icc).toBeDefined();
    const im = await decodePhoto(new Uint8Array(png), 'p3.png');
    expect(pixel(im, 0, 0)).toEqual([184, 63, 42]);
  });

  it('drops alpha without compositing', async () => {
    const rgba = Uint8Array.from([10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255, 1, 2, 3, 4]);
    const png = await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } }).png().toBuffer();
    const im = await decodePhoto(new Uint8Array(png), 'alpha.png');
    expect(im.samplesPerPixel).toBe(3);
    expect(Array.from(im.frames[0])).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 1, 2, 3]);
  });

  it('rejects unknown, truncated and corrupt files with an ImagingError naming the file', async () => {
    await expect(decodePhoto(new TextEncoder().encode('BM not a photo'), 'x.bmp')).rejects.toMatchObject({
      name: 'ImagingError', file: 'x.bmp', code: 'unsupported',
    });
    const jpeg = read(path.join(FUNDUS_DIR, 'skimage', 'retina.jpg'));
    const cut = decodePhoto(jpeg.subarray(0, jpeg.length >> 1), 'half.jpg');
    await expect(cut).rejects.toBeInstanceOf(ImagingError);
    await expect(cut).rejects.toMatchObject({ code: 'truncated', message: expect.stringMatching(/^half\.jpg: .*jpeg/) });

    const tif = read(path.join(DRIVE, 'images', '21_training.tif'));
    await expect(decodePhoto(tif.subarray(0, 5000), 'cut.tif')).rejects.toMatchObject({ file: 'cut.tif', name: 'ImagingError' });

    const garbage = new Uint8Array(2000).fill(0x5a);
    garbage.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await expect(decodePhoto(garbage, 'garbage.png')).rejects.toMatchObject({ file: 'garbage.png', name: 'ImagingError' });
  });

  it('recognises formats by signature only', () => {
    expect(detectPhotoFormat(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(detectPhotoFormat(new TextEncoder().encode('GIF89a...'))).toBe('gif');
    expect(detectPhotoFormat(Uint8Array.from([0x4d, 0x4d, 0x00, 0x2a]))).toBe('tiff');
    expect(detectPhotoFormat(new TextEncoder().encode('DICM'))).toBeUndefined();
  });
});
