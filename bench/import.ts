/**
 * Import benchmark: writes N small DICOM files (explicit VR LE, 64×64×16 bit; default 2,000) to a temp
 * folder, then in the same run measures
 *   1. a plain file copy of the set (read + write each file, like `cp -r`, no fsync), the same copy
 *      with an fsync per file (what durable storage costs on this disk), and
 *   2. `medtune import` of the set into a fresh workspace (parse header, SHA-256, durable blob write,
 *      database rows in batched transactions),
 * and prints files/s for both and the import/copy time ratio.
 *
 *   npm run bench:import [-- --files 2000] [-- --reference]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Workspace } from '../core/store';
import { tinyDicomSet, writeTinyDicom } from '../test/unit/store/helpers/dicom-writer';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const count = arg('files', 2000);
const reference = process.argv.includes('--reference');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-bench-import-'));
try {
  const input = path.join(root, 'in');
  fs.mkdirSync(input);
  const files = tinyDicomSet(count, { perSeries: 50 }).map((d, i) => {
    const file = path.join(input, `im${String(i).padStart(5, '0')}.dcm`);
    fs.writeFileSync(file, writeTinyDicom({ ...d, rows: 64, columns: 64 }));
    return file;
  });
  const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);

  const copyDir = path.join(root, 'copy');
  fs.mkdirSync(copyDir);
  let t = performance.now();
  for (const f of files) fs.writeFileSync(path.join(copyDir, path.basename(f)), fs.readFileSync(f));
  const copyMs = performance.now() - t;

  // The same copy made durable (fsync per file), as the importer does for its blobs.
  const syncDir = path.join(root, 'copy-fsync');
  fs.mkdirSync(syncDir);
  t = performance.now();
  for (const f of files) {
    const fd = fs.openSync(path.join(syncDir, path.basename(f)), 'w');
    fs.writeSync(fd, fs.readFileSync(f));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  const syncCopyMs = performance.now() - t;

  const ws = Workspace.create(path.join(root, 'ws'));
  t = performance.now();
  const report = await ws.import([input], { reference });
  const importMs = performance.now() - t;
  t = performance.now();
  const rerun = await ws.import([input]);
  const rerunMs = performance.now() - t;
  ws.close();
  if (report.imported !== count || rerun.duplicates !== count) throw new Error(`unexpected counts: ${JSON.stringify({ report, rerun })}`);

  const rate = (ms: number) => ((count / ms) * 1000).toFixed(0);
  console.log(`files: ${count} (${(bytes / 1024 / 1024).toFixed(1)} MiB), ${os.cpus().length} CPUs, node ${process.version}`);
  console.log(`plain copy:        ${copyMs.toFixed(0).padStart(6)} ms  ${rate(copyMs).padStart(6)} files/s`);
  console.log(`copy + fsync each: ${syncCopyMs.toFixed(0).padStart(6)} ms  ${rate(syncCopyMs).padStart(6)} files/s`);
  console.log(`import${reference ? ' (reference)' : ''}:${reference ? '' : '            '}${importMs.toFixed(0).padStart(6)} ms  ${rate(importMs).padStart(6)} files/s   ratio to copy ${(importMs / copyMs).toFixed(1)}×, to durable copy ${(importMs / syncCopyMs).toFixed(2)}×`);
  console.log(`re-import (dups):  ${rerunMs.toFixed(0).padStart(6)} ms  ${rate(rerunMs).padStart(6)} files/s`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
