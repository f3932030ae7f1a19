/**
 * Zip entries are read under a cap (a ratio of their compressed size, never less than ZIP_RATIO_FREE_BYTES): a small
 * entry that inflates to 1 GiB is refused as too-large instead of being buffered.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkspaceError } from '../../../core/store/errors';
import { listImportInputs, zipEntryCap, ZIP_RATIO_FREE_BYTES } from '../../../core/store/import-sources';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-zip-cap-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A zip (Python's zipfile, deflated) whose entries are `size` zero bytes each, written in 16 MiB chunks. */
function zipOfZeros(file: string, entries: Record<string, number>): void {
  const script = [
    'import sys, json, zipfile',
    'sizes = json.loads(sys.argv[2])',
    'with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:',
    '    for name, size in sizes.items():',
    '        with z.open(name, "w", force_zip64=True) as f:',
    '            chunk = bytes(16 * 1024 * 1024)',
    '            left = size',
    '            while left > 0:',
    '                f.write(chunk[:min(left, len(chunk))])',
    '                left -= len(chunk)',
  ].join('\n');
  execFileSync('python3', ['-c', script, file, JSON.stringify(entries)]);
}

describe('zip entry inflation cap', () => {
  it('refuses an entry of ~1 MB that inflates to 1 GiB with a too-large error, and reads a small one', async () => {
    const zip = path.join(root, 'bomb.zip');
    zipOfZeros(zip, { 'zeros.dcm': 1024 ** 3, 'small.dcm': 10 * 1024 ** 2 });
    expect(fs.statSync(zip).size).toBeLessThan(2 * 1024 ** 2);
    const listing = await listImportInputs([zip]);
    try {
      const bomb = listing.candidates.find((c) => c.source.endsWith('!/zeros.dcm'))!;
      const error = await bomb.read().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(WorkspaceError);
      expect((error as WorkspaceError).code).toBe('too-large');
      expect((error as WorkspaceError).message).toMatch(/zip entry zeros\.dcm declares 1073741824 bytes, more than \d+ bytes/);

      // 10 MiB of zeros compresses ~1000:1 too, but stays under the size that is always allowed.
      const small = listing.candidates.find((c) => c.source.endsWith('!/small.dcm'))!;
      const bytes = await small.read();
      expect(bytes.length).toBe(10 * 1024 ** 2);
      expect(bytes.every((b) => b === 0)).toBe(true);
    } finally {
      listing.close();
    }
  }, 120_000);

  it('sizes the cap from the compressed size', () => {
    expect(zipEntryCap(1000)).toBe(ZIP_RATIO_FREE_BYTES);
    expect(zipEntryCap(1024 ** 2)).toBe(200 * 1024 ** 2);
    expect(zipEntryCap(1024 ** 3)).toBe(2 * 1024 ** 3);
  });
});
