/**
 * Run as `node --import tsx decode-child.ts <file>`: decodes the file the way the importer does (decodeImageFile) and
 * prints one JSON line with the outcome and this process's peak resident memory, so a test can bound it.
 */
import { readFileSync } from 'node:fs';
import { decodeImageFile } from '../../../../../core/imaging/decode-file';
import { ImagingError } from '../../../../../core/imaging/types';

/** Peak RSS in bytes: VmHWM where /proc exists, else resourceUsage().maxRSS (KiB). */
function peakRssBytes(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

const file = process.argv[2];
let outcome: Record<string, unknown>;
try {
  const image = await decodeImageFile(file);
  outcome = { ok: true, frames: image.frames.length };
} catch (err) {
  outcome = err instanceof ImagingError ? { ok: false, code: err.code, message: err.message } : { ok: false, code: 'thrown', message: String(err) };
}
process.stdout.write(`${JSON.stringify({ ...outcome, peakRssBytes: peakRssBytes() })}\n`);
