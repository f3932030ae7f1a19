/**
 * The DICOM API beyond pixel statistics: detection, header-only reads, transforms (windows, LUTs, palettes),
 * error handling on damaged input, and the `medtune dicom inspect` command.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../../core/cli/main';
import { decodeDicom, isDicom, readDicomHeader } from '../../../../core/imaging/dicom';
import { parseDicomBytes } from '../../../../core/imaging/dicom/parse';
import { readPalette } from '../../../../core/imaging/dicom/transforms';
import { ImagingError } from '../../../../core/imaging/types';
import { DICOM_DIR } from '../../../helpers/paths';

const read = (file: string) => new Uint8Array(readFileSync(path.join(DICOM_DIR, file)));

async function decodeError(bytes: Uint8Array, source: string): Promise<ImagingError> {
  const err = await decodeDicom(bytes, source).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImagingError);
  expect((err as ImagingError).file).toBe(source);
  expect((err as ImagingError).message).toContain(source);
  return err as ImagingError;
}

describe('isDicom', () => {
  it('accepts Part 10 files and raw data sets without preamble', () => {
    expect(isDicom(read('pydicom_debian/CT_small.dcm'))).toBe(true);
    expect(isDicom(read('pydicom_data/OT-PAL-8-face.dcm'))).toBe(true);
    expect(isDicom(read('pydicom_debian/ExplVR_BigEndNoMeta.dcm'))).toBe(true);
  });

  it('rejects other content', () => {
    expect(isDicom(new Uint8Array(0))).toBe(false);
    expect(isDicom(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]))).toBe(false);
    expect(isDicom(read('pydicom_debian/zipMR.gz'))).toBe(false);
    expect(isDicom(read('pydicom_debian/no_meta.dcm'))).toBe(false);
  });
});

describe('readDicomHeader', () => {
  it('reads identity, geometry and transfer syntax without decoding', () => {
    const header = readDicomHeader(read('pydicom_debian/CT_small.dcm'), 'CT_small.dcm');
    expect(header).toMatchObject({
      preamble: true,
      fileMeta: true,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      transferSyntaxName: 'Explicit VR Little Endian',
      hasPixelData: true,
      pixelDataKeyword: 'PixelData',
      rows: 128,
      columns: 128,
      numberOfFrames: 1,
      samplesPerPixel: 1,
      photometricInterpretation: 'MONOCHROME2',
      bitsAllocated: 16,
      bitsStored: 16,
      pixelRepresentation: 1,
    });
    expect(header.metadata).toMatchObject({
      modality: 'CT',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      patientName: 'CompressedSamples^CT1',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
    });
    expect(header.metadata.studyInstanceUid).toMatch(/^[\d.]+$/);
    expect(header.metadata.seriesInstanceUid).toMatch(/^[\d.]+$/);
    expect(header.metadata.sopInstanceUid).toMatch(/^[\d.]+$/);
    expect(header.metadata.pixelSpacing).toHaveLength(2);
  });

  it('infers the encoding of files without file meta', () => {
    const bigEndian = readDicomHeader(read('pydicom_debian/ExplVR_BigEndNoMeta.dcm'), 'x');
    expect(bigEndian.fileMeta).toBe(false);
    expect(bigEndian.transferSyntaxInferred).toBe('1.2.840.10008.1.2.2');
    expect(bigEndian.metadata.modality).toBe('RTPLAN');
    expect(bigEndian.hasPixelData).toBe(false);
    const implicit = readDicomHeader(read('pydicom_data/OT-PAL-8-face.dcm'), 'y');
    expect(implicit.transferSyntaxInferred).toBe('1.2.840.10008.1.2');
    expect(implicit.rows).toBe(480);
  });

  it('throws an ImagingError for bytes that are not DICOM', () => {
    expect(() => readDicomHeader(Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 251), 'noise.bin')).toThrow(ImagingError);
  });
});

describe('transforms', () => {
  it('keeps every window with its explanation', async () => {
    const image = await decodeDicom(read('pydicom_data/MR-SIEMENS-DICOM-WithOverlays.dcm'), 'mr');
    expect(image.voi.windows).toEqual([
      { center: 450, width: 790, explanation: 'WINDOW1' },
      { center: 200, width: 443, explanation: 'WINDOW2' },
    ]);
    expect(image.voi.fn).toBe('LINEAR');
  });

  it('reads the Modality LUT Sequence with a signed first mapped value', async () => {
    const image = await decodeDicom(read('pydicom_data/mlut_18.dcm'), 'mlut');
    expect(image.modality.lut?.firstMapped).toBe(-2048);
    expect(image.modality.lut?.data).toHaveLength(4096);
  });

  it('reads the VOI LUT Sequence', async () => {
    const image = await decodeDicom(read('pydicom_data/vlut_04.dcm'), 'vlut');
    expect(image.voi.luts).toHaveLength(1);
    expect(image.voi.luts[0].data).toHaveLength(256);
  });

  it('takes rescale from the shared functional groups of enhanced CT', async () => {
    const image = await decodeDicom(read('pydicom_data/eCT_Supplemental.dcm'), 'ect');
    expect(image.modality).toMatchObject({ slope: 1, intercept: -1024 });
    expect(image.voi.windows[0]).toMatchObject({ center: 49, width: 102 });
  });

  it('reads 8- and 16-bit palettes of palette-colour images', async () => {
    const eight = await decodeDicom(read('pydicom_data/OBXXXX1A.dcm'), 'ob');
    expect(eight.photometric).toBe('PALETTE COLOR');
    expect(eight.palette?.red.data).toHaveLength(256);
    const sixteen = await decodeDicom(read('pydicom_data/gdcm-US-ALOKA-16.dcm'), 'aloka');
    expect(sixteen.palette?.green.data).toHaveLength(65536);
  });

  it('expands segmented palettes (discrete and linear segments, 8-bit entries)', () => {
    const spring = readPalette(parseDicomBytes(read('pydicom_debian/palettes/spring.dcm'), 'spring').dataSet);
    expect(spring?.red.data).toHaveLength(256);
    expect(Array.from(spring!.red.data).every((v) => v === 255)).toBe(true);
    expect(spring!.blue.data[0]).toBe(255);
    expect(spring!.blue.data[255]).toBe(0);
    const summer = readPalette(parseDicomBytes(read('pydicom_debian/palettes/summer.dcm'), 'summer').dataSet);
    expect(summer?.blue.data).toHaveLength(256);
    expect(summer!.blue.data[255]).toBe(254);
  });
});

describe('pixel semantics', () => {
  it('unpacks 1-bit segmentation frames to 0/1 bytes', async () => {
    const image = await decodeDicom(read('pydicom_data/liver.dcm'), 'liver');
    expect(image.numberOfFrames).toBe(3);
    expect(image.frames[0]).toBeInstanceOf(Uint8Array);
    expect(image.frames[0]).toHaveLength(512 * 512);
    expect(new Set(image.frames.flatMap((f) => Array.from(new Set(f))))).toEqual(new Set([0, 1]));
  });

  it('flags lossy coding', async () => {
    expect((await decodeDicom(read('pydicom_debian/SC_rgb_jpeg_dcmtk.dcm'), 'jpeg')).lossy).toBe(true);
    expect((await decodeDicom(read('pydicom_debian/MR_small_jp2klossless.dcm'), 'j2k')).lossy).toBe(false);
    expect((await decodeDicom(read('pydicom_debian/MR_small_RLE.dcm'), 'rle')).lossy).toBe(false);
  });

  it('decodes the same MR image identically from every transfer syntax', async () => {
    const variants = [
      'MR_small.dcm',
      'MR_small_implicit.dcm',
      'MR_small_bigendian.dcm',
      'MR_small_expb.dcm',
      'MR_small_RLE.dcm',
      'MR_small_jp2klossless.dcm',
      'MR_small_jpeg_ls_lossless.dcm',
    ];
    const decoded = await Promise.all(variants.map((f) => decodeDicom(read(`pydicom_debian/${f}`), f)));
    for (const image of decoded) {
      expect(image.frames[0]).toBeInstanceOf(Int16Array);
      expect(image.frames[0]).toEqual(decoded[0].frames[0]);
    }
  });
});

describe('damaged input gives an ImagingError naming the file', () => {
  it('empty and random bytes', async () => {
    expect((await decodeError(new Uint8Array(0), 'empty.dcm')).code).toBe('truncated');
    expect((await decodeError(Uint8Array.from({ length: 4096 }, (_, i) => (i * 131) % 256), 'noise.dcm')).code).toBe('unreadable');
  });

  it('uncompressed pixel data cut short', async () => {
    const bytes = read('pydicom_debian/CT_small.dcm');
    const err = await decodeError(bytes.subarray(0, bytes.length - 1000), 'cut.dcm');
    expect(err.code).toBe('truncated');
    expect(err.reason).toMatch(/truncated/);
  });

  it('encapsulated frames cut short or corrupted', async () => {
    for (const file of ['MR_small_jpeg_ls_lossless.dcm', 'MR_small_jp2klossless.dcm', 'MR_small_RLE.dcm', 'SC_rgb_jpeg_dcmtk.dcm']) {
      const bytes = read(`pydicom_debian/${file}`);
      expect((await decodeError(bytes.subarray(0, bytes.length - 600), `cut-${file}`)).code).toBe('truncated');
      // Overwrite the middle of the encoded data with noise, keeping the fragment structure intact.
      const noisy = bytes.slice();
      for (let i = noisy.length - 500; i < noisy.length - 100; i++) noisy[i] = (i * 97) & 0xff;
      const result = await decodeDicom(noisy, `noisy-${file}`).catch((e: unknown) => e);
      // Some codecs decode noise to (wrong) pixels; none may crash or throw anything but an ImagingError.
      if (result instanceof Error) expect(result).toBeInstanceOf(ImagingError);
    }
  });

  it('files without pixel data', async () => {
    const err = await decodeError(read('pydicom_debian/rtplan.dcm'), 'rtplan.dcm');
    expect(err.code).toBe('no-pixel-data');
  });
});

describe('medtune dicom inspect', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function run(args: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const code = await main(args);
    vi.restoreAllMocks();
    return { code, out };
  }

  it('prints reference-style JSON for a file', async () => {
    const { code, out } = await run(['dicom', 'inspect', path.join(DICOM_DIR, 'pydicom_debian/CT_small.dcm'), '--json']);
    expect(code).toBe(0);
    const parsed = JSON.parse(out) as Record<string, Record<string, unknown>>;
    const reference = JSON.parse(readFileSync(path.join(DICOM_DIR, 'reference.json'), 'utf8'))['pydicom_debian/CT_small.dcm'];
    const result = parsed['CT_small.dcm'];
    for (const field of ['transferSyntax', 'rows', 'photometricInterpretation', 'stored', 'frame0', 'modalityStats', 'lossy']) {
      expect(result[field]).toEqual(reference[field]);
    }
  });

  it('reports unreadable files and fails for a single unreadable file', async () => {
    const { code, out } = await run(['dicom', 'inspect', path.join(DICOM_DIR, 'pydicom_debian/zipMR.gz'), '--json']);
    expect(code).toBe(1);
    const parsed = JSON.parse(out) as Record<string, { readable: boolean; error: string }>;
    expect(parsed['zipMR.gz'].readable).toBe(false);
    expect(parsed['zipMR.gz'].error).toMatch(/gzip/);
  });

  it('walks a folder with keys relative to it', async () => {
    const { code, out } = await run(['dicom', 'inspect', path.join(DICOM_DIR, 'pydicom_debian/charset_files')]);
    expect(code).toBe(0);
    expect(out).toMatch(/^chrArab\.dcm: Explicit VR Little Endian/m);
  });

  it('fails with a usage error for a missing path', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { code } = await run(['dicom', 'inspect', path.join(DICOM_DIR, 'does-not-exist')]);
    expect(code).toBe(1);
  });
});
