/**
 * Decoding fidelity and safety against hostile input: capped inflation (deflate bombs), Deflated Image Frame
 * Compression, JPEG 2000 signedness from the header, Specific Character Set (against pydicom), truncated files and
 * `dicom inspect` over damaged files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDeflateRaw, deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDicom, imageStats, inspectDicomFile, readDicomHeader } from '../../../../core/imaging/dicom';
import { ImagingError } from '../../../../core/imaging/types';
import { DICOM_DIR, REPO_ROOT } from '../../../helpers/paths';
import { runCli } from '../../../helpers/cli';
import {
  buildDicom,
  concat,
  elementHeader,
  encapsulatedPixelData,
  encodeElement,
  imageElements,
  nativePixelData,
  part10Prefix,
} from './helpers/build-dicom';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
const DEFLATED_FRAMES = '1.2.840.10008.1.2.8.1';
const J2K_LOSSLESS = '1.2.840.10008.1.2.4.90';

const work = mkdtempSync(path.join(tmpdir(), 'medtune-fidelity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function decodeError(bytes: Uint8Array, source: string): Promise<ImagingError> {
  const error = await decodeDicom(bytes, source).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ImagingError);
  return error as ImagingError;
}

/** A 512x512 16-bit image header followed by a 1 GiB Pixel Data element of zeros, raw-deflated to ~1 MB. */
async function writeDeflateBomb(file: string): Promise<void> {
  const header = concat(imageElements({ rows: 512, columns: 512, bitsAllocated: 16 }).map(encodeElement));
  const gib = 1024 ** 3;
  const deflater = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflater.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => deflater.on('end', resolve));
  const write = (chunk: Uint8Array) => new Promise<void>((resolve) => (deflater.write(chunk) ? resolve() : deflater.once('drain', resolve)));
  await write(concat([header, elementHeader(0x7fe0, 0x0010, 'OW', gib)]));
  const zeros = new Uint8Array(16 * 1024 ** 2);
  for (let written = 0; written < gib; written += zeros.length) await write(zeros);
  deflater.end();
  await done;
  writeFileSync(file, concat([part10Prefix(DEFLATED_LE), ...out]));
}

describe('capped inflation', () => {
  it('refuses a 1 MB deflated data set that inflates to 1 GiB as too-large, in a child process under 300 MB peak', async () => {
    const bomb = path.join(work, 'bomb.dcm');
    await writeDeflateBomb(bomb);
    expect(statSync(bomb).size).toBeLessThan(2 * 1024 ** 2);
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'helpers', 'decode-child.ts'), bomb], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(0);
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as { ok: boolean; code: string; message: string; peakRssBytes: number };
    expect(result.ok).toBe(false);
    expect(result.code).toBe('too-large');
    expect(result.message).toContain('bomb.dcm');
    expect(result.peakRssBytes).toBeGreaterThan(0);
    expect(result.peakRssBytes).toBeLessThan(300 * 1024 ** 2);
  }, 120_000);

  it('still inflates an honest deflated data set to the same values as the uncompressed file', async () => {
    const pixels = Uint16Array.from({ length: 64 * 48 }, (_, i) => (i * 37) % 4096);
    const spec = { rows: 64, columns: 48, bitsAllocated: 16, bitsStored: 12 };
    const bytes = new Uint8Array(pixels.buffer);
    const plain = await decodeDicom(buildDicom(EXPLICIT_LE, imageElements(spec), nativePixelData(bytes, 16)), 'plain.dcm');
    const deflated = await decodeDicom(buildDicom(DEFLATED_LE, imageElements(spec), nativePixelData(bytes, 16), true), 'deflated.dcm');
    expect(Array.from(deflated.frames[0])).toEqual(Array.from(pixels));
    expect(imageStats(deflated).stored.sha256).toBe(imageStats(plain).stored.sha256);
  });
});

describe('Deflated Image Frame Compression (1.2.840.10008.1.2.8.1)', () => {
  /** emri_small.dcm (10 frames of 64x64 16-bit) re-encoded with each frame deflated into its own fragment. */
  async function emriFrames(): Promise<{ original: Awaited<ReturnType<typeof decodeDicom>>; frameBytes: Uint8Array[] }> {
    const original = await decodeDicom(new Uint8Array(readFileSync(path.join(DICOM_DIR, 'pydicom_data/emri_small.dcm'))), 'emri_small.dcm');
    const frameBytes = original.frames.map((f) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength).slice());
    return { original, frameBytes };
  }
  const emriSpec = (frames: number) => ({ rows: 64, columns: 64, bitsAllocated: 16, bitsStored: 12, frames });

  it('decodes every frame to the values of the uncompressed file', async () => {
    const { original, frameBytes } = await emriFrames();
    expect(original.frames).toHaveLength(10);
    const file = buildDicom(DEFLATED_FRAMES, imageElements(emriSpec(10)), encapsulatedPixelData(frameBytes.map((f) => deflateRawSync(f))));
    const image = await decodeDicom(file, 'emri_difc.dcm');
    expect(image.frames).toHaveLength(10);
    expect(image.truncated).toBeUndefined();
    expect(imageStats(image).stored.sha256).toBe(imageStats(original).stored.sha256);
  });

  it('refuses a frame that inflates past one frame as too-large', async () => {
    const bomb = deflateRawSync(new Uint8Array(64 * 1024 ** 2));
    const file = buildDicom(DEFLATED_FRAMES, imageElements(emriSpec(1)), encapsulatedPixelData([bomb]));
    const error = await decodeError(file, 'frame_bomb.dcm');
    expect(error.code).toBe('too-large');
    expect(error.message).toMatch(/^frame_bomb\.dcm: deflated frame 1 inflates to more than 8193 bytes/);
  });

  it('decodes the complete frames of a file cut inside a later fragment and says it is truncated', async () => {
    const { original, frameBytes } = await emriFrames();
    const whole = buildDicom(DEFLATED_FRAMES, imageElements(emriSpec(10)), encapsulatedPixelData(frameBytes.map((f) => deflateRawSync(f))));
    const cut = whole.subarray(0, whole.length - 400);
    const image = await decodeDicom(cut, 'emri_cut.dcm');
    expect(image.truncated?.declaredFrames).toBe(10);
    expect(image.truncated?.reason).toMatch(/truncated/);
    expect(image.frames.length).toBeGreaterThan(0);
    expect(image.frames.length).toBeLessThan(10);
    expect(image.numberOfFrames).toBe(image.frames.length);
    image.frames.forEach((frame, i) => expect(Array.from(frame)).toEqual(Array.from(original.frames[i])));
  });
});

describe('truncated native pixel data', () => {
  const spec = { rows: 16, columns: 16, bitsAllocated: 16, frames: 4 };
  const pixels = Uint16Array.from({ length: 16 * 16 * 4 }, (_, i) => i);
  const file = buildDicom(EXPLICIT_LE, imageElements(spec), nativePixelData(new Uint8Array(pixels.buffer), 16));

  it('decodes the complete frames and flags the image as truncated', async () => {
    const cut = file.subarray(0, file.length - 512 - 100); // frame 4 entirely and part of frame 3 missing
    const image = await decodeDicom(cut, 'cut.dcm');
    expect(image.frames).toHaveLength(2);
    expect(image.numberOfFrames).toBe(2);
    expect(image.truncated).toEqual({ declaredFrames: 4, reason: expect.stringMatching(/truncated.*2 complete frame\(s\) of 4/) });
    expect(image.warnings?.some((w) => /truncated/.test(w))).toBe(true);
    expect(Array.from(image.frames[1])).toEqual(Array.from(pixels.subarray(256, 512)));
    const inspection = await (async () => {
      const cutFile = path.join(work, 'cut.dcm');
      writeFileSync(cutFile, cut);
      return inspectDicomFile(cutFile, 'cut.dcm');
    })();
    expect(inspection.truncated).toBe(true);
  });

  it('is a truncated error when not even the first frame is complete', async () => {
    const error = await decodeError(file.subarray(0, file.length - 2048 + 100), 'cut_early.dcm');
    expect(error.code).toBe('truncated');
    expect(error.message).toMatch(/^cut_early\.dcm: pixel data is truncated/);
  });
});

describe('JPEG 2000 signedness follows Pixel Representation', () => {
  const requireCodec = createRequire(import.meta.url);

  /** Encodes 12-bit samples as an UNSIGNED lossless J2K codestream with OpenJPEG's encoder. */
  async function encodeUnsignedJ2k(samples: Uint16Array, width: number, height: number): Promise<Uint8Array> {
    type Encoder = { getDecodedBuffer(info: object): Uint8Array; encode(): void; getEncodedBuffer(): Uint8Array; delete(): void };
    const factory = requireCodec('@cornerstonejs/codec-openjpeg/wasmjs') as (o: object) => Promise<{ J2KEncoder: new () => Encoder }>;
    const codec = await factory({ print: () => {}, printErr: () => {} });
    const encoder = new codec.J2KEncoder();
    try {
      const input = encoder.getDecodedBuffer({ width, height, bitsPerSample: 12, componentCount: 1, isSigned: false });
      input.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
      encoder.encode();
      return encoder.getEncodedBuffer().slice();
    } finally {
      encoder.delete();
    }
  }

  it('reads an unsigned 12-bit codestream in a signed CT as two\u2019s complement (-2000..1896, not 0..4095)', async () => {
    const width = 64;
    const height = 32;
    const hu = Int16Array.from({ length: width * height }, (_, i) => -2000 + Math.round((i * 3896) / (width * height - 1)));
    const unsigned = Uint16Array.from(hu, (v) => v & 0xfff);
    const stream = await encodeUnsignedJ2k(unsigned, width, height);
    const spec = { rows: height, columns: width, bitsAllocated: 16, bitsStored: 12 };

    const asUnsigned = await decodeDicom(buildDicom(J2K_LOSSLESS, imageElements(spec), encapsulatedPixelData([stream])), 'u.dcm');
    expect(Array.from(asUnsigned.frames[0])).toEqual(Array.from(unsigned));

    const signed = await decodeDicom(buildDicom(J2K_LOSSLESS, imageElements({ ...spec, signed: true }), encapsulatedPixelData([stream])), 's.dcm');
    expect(signed.frames[0]).toBeInstanceOf(Int16Array);
    // Expected: the two's complement of the unsigned decode in Bits Stored (12) bits.
    const expected = Array.from(asUnsigned.frames[0], (u) => (u >= 2048 ? u - 4096 : u));
    expect(Array.from(signed.frames[0])).toEqual(expected);
    expect(Array.from(signed.frames[0])).toEqual(Array.from(hu));
    const { min, max } = imageStats(signed).stored;
    expect([min, max]).toEqual([-2000, 1896]);
  });
});

/** pydicom's decoded PatientName of each file, or undefined when python3/pydicom is not installed. */
function pydicomPatientNames(files: string[]): Record<string, string | null> | undefined {
  const script = [
    'import sys, json, pydicom',
    'out = {}',
    'for f in sys.argv[1:]:',
    '    ds = pydicom.dcmread(f)',
    "    out[f] = str(ds.PatientName) if 'PatientName' in ds else None",
    'print(json.dumps(out))',
  ].join('\n');
  try {
    return JSON.parse(execFileSync('/usr/bin/python3', ['-W', 'ignore', '-c', script, ...files], { encoding: 'utf8' })) as Record<string, string | null>;
  } catch {
    return undefined;
  }
}

function findCharsetFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return findCharsetFiles(full);
    return /^chr.*\.dcm$/.test(e.name) ? [full] : [];
  });
}

describe('Specific Character Set', () => {
  const files = findCharsetFiles(DICOM_DIR).sort();
  const expected = pydicomPatientNames(files);

  it('finds the chr*.dcm files', () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
  });

  it.skipIf(!expected)(`decodes PatientName of every chr*.dcm as pydicom does${expected ? '' : ' [skipped: /usr/bin/python3 with pydicom not found]'}`, async () => {
    for (const file of files) {
      const inspection = await inspectDicomFile(file, path.basename(file));
      expect({ file: path.basename(file), patientName: inspection.patientName }).toEqual({
        file: path.basename(file),
        patientName: expected![file],
      });
    }
  });

  it.skipIf(!expected)('`dicom inspect --json` reports each decoded patientName', async () => {
    const folder = path.join(DICOM_DIR, 'pydicom_debian/charset_files');
    const { code, out } = await runCli(['dicom', 'inspect', folder, '--json']);
    expect(code).toBe(0);
    const parsed = JSON.parse(out) as Record<string, { patientName: string | null }>;
    expect(parsed['chrRuss.dcm'].patientName).toBe(expected![path.join(folder, 'chrRuss.dcm')]);
    expect(parsed['chrH32.dcm'].patientName).toBe(expected![path.join(folder, 'chrH32.dcm')]);
  });
});

/** Sets and names pydicom writes (ISO 2022 escapes for Korean, JIS X 0212, mixed Latin/Cyrillic; single-byte sets; GBK). */
const WRITTEN_BY_PYDICOM: Record<string, [string | string[], string]> = {
  korean: [['', 'ISO 2022 IR 149'], 'Hong^Gildong=\u6d2a^\u5409\u6d1e=\ud64d^\uae38\ub3d9'],
  jisX0212: [['', 'ISO 2022 IR 87', 'ISO 2022 IR 159'], 'Yamada^Tarou=\u4e02^\u5c71\u7530'],
  latin1Cyrillic: [['ISO 2022 IR 100', 'ISO 2022 IR 144'], 'M\u00fcller^\u041b\u044e\u043a'],
  latin2: ['ISO_IR 101', 'Dvo\u0159\u00e1k^Anton\u00edn'],
  thai: ['ISO_IR 166', '\u0e2a\u0e21\u0e0a\u0e32\u0e22^\u0e43\u0e08\u0e14\u0e35'],
  turkish: ['ISO_IR 148', '\u015eahin^A\u011fa'],
  gbk: ['GBK', 'Wang^XiaoDong=\u738b^\u5c0f\u4e1c'],
};

/** Writes one file per case with pydicom and returns pydicom's own reading of PatientName and StudyDescription. */
function writeWithPydicom(folder: string): Record<string, { patientName: string; studyDescription: string }> | undefined {
  const script = [
    'import sys, json, pydicom',
    'from pydicom.dataset import Dataset, FileMetaDataset',
    'cases = json.loads(sys.argv[2])',
    'out = {}',
    'for name, (charset, pn) in cases.items():',
    '    ds = Dataset(); ds.file_meta = FileMetaDataset()',
    "    ds.file_meta.TransferSyntaxUID = '1.2.840.10008.1.2.1'",
    "    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'",
    "    ds.file_meta.MediaStorageSOPInstanceUID = '1.2.3.4'",
    '    ds.is_little_endian = True; ds.is_implicit_VR = False',
    "    ds.SpecificCharacterSet = charset; ds.PatientName = pn; ds.StudyDescription = pn.split('=')[-1].replace('^', ' ')",
    "    f = sys.argv[1] + '/' + name + '.dcm'",
    '    ds.save_as(f, write_like_original=False)',
    '    back = pydicom.dcmread(f)',
    "    out[name] = {'patientName': str(back.PatientName), 'studyDescription': back.StudyDescription}",
    'print(json.dumps(out))',
  ].join('\n');
  try {
    const output = execFileSync('/usr/bin/python3', ['-W', 'ignore', '-c', script, folder, JSON.stringify(WRITTEN_BY_PYDICOM)], { encoding: 'utf8' });
    return JSON.parse(output) as Record<string, { patientName: string; studyDescription: string }>;
  } catch {
    return undefined;
  }
}

describe('Specific Character Set of files written by pydicom', () => {
  const folder = mkdtempSync(path.join(work, 'charsets-'));
  const expected = writeWithPydicom(folder);

  it.skipIf(!expected)(`reads every name and description as pydicom does${expected ? '' : ' [skipped: /usr/bin/python3 with pydicom not found]'}`, () => {
    expect(Object.keys(expected!)).toHaveLength(Object.keys(WRITTEN_BY_PYDICOM).length);
    for (const [name, values] of Object.entries(expected!)) {
      const { metadata } = readDicomHeader(new Uint8Array(readFileSync(path.join(folder, `${name}.dcm`))), name);
      expect({ name, patientName: metadata.patientName, studyDescription: metadata.studyDescription }).toEqual({ name, ...values });
    }
  });
});

describe('dicom inspect on damaged files', () => {
  it('reports every file of a folder of cut and corrupted files, each error a sentence naming the file', async () => {
    const folder = mkdtempSync(path.join(work, 'mutated-'));
    const sources = ['pydicom_debian/CT_small.dcm', 'pydicom_data/emri_small_jpeg_2k_lossless.dcm', 'pydicom_debian/charset_files/chrH32.dcm'];
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const names: string[] = [];
    for (const source of sources) {
      const bytes = new Uint8Array(readFileSync(path.join(DICOM_DIR, source)));
      for (let k = 0; k < 12; k++) {
        let mutated: Uint8Array;
        if (k % 2 === 0) mutated = bytes.slice(0, Math.floor(random() * bytes.length));
        else {
          mutated = bytes.slice();
          for (let j = 0; j < 8; j++) mutated[132 + Math.floor(random() * Math.min(mutated.length - 132, 1500))] = Math.floor(random() * 256);
        }
        const name = `${path.basename(source, '.dcm')}_${k}.dcm`;
        writeFileSync(path.join(folder, name), mutated);
        names.push(name);
      }
    }
    const { code, out } = await runCli(['dicom', 'inspect', folder, '--json']);
    expect(code).toBe(0);
    const parsed = JSON.parse(out) as Record<string, { readable: boolean; decodable?: boolean; error?: string }>;
    expect(Object.keys(parsed).sort()).toEqual(names.sort());
    for (const [name, result] of Object.entries(parsed)) {
      expect(typeof result.readable).toBe('boolean');
      if (!result.readable || result.decodable === false) {
        expect(result.error).toMatch(new RegExp(`^${name.replace('.', '\\.')}: \\S`));
        expect(result.error).not.toMatch(/undefined/);
      }
    }
  });
});
