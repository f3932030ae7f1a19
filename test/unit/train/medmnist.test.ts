import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMedMnist, readMedMnist } from '../../../core/train/medmnist';
import { NpyFormatError, parseNpy, parseNpz } from '../../../core/train/npy';
import { classCounts } from '../../../core/train/schedule';
import { MEDMNIST_DIR } from '../../helpers/paths';

const RETINA = path.join(MEDMNIST_DIR, 'retinamnist.npz');
const BREAST = path.join(MEDMNIST_DIR, 'breastmnist_resaved.npz');
const PNEUMONIA = path.join(MEDMNIST_DIR, 'pneumoniamnist_reduced_train.npz');

// Split sizes and class counts below are those stated in shared/data/SOURCES.md (RetinaMNIST's
// file is byte-identical to the official one; the other two were re-saved/reduced by their uploaders).
describe('MedMNIST files from shared/data', () => {
  it('RetinaMNIST: official split 1080/120/400, 28×28×3, grades 0–4', async () => {
    const ds = await readMedMnist(RETINA);
    const expected = {
      train: { n: 1080, counts: [486, 128, 206, 194, 66] },
      val: { n: 120, counts: [54, 12, 28, 20, 6] },
      test: { n: 400, counts: [174, 46, 92, 68, 20] },
    };
    for (const split of ['train', 'val', 'test'] as const) {
      const s = ds[split];
      expect(s.n).toBe(expected[split].n);
      expect([s.height, s.width, s.channels, s.labelsPerCase]).toEqual([28, 28, 3, 1]);
      expect(s.images.length).toBe(s.n * 28 * 28 * 3);
      expect(s.labels.length).toBe(s.n);
      expect(classCounts(s.labels, 5)).toEqual(expected[split].counts);
    }
    // First pixels and total intensity, read independently with numpy (np.load(...)['train_images']).
    expect(Array.from(ds.train.images.subarray(0, 5))).toEqual([2, 0, 6, 4, 3]);
    expect(Array.from(ds.test.images.subarray(0, 5))).toEqual([0, 14, 27, 0, 6]);
    expect(ds.train.images.reduce((s, v) => s + v, 0)).toBe(172486755);
  });

  it('BreastMNIST (re-saved): 546/78/156 grey 28×28, labels stored flat', async () => {
    const ds = await readMedMnist(BREAST);
    expect([ds.train.n, ds.val.n, ds.test.n]).toEqual([546, 78, 156]);
    expect([ds.train.height, ds.train.width, ds.train.channels, ds.train.labelsPerCase]).toEqual([28, 28, 1, 1]);
    expect(classCounts(ds.train.labels, 2)).toEqual([147, 399]);
    expect(classCounts(ds.val.labels, 2)).toEqual([21, 57]);
    expect(classCounts(ds.test.labels, 2)).toEqual([42, 114]);
  });

  it('PneumoniaMNIST (reduced train): 3882/524/624 grey 28×28', async () => {
    const ds = await readMedMnist(PNEUMONIA);
    expect([ds.train.n, ds.val.n, ds.test.n]).toEqual([3882, 524, 624]);
    expect(ds.test.images.length).toBe(624 * 28 * 28);
    expect(ds.train.channels).toBe(1);
    expect(classCounts(ds.train.labels, 2)).toEqual([388, 3494]);
    expect(classCounts(ds.val.labels, 2)).toEqual([135, 389]);
    expect(classCounts(ds.test.labels, 2)).toEqual([234, 390]);
  });
});

describe('bad files give an error naming the file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medtune-medmnist-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('truncated .npz', async () => {
    const bytes = await readFile(BREAST);
    const truncated = path.join(dir, 'breast-truncated.npz');
    await writeFile(truncated, bytes.subarray(0, 300_000));
    const error = await readMedMnist(truncated).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NpyFormatError);
    expect((error as NpyFormatError).file).toBe(truncated);
    expect((error as Error).message).toMatch(/breast-truncated\.npz: .*truncated/);
  });

  it('archive whose tail survives but a member is cut (central directory intact, data corrupt)', () => {
    return readFile(BREAST).then((bytes) => {
      const damaged = Uint8Array.from(bytes);
      damaged.fill(0, 1000, 2000); // inside train_images.npy's deflate stream
      expect(() => parseMedMnist(damaged, 'damaged.npz')).toThrow(/damaged\.npz \[train_images\.npy\]: (corrupt deflate|CRC-32|inflated)/);
    });
  });

  it('a file that is not a zip at all', async () => {
    const notZip = path.join(dir, 'not-an-npz.npz');
    await writeFile(notZip, 'hello, this is text and not an archive');
    await expect(readMedMnist(notZip)).rejects.toThrow(/not-an-npz\.npz: not a zip\/\.npz archive/);
  });

  it('a missing file', async () => {
    await expect(readMedMnist(path.join(dir, 'absent.npz'))).rejects.toThrow(/absent\.npz: cannot read file \(ENOENT\)/);
  });

  it('an npz without MedMNIST arrays', async () => {
    const other = path.join(dir, 'other.npz');
    await copyFile(RETINA, other);
    const arrays = parseNpz(await readFile(other), other);
    expect([...arrays.keys()].sort()).toEqual(['test_images', 'test_labels', 'train_images', 'train_labels', 'val_images', 'val_labels']);
    const tiny = Buffer.from(TINY_NPZ_BASE64, 'base64');
    // TINY_NPZ has all six arrays; drop the name of one by corrupting it in both headers.
    const renamed = Buffer.from(tiny.toString('latin1').replaceAll('test_labels.npy', 'test_lobels.npy'), 'latin1');
    expect(() => parseMedMnist(renamed, 'renamed.npz')).toThrow(/renamed\.npz: missing array "test_labels"/);
  });
});

// Made with numpy 2.4.6: np.savez(buf, train_images=np.arange(12, dtype=np.uint8).reshape(2, 2, 3),
//   train_labels=np.asfortranarray(np.array([[1,0,1],[0,1,1]], dtype='<i8')),
//   val_images=np.zeros((1,2,3), np.uint8), val_labels=np.array([2], dtype='>i4'),
//   test_images=np.full((1,2,3), 7, np.uint8), test_labels=np.array([[3]], dtype=np.uint8))
// Stored (not deflated) members with zip64 local headers, a Fortran-order int64 array and a big-endian one.
const TINY_NPZ_BASE64 =
  'UEsDBC0AAAAAAAAAIQDFIoSg//////////8QABQAdHJhaW5faW1hZ2VzLm5weQEAEACMAAAAAAAAAIwAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAQIDBAUGBwgJCgtQSwMELQAAAAAAAAAhAHkjDrf//////////xAAFAB0cmFpbl9sYWJlbHMubnB5AQAQALAAAAAAAAAAsAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IFRydWUsICdzaGFwZSc6ICgyLCAzKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAAAABAAAAAAAAAFBLAwQtAAAAAAAAACEAdD0RB///////////DgAUAHZhbF9pbWFnZXMubnB5AQAQAIYAAAAAAAAAhgAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICd8dTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMSwgMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgAAAAAAAFBLAwQtAAAAAAAAACEA9bms7///////////DgAUAHZhbF9sYWJlbHMubnB5AQAQAIQAAAAAAAAAhAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc+aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMSwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgAAAAJQSwMELQAAAAAAAAAhAIT8ieH//////////w8AFAB0ZXN0X2ltYWdlcy5ucHkBABAAhgAAAAAAAACGAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJ3x1MScsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgxLCAyLCAzKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKBwcHBwcHUEsDBC0AAAAAAAAAIQA2B4xe//////////8PABQAdGVzdF9sYWJlbHMubnB5AQAQAIEAAAAAAAAAgQAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICd8dTEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMSwgMSksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgNQSwECLQMtAAAAAAAAACEAxSKEoIwAAACMAAAAEAAAAAAAAAAAAAAAgAEAAAAAdHJhaW5faW1hZ2VzLm5weVBLAQItAy0AAAAAAAAAIQB5Iw63sAAAALAAAAAQAAAAAAAAAAAAAACAAc4AAAB0cmFpbl9sYWJlbHMubnB5UEsBAi0DLQAAAAAAAAAhAHQ9EQeGAAAAhgAAAA4AAAAAAAAAAAAAAIABwAEAAHZhbF9pbWFnZXMubnB5UEsBAi0DLQAAAAAAAAAhAPW5rO+EAAAAhAAAAA4AAAAAAAAAAAAAAIABhgIAAHZhbF9sYWJlbHMubnB5UEsBAi0DLQAAAAAAAAAhAIT8ieGGAAAAhgAAAA8AAAAAAAAAAAAAAIABSgMAAHRlc3RfaW1hZ2VzLm5weVBLAQItAy0AAAAAAAAAIQA2B4xegQAAAIEAAAAPAAAAAAAAAAAAAACAAREEAAB0ZXN0X2xhYmVscy5ucHlQSwUGAAAAAAYABgBuAQAA0wQAAAAA';

describe('.npy / .npz parsing', () => {
  it('numpy-written npz: stored members, zip64 local headers, Fortran order, big-endian', () => {
    const ds = parseMedMnist(Buffer.from(TINY_NPZ_BASE64, 'base64'), 'tiny.npz');
    expect(Array.from(ds.train.images)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect([ds.train.n, ds.train.height, ds.train.width, ds.train.channels]).toEqual([2, 2, 3, 1]);
    expect(ds.train.labelsPerCase).toBe(3);
    expect(Array.from(ds.train.labels)).toEqual([1, 0, 1, 0, 1, 1]); // C order of [[1,0,1],[0,1,1]]
    expect(Array.from(ds.val.labels)).toEqual([2]);
    expect(Array.from(ds.test.images)).toEqual([7, 7, 7, 7, 7, 7]);
    expect(Array.from(ds.test.labels)).toEqual([3]);
  });

  /** Builds a .npy by hand with the given format version and header dict. */
  function npy(version: 1 | 2, header: string, payload: Uint8Array): Uint8Array {
    const prefix = version === 1 ? 10 : 12;
    let text = header;
    while ((prefix + text.length + 1) % 64 !== 0) text += ' ';
    text += '\n';
    const out = new Uint8Array(prefix + text.length + payload.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
    const view = new DataView(out.buffer);
    if (version === 1) view.setUint16(8, text.length, true);
    else view.setUint32(8, text.length, true);
    out.set(new TextEncoder().encode(text), prefix);
    out.set(payload, prefix + text.length);
    return out;
  }

  it('format 2.0 header, little-endian float32, 2-D Fortran order', () => {
    const payload = new Uint8Array(new Float32Array([0, 3, 1, 4, 2, 5]).buffer); // column-major (2,3)
    const a = parseNpy(npy(2, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", payload), 'a.npy');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('scalar shape () and <i8 values', () => {
    const payload = new Uint8Array(new BigInt64Array([-7n]).buffer);
    const a = parseNpy(npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", payload), 's.npy');
    expect(a.shape).toEqual([]);
    expect(a.data[0]).toBe(-7n);
  });

  it('errors: truncated data, unknown dtype, bad magic', () => {
    const header = "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 4), }";
    expect(() => parseNpy(npy(1, header, new Uint8Array(10)), 'short.npy')).toThrow(/short\.npy: truncated data: .* needs 16 bytes, 10 present/);
    expect(() => parseNpy(npy(1, "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(16)), 'c.npy')).toThrow(
      /c\.npy: unsupported dtype '<c16'/,
    );
    expect(() => parseNpy(new TextEncoder().encode('PK not numpy'), 'x.npy')).toThrow(/x\.npy: not a \.npy array/);
  });

  it('non-uint8 images are refused with the file and split named', () => {
    // numpy 2.4.6: np.savez_compressed(buf, train_images=np.zeros((1,1,1), '<i2'), the other five arrays uint8 zeros)
    const int16Images =
      'UEsDBC0AAAAIAAAAIQBIM0zN//////////8QABQAdHJhaW5faW1hZ2VzLm5weQEAEACCAAAAAAAAAEkAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNppK6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkahjoKIKSpo1CrQB7gYmAAAFBLAwQtAAAACAAAACEAjFaFx///////////EAAUAHRyYWluX2xhYmVscy5ucHkBABAAgQAAAAAAAABHAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF5Taqiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GoY6CoaaOgq1CmQDLgYAUEsDBC0AAAAIAAAAIQAQbUXd//////////8OABQAdmFsX2ltYWdlcy5ucHkBABAAgQAAAAAAAABIAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF5Taqiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GoY6CiCkqaNQq0Ae4GIAAFBLAwQtAAAACAAAACEAjFaFx///////////DgAUAHZhbF9sYWJlbHMubnB5AQAQAIEAAAAAAAAARwAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBeU2qorqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RqGOgqGmjoKtQpkAy4GAFBLAwQtAAAACAAAACEAEG1F3f//////////DwAUAHRlc3RfaW1hZ2VzLm5weQEAEACBAAAAAAAAAEgAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgXlNqqK6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkahjoKIKSpo1CrQB7gYgAAUEsDBC0AAAAIAAAAIQCMVoXH//////////8PABQAdGVzdF9sYWJlbHMubnB5AQAQAIEAAAAAAAAARwAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBeU2qorqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RqGOgqGmjoKtQpkAy4GAFBLAQItAy0AAAAIAAAAIQBIM0zNSQAAAIIAAAAQAAAAAAAAAAAAAACAAQAAAAB0cmFpbl9pbWFnZXMubnB5UEsBAi0DLQAAAAgAAAAhAIxWhcdHAAAAgQAAABAAAAAAAAAAAAAAAIABiwAAAHRyYWluX2xhYmVscy5ucHlQSwECLQMtAAAACAAAACEAEG1F3UgAAACBAAAADgAAAAAAAAAAAAAAgAEUAQAAdmFsX2ltYWdlcy5ucHlQSwECLQMtAAAACAAAACEAjFaFx0cAAACBAAAADgAAAAAAAAAAAAAAgAGcAQAAdmFsX2xhYmVscy5ucHlQSwECLQMtAAAACAAAACEAEG1F3UgAAACBAAAADwAAAAAAAAAAAAAAgAEjAgAAdGVzdF9pbWFnZXMubnB5UEsBAi0DLQAAAAgAAAAhAIxWhcdHAAAAgQAAAA8AAAAAAAAAAAAAAIABrAIAAHRlc3RfbGFiZWxzLm5weVBLBQYAAAAABgAGAG4BAAA0AwAAAAA=';
    expect(() => parseMedMnist(Buffer.from(int16Images, 'base64'), 'int16.npz')).toThrow(
      /int16\.npz \[train\]: images have dtype '<i2', expected uint8/,
    );
  });

  it('a member edited after it was written fails its CRC-32 check', () => {
    const text = Buffer.from(TINY_NPZ_BASE64, 'base64').toString('latin1');
    const at = text.indexOf("'|u1'"); // in train_images.npy's header; same length, different dtype
    const patched = Buffer.from(text.slice(0, at) + "'|i1'" + text.slice(at + 5), 'latin1');
    expect(() => parseMedMnist(patched, 'patched.npz')).toThrow(/patched\.npz \[train_images\.npy\]: CRC-32 mismatch/);
  });
});
