import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { WorkspaceError } from '../../../../core/store';
import { tinyDicomSet, writeTinyDicom, type TinyDicom } from './dicom-writer';

const made: string[] = [];

/** A fresh temp folder, removed after the test. */
export function tempDir(prefix = 'medtune-store-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes tiny DICOM files as `<dir>/<name>.dcm`; returns their paths. */
export function writeDicomFiles(dir: string, items: TinyDicom[], name = (i: number) => `im${String(i).padStart(5, '0')}.dcm`): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return items.map((d, i) => {
    const file = path.join(dir, name(i));
    fs.writeFileSync(file, writeTinyDicom(d));
    return file;
  });
}

export { tinyDicomSet, writeTinyDicom };

/** The WorkspaceError code `fn` throws ('no error' when it does not; other errors propagate). */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof WorkspaceError) return err.code;
    throw err;
  }
  return 'no error';
}
