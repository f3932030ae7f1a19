import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../../core/imaging/decode-file';
import { DecodePool, defaultPoolSize } from '../../../core/imaging/decode-pool';
import { ImagingError, type DecodedImage } from '../../../core/imaging/types';
import { DICOM_DIR, FUNDUS_DIR } from '../../helpers/paths';

const DRIVE_IMAGES = path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images');
const driveFiles = readdirSync(DRIVE_IMAGES).filter((f) => f.endsWith('.tif')).sort().map((f) => path.join(DRIVE_IMAGES, f));
const digest = (im: DecodedImage) => {
  const h = createHash('sha256');
  for (const f of im.frames) h.update(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  return h.digest('hex');
};

describe('DecodePool', () => {
  const pool = new DecodePool({ size: 2 });
  const tmp = mkdtempSync(path.join(tmpdir(), 'medtune-pool-'));
  afterAll(async () => {
    await pool.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('sizes itself to cores − 1, at least 1', () => {
    expect(defaultPoolSize()).toBeGreaterThanOrEqual(1);
    expect(() => new DecodePool({ size: 0 })).toThrow(RangeError);
  });

  it('decodes all DRIVE images off-thread, identical to decoding in-thread', async () => {
    const results = await Promise.all(driveFiles.map((f) => pool.decodeFile(f)));
    expect(results).toHaveLength(20);
    for (const [i, im] of results.entries()) {
      const direct = await decodeImageFile(driveFiles[i]);
      expect(im.source).toBe(driveFiles[i]);
      expect([im.columns, im.rows, im.samplesPerPixel, im.kind]).toEqual([565, 584, 3, 'photo']);
      // Transferred buffers arrive as real typed arrays owning their memory.
      expect(im.frames[0]).toBeInstanceOf(Uint8Array);
      expect(im.frames[0].byteLength).toBe(565 * 584 * 3);
      expect(digest(im)).toBe(digest(direct));
    }
  });

  it('decodes bytes held in memory and leaves the caller its buffer', async () => {
    const direct = await decodeImageFile(driveFiles[0]);
    const { readFileSync } = await import('node:fs');
    const bytes = new Uint8Array(readFileSync(driveFiles[0]));
    const im = await pool.decodeBytes(bytes, 'in-memory.tif');
    expect(im.source).toBe('in-memory.tif');
    expect(digest(im)).toBe(digest(direct));
    expect(bytes.byteLength).toBeGreaterThan(0);
  });

  it('reports errors as ImagingError naming the file, and keeps working afterwards', async () => {
    const missing = path.join(tmp, 'missing.tif');
    await expect(pool.decodeFile(missing)).rejects.toMatchObject({ name: 'ImagingError', file: missing, code: 'unreadable' });
    const bad = path.join(tmp, 'broken.jpg');
    writeFileSync(bad, Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]));
    const err = await pool.decodeFile(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagingError);
    expect((err as ImagingError).message).toContain(bad);
    const text = path.join(tmp, 'notes.txt');
    writeFileSync(text, 'not an image at all, just some words long enough to pass the 132-byte DICM probe '.repeat(3));
    await expect(pool.decodeFile(text)).rejects.toMatchObject({ file: text, code: 'unsupported' });
    expect((await pool.decodeFile(driveFiles[1])).columns).toBe(565);
  });

  it('cancels queued and running requests with the abort reason', async () => {
    const single = new DecodePool({ size: 1 });
    try {
      await single.decodeFile(driveFiles[8]); // workers started
      const controller = new AbortController();
      const first = single.decodeFile(driveFiles[0], { signal: controller.signal });
      await new Promise((resolve) => setImmediate(resolve));
      expect(single.running).toBe(1); // `first` is in the worker now
      const queued = driveFiles.slice(1, 6).map((f) => single.decodeFile(f, { signal: controller.signal }));
      const survivor = single.decodeFile(driveFiles[7]);
      expect(single.pending).toBe(7);
      controller.abort(new Error('user moved on'));
      expect(single.pending).toBe(2); // the queued five are gone at once; the running one finishes in the worker
      for (const p of [first, ...queued]) await expect(p).rejects.toThrow('user moved on');
      // The worker finishes the running decode, discards it, and serves the next request.
      expect((await survivor).source).toBe(driveFiles[7]);
      expect(single.pending).toBe(0);

      const already = AbortSignal.abort();
      await expect(single.decodeFile(driveFiles[0], { signal: already })).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await single.close();
    }
    await expect(single.decodeFile(driveFiles[0])).rejects.toThrow(/closed/);
  });

  it('fails the request of a worker that dies, naming the file, and replaces the worker', async () => {
    // A stand-in worker that exits on a file named "crash" and answers everything else with an error.
    const script = path.join(tmp, 'dying-worker.mjs');
    writeFileSync(script, [
      "import { parentPort } from 'node:worker_threads';",
      'parentPort.on(\'message\', (m) => {',
      "  if (m.type !== 'decode-file') return;",
      "  if (m.path.includes('crash')) process.exit(7);",
      "  parentPort.postMessage({ id: m.id, ok: false, error: { file: m.path, reason: 'stand-in', code: 'corrupt' } });",
      '});',
    ].join('\n'));
    const fragile = new DecodePool({ size: 1, workerUrl: pathToFileURL(script) });
    try {
      await expect(fragile.decodeFile('/data/crash.tif')).rejects.toMatchObject({
        name: 'ImagingError', file: '/data/crash.tif', reason: expect.stringContaining('exited with code 7'),
      });
      await expect(fragile.decodeFile('/data/next.tif')).rejects.toMatchObject({ file: '/data/next.tif', reason: 'stand-in' });
    } finally {
      await fragile.close();
    }
  });

  it('decodes DICOM files off-thread, identical to in-thread', async () => {
    const files = ['pydicom_debian/CT_small.dcm', 'pydicom_data/emri_small_RLE.dcm', 'pydicom_debian/MR_small_jpeg_ls_lossless.dcm']
      .map((f) => path.join(DICOM_DIR, f));
    for (const f of files) {
      const [viaPool, direct] = await Promise.all([pool.decodeFile(f), decodeImageFile(f)]);
      expect(viaPool.kind).toBe('dicom');
      expect(viaPool.numberOfFrames).toBe(direct.numberOfFrames);
      expect(digest(viaPool)).toBe(digest(direct));
    }
  });
});
