import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { inspectDicomFile, type DicomInspection } from '../../imaging/dicom';
import { CliError } from '../cli-error';

/** Files in a folder that are documentation, not DICOM (the same rule reference.json was built with). */
const NOT_DICOM = /^(README|SOURCES)|\.(txt|json|md|dump)$/i;

async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && !NOT_DICOM.test(entry.name)) found.push(full);
    }
  };
  await walk(dir);
  return found;
}

function formatStats(stats: unknown): string {
  if (!stats || typeof stats !== 'object') return '';
  const s = stats as { shape: number[]; dtype: string; min: number; max: number; mean: number; sha256: string };
  return `${s.dtype}[${s.shape.join('x')}] min ${s.min} max ${s.max} mean ${s.mean.toFixed(3)} sha256 ${s.sha256.slice(0, 16)}`;
}

function formatLine(name: string, r: DicomInspection): string {
  if (!r.readable) return `unreadable: ${String(r.error)}`;
  const ts = r.transferSyntaxName ?? `(no file meta, read as ${String(r.transferSyntaxInferred)})`;
  if (!r.pixelData) return `${name}: ${ts}, ${String(r.modality ?? '-')}, no pixel data`;
  const geometry = `${String(r.rows)}x${String(r.columns)}${r.numberOfFrames ? `x${String(r.numberOfFrames)}f` : ''}`;
  const head = `${name}: ${ts}, ${String(r.modality ?? '-')}, ${geometry}, ${String(r.photometricInterpretation)}, ${String(r.bitsAllocated)}/${String(r.bitsStored)} bits`;
  if (!r.decodable) return `${head}: cannot decode: ${String(r.error)}`;
  const cut = r.truncated ? ` (TRUNCATED: ${String(r.truncation)})` : '';
  return `${head} -> ${String(r.decoderOutputPhotometric)} ${formatStats(r.stored)}${cut}`;
}

/** `medtune dicom inspect <file-or-folder> [--json]`. */
export function registerDicomCommands(program: Command): void {
  const dicom = program.command('dicom').description('Inspect and decode DICOM files');
  dicom
    .command('inspect <path>')
    .description(
      'Decode a DICOM file (or every file under a folder) and print its header facts and stored-value statistics ' +
        'in the conventions of shared/data/dicom/reference.json',
    )
    .option('--json', 'print one JSON object keyed by file path (relative to the folder), like reference.json')
    .action(async (target: string, opts: { json?: boolean }) => {
      let isFolder: boolean;
      try {
        isFolder = (await stat(target)).isDirectory();
      } catch {
        throw new CliError(`${target}: no such file or folder`);
      }
      const files = isFolder ? await listFiles(target) : [target];
      const results: Record<string, DicomInspection> = {};
      for (const file of files) {
        const name = isFolder ? path.relative(target, file).split(path.sep).join('/') : path.basename(file);
        // inspectDicomFile reports failures in its result; the guard keeps one file from ever ending a folder scan.
        const result = await inspectDicomFile(file, name).catch(
          (err: unknown): DicomInspection => ({ readable: false, pixelData: false, error: `${name}: cannot be inspected (${String(err)})` }),
        );
        results[name] = result;
        if (!opts.json) process.stdout.write(`${formatLine(name, result)}\n`);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 1)}\n`);
      // A single named file that cannot be read or decoded is a failure; a folder scan reports and carries on.
      const only = results[Object.keys(results)[0]];
      if (!isFolder && only && (!only.readable || only.decodable === false)) process.exitCode = 1;
    });
}
