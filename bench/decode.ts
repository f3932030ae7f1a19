/**
 * Decode benchmark: every file under shared/data/dicom plus the DRIVE fundus images, decoded in this thread
 * (one core, like the dcmtk tools), reported as ms per file per transfer-syntax group, next to Debian's dcmtk
 * (dcmdjpeg / dcmdrle / dcmdjpls / dcmdjp2k, dcm2pnm for uncompressed data) run on the same files in the same run.
 *
 *   npm run bench:decode [-- --repeat 5] [-- --json out.json]
 *
 * dcmtk timings include starting a process and loading its dictionary; that fixed cost is estimated by the tool's
 * fastest file in the run, and a second ratio is taken against the net time, so small files are not flattered. Files our decoder cannot decode yet are
 * counted as failures, never fatal; files without pixel data are listed apart.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImageBytes } from '../core/imaging/decode-file';
import { DecodePool } from '../core/imaging/decode-pool';
import { ImagingError } from '../core/imaging/types';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_DIR = process.env.MEDTUNE_SHARED ?? path.resolve(REPO_ROOT, '..', 'shared');
const DICOM_DIR = path.join(SHARED_DIR, 'data', 'dicom');
const DRIVE_DIR = path.join(SHARED_DIR, 'data', 'fundus', 'DRIVE', 'training', 'images');

interface ReferenceEntry {
  transferSyntax?: string | null;
  transferSyntaxName?: string | null;
  pixelData?: boolean;
}

interface FileResult {
  file: string;
  group: string;
  status: 'ok' | 'failed' | 'no-pixel-data';
  error?: string;
  oursMs?: number;
  dcmtkTool?: string;
  dcmtkMs?: number;
  dcmtkError?: string;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const REPEAT = Math.max(1, Number(argValue('--repeat') ?? 3));
const JSON_OUT = argValue('--json');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- dcmtk -------------------------------------------------------------------------------------------------------

const TOOL_BY_SYNTAX: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'dcmdjpeg',
  '1.2.840.10008.1.2.4.51': 'dcmdjpeg',
  '1.2.840.10008.1.2.4.57': 'dcmdjpeg',
  '1.2.840.10008.1.2.4.70': 'dcmdjpeg',
  '1.2.840.10008.1.2.5': 'dcmdrle',
  '1.2.840.10008.1.2.4.80': 'dcmdjpls',
  '1.2.840.10008.1.2.4.81': 'dcmdjpls',
  '1.2.840.10008.1.2.4.90': 'dcmdjp2k',
  '1.2.840.10008.1.2.4.91': 'dcmdjp2k',
  '1.2.840.10008.1.2.4.201': 'dcmdjp2k',
  '1.2.840.10008.1.2.4.202': 'dcmdjp2k',
  '1.2.840.10008.1.2.4.203': 'dcmdjp2k',
};

/** Which dcmtk tools are installed (a missing tool is reported, never fatal). */
const installedTools = new Map<string, boolean>();
function probeTool(tool: string): boolean {
  if (!installedTools.has(tool)) installedTools.set(tool, !spawnSync(tool, ['--version'], { stdio: 'ignore' }).error);
  return installedTools.get(tool)!;
}

function dcmtkToolFor(syntax: string | undefined): string | undefined {
  const specific = syntax ? TOOL_BY_SYNTAX[syntax] : undefined;
  if (specific && probeTool(specific)) return specific;
  if (specific) return undefined; // compressed, and no dcmtk decoder for it here (Debian ships no dcmdjp2k)
  return probeTool('dcm2pnm') ? 'dcm2pnm' : undefined;
}

function timeDcmtk(tool: string, file: string, outDir: string): { ms?: number; error?: string } {
  const out = path.join(outDir, tool === 'dcm2pnm' ? 'out.pnm' : 'out.dcm');
  const args = tool === 'dcm2pnm' ? ['--all-frames', file, out] : [file, out];
  const runs: number[] = [];
  for (let i = 0; i < REPEAT + 1; i++) {
    const t0 = performance.now();
    const r = spawnSync(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - t0;
    if (r.status !== 0) return { error: `${tool} exit ${r.status}: ${String(r.stderr).split('\n')[0].slice(0, 100)}` };
    if (i > 0) runs.push(ms); // first run warms the page cache
  }
  return { ms: median(runs) };
}

function fixedCost(results: FileResult[], tool: string): number | undefined {
  const times = results.filter((r) => r.dcmtkTool === tool && r.dcmtkMs !== undefined).map((r) => r.dcmtkMs!);
  return times.length ? Math.min(...times) : undefined;
}

// ---- ours --------------------------------------------------------------------------------------------------------

async function timeOurs(bytes: Uint8Array, file: string): Promise<{ ms?: number; error?: ImagingError | Error }> {
  const runs: number[] = [];
  for (let i = 0; i < REPEAT + 1; i++) {
    const t0 = performance.now();
    try {
      await decodeImageBytes(bytes, file);
    } catch (err) {
      return { error: err instanceof Error ? err : new Error(String(err)) };
    }
    if (i > 0) runs.push(performance.now() - t0); // first run loads codecs and JIT-compiles
  }
  return { ms: median(runs) };
}

// ---- report ------------------------------------------------------------------------------------------------------

function pad(s: string | number, n: number, left = false): string {
  const t = String(s);
  return left ? t.padStart(n) : t.padEnd(n);
}
const fmt = (ms: number | undefined) => (ms === undefined ? '–' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

async function main(): Promise<void> {
  const referencePath = path.join(DICOM_DIR, 'reference.json');
  const reference: Record<string, ReferenceEntry> = JSON.parse(readFileSync(referencePath, 'utf8'));
  const dicomFiles = walk(DICOM_DIR).filter((f) => !/\.(json|txt|md)$/i.test(f)).sort();
  const driveFiles = walk(DRIVE_DIR).sort();
  const outDir = mkdtempSync(path.join(tmpdir(), 'medtune-bench-decode-'));
  const results: FileResult[] = [];

  const installed = ['dcmdjpeg', 'dcmdrle', 'dcmdjpls', 'dcmdjp2k', 'dcm2pnm'].filter((t) => probeTool(t));
  console.log(`decode benchmark: ${dicomFiles.length} DICOM + ${driveFiles.length} DRIVE files, median of ${REPEAT} runs each (after one warm-up)`);
  console.log(installed.length ? `dcmtk tools found: ${installed.join(', ')}` : 'dcmtk not found (apt-get install dcmtk): comparison skipped');

  for (const file of [...dicomFiles, ...driveFiles]) {
    const rel = path.relative(DICOM_DIR, file);
    const isDicomSet = !rel.startsWith('..');
    const ref = isDicomSet ? reference[rel] : undefined;
    const syntax = ref?.transferSyntax ?? undefined;
    const group = isDicomSet ? (ref?.transferSyntaxName ?? (ref ? 'no file meta / no transfer syntax' : 'not in reference.json')) : `photo: ${path.extname(file).slice(1)}`;
    const bytes = new Uint8Array(readFileSync(file));
    const ours = await timeOurs(bytes, file);
    const result: FileResult = { file: isDicomSet ? rel : path.basename(file), group, status: 'ok' };
    if (ours.error) {
      const noPixels = (ours.error instanceof ImagingError && ours.error.code === 'no-pixel-data') || ref?.pixelData === false;
      result.status = noPixels ? 'no-pixel-data' : 'failed';
      result.error = ours.error instanceof ImagingError ? ours.error.reason : ours.error.message;
    } else {
      result.oursMs = ours.ms;
    }
    if (isDicomSet && result.status !== 'no-pixel-data') {
      const tool = dcmtkToolFor(syntax);
      if (tool) {
        result.dcmtkTool = tool;
        const d = timeDcmtk(tool, file, outDir);
        result.dcmtkMs = d.ms;
        result.dcmtkError = d.error;
      }
    }
    results.push(result);
  }
  rmSync(outDir, { recursive: true, force: true });

  // Group table.
  const groups = new Map<string, FileResult[]>();
  for (const r of results) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  const header = [pad('group', 52), pad('files', 5, true), pad('ok', 4, true), pad('fail', 4, true), pad('noPx', 4, true),
    pad('ours ms/file', 13, true), pad('dcmtk tool', 11, true), pad('dcmtk ms', 9, true), pad('fixed ms', 9, true), pad('ours/wall', 9, true), pad('ours/net', 9, true)].join(' ');
  console.log(`\n${header}\n${'-'.repeat(header.length)}`);
  let totalFailed = 0;
  for (const [group, rs] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const ok = rs.filter((r) => r.status === 'ok');
    const failed = rs.filter((r) => r.status === 'failed');
    totalFailed += failed.length;
    const oursMean = ok.length ? ok.reduce((s, r) => s + r.oursMs!, 0) / ok.length : undefined;
    // The ratio compares like with like: files both sides decoded.
    const both = ok.filter((r) => r.dcmtkMs !== undefined);
    const tools = [...new Set(rs.map((r) => r.dcmtkTool).filter(Boolean))].join('/');
    const byDcmtk = rs.filter((r) => r.dcmtkMs !== undefined);
    const dcmtkMean = byDcmtk.length ? byDcmtk.reduce((s, r) => s + r.dcmtkMs!, 0) / byDcmtk.length : undefined;
    const dcmtkMeanBoth = both.length ? both.reduce((s, r) => s + r.dcmtkMs!, 0) / both.length : undefined;
    // A dcmtk tool's fixed cost (process start, loading its data dictionary) is estimated by its fastest file in
    // this run, so `net` is a conservative per-file decode time.
    const fixed = tools ? fixedCost(results, tools.split('/')[0]) : undefined;
    const oursBoth = both.length ? both.reduce((s, r) => s + r.oursMs!, 0) / both.length : undefined;
    const net = dcmtkMeanBoth !== undefined && fixed !== undefined ? dcmtkMeanBoth - fixed : undefined;
    const wallRatio = oursBoth !== undefined && dcmtkMeanBoth !== undefined ? `${(oursBoth / dcmtkMeanBoth).toFixed(2)}x` : '–';
    const ratio = oursBoth !== undefined && net !== undefined && net >= 0.5 ? `${(oursBoth / net).toFixed(2)}x` : '–';
    console.log([pad(group.slice(0, 52), 52), pad(rs.length, 5, true), pad(ok.length, 4, true), pad(failed.length, 4, true),
      pad(rs.length - ok.length - failed.length, 4, true), pad(fmt(oursMean), 13, true), pad(tools || (group.startsWith('photo') ? 'n/a' : 'none'), 11, true),
      pad(fmt(dcmtkMean), 9, true), pad(fmt(fixed), 9, true), pad(wallRatio, 9, true), pad(ratio, 9, true)].join(' '));
  }
  console.log(
    '\nours/wall = our ms ÷ dcmtk wall ms (dcmtk includes starting a process); ours/net = our ms ÷ (dcmtk ms − fixed ms),' +
      '\nfixed ms = the tool\'s fastest file in this run (process start + dictionary); both over files both sides decoded;' +
      '\n< 1 means faster than dcmtk. Ours runs in-process, one thread, after a warm-up.',
  );

  const failures = results.filter((r) => r.status === 'failed');
  if (failures.length) {
    // One line per distinct reason, with a few example files: a missing codec fails dozens of files the same way.
    const byReason = new Map<string, string[]>();
    for (const f of failures) {
      const reason = (f.error ?? '').slice(0, 140);
      byReason.set(reason, [...(byReason.get(reason) ?? []), f.file]);
    }
    console.log(`\n${failures.length} file(s) our decoder could not decode:`);
    for (const [reason, files] of byReason) {
      console.log(`  ${files.length} × ${reason}\n      e.g. ${files.slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''}`);
    }
  }
  const dcmtkFailures = results.filter((r) => r.dcmtkError);
  if (dcmtkFailures.length) {
    console.log(`\n${dcmtkFailures.length} file(s) dcmtk could not decode (excluded from ratios):`);
    for (const f of dcmtkFailures) console.log(`  ${f.file}: ${f.dcmtkError}`);
  }

  // Throughput with the worker pool (what an import uses) versus in-thread, on the DRIVE photos.
  const pool = new DecodePool();
  try {
    await Promise.all(driveFiles.slice(0, pool.size).map((f) => pool.decodeFile(f)));
    const t0 = performance.now();
    await Promise.all(driveFiles.map((f) => pool.decodeFile(f)));
    const poolMs = performance.now() - t0;
    const t1 = performance.now();
    for (const f of driveFiles) await decodeImageBytes(new Uint8Array(readFileSync(f)), f);
    const serialMs = performance.now() - t1;
    console.log(`\nDRIVE ${driveFiles.length} files incl. reading: in-thread ${serialMs.toFixed(0)} ms, DecodePool(${pool.size} workers) ${poolMs.toFixed(0)} ms`);
  } finally {
    await pool.close();
  }

  if (JSON_OUT) {
    writeFileSync(JSON_OUT, JSON.stringify({ repeat: REPEAT, dcmtk: Object.fromEntries(installedTools), results }, null, 1));
    console.log(`per-file results written to ${JSON_OUT} (${statSync(JSON_OUT).size} bytes)`);
  }
  console.log(`\n${totalFailed} decode failure(s) out of ${results.length} files`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
