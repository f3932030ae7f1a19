/**
 * Makes the PyTorch reference run OpenBLAS's best kernels. Debian's OpenBLAS 0.3.21 does not know
 * newer Intel CPUs and falls back to its generic Prescott kernel (a 1024³ matmul at ~42 GFLOP/s
 * instead of ~160 with SkylakeX on the same core). We ask OpenBLAS which core it chose
 * (OPENBLAS_VERBOSE=2 prints "Core: …" when the library loads) and, when that is a generic one on a CPU
 * with AVX2 or AVX-512, name the right core type in OPENBLAS_CORETYPE for the reference's process.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { betterCoretype, cpuFlags } from '../core/util/cpu';

/** Cores OpenBLAS picks when it does not recognise the CPU (pre-AVX kernels). */
const GENERIC_CORES = new Set(['prescott', 'core2', 'nehalem', 'katmai', 'coppermine', 'northwood', 'penryn', 'dunnington', 'atom', 'barcelona', 'opteron', 'generic']);

export interface OpenBlasChoice {
  /** The environment to start the reference with. */
  env: NodeJS.ProcessEnv;
  /** The core OpenBLAS picks on its own ('' when it did not say, e.g. torch linked to MKL). */
  detected: string;
  /** What we set, when we did. */
  coretype?: string;
  /** One line for the benchmark's output. */
  note: string;
}

export function parseOpenBlasCore(output: string): string {
  return /Core:\s*(\S+)/.exec(output)?.[1] ?? '';
}

/** Environment for `python` running torch with OpenBLAS's best kernels (an OPENBLAS_CORETYPE already set is left alone). */
export function openBlasEnvironment(python: string, base: NodeJS.ProcessEnv = process.env): OpenBlasChoice {
  if (base.OPENBLAS_CORETYPE) return { env: base, detected: '', coretype: base.OPENBLAS_CORETYPE, note: `OpenBLAS: OPENBLAS_CORETYPE=${base.OPENBLAS_CORETYPE} (set by you)` };
  const probe = spawnSync(python, ['-c', 'import torch'], { env: { ...base, OPENBLAS_VERBOSE: '2' }, encoding: 'utf8' });
  const detected = parseOpenBlasCore(`${probe.stdout ?? ''}${probe.stderr ?? ''}`);
  if (!detected) return { env: base, detected, note: 'OpenBLAS: no core reported (torch may not use OpenBLAS); environment unchanged' };
  let cpuinfo = '';
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: nothing to decide from.
  }
  const coretype = GENERIC_CORES.has(detected.toLowerCase()) ? betterCoretype(cpuFlags(cpuinfo)) : undefined;
  if (!coretype) return { env: base, detected, note: `OpenBLAS: core ${detected}, kept` };
  return {
    env: { ...base, OPENBLAS_CORETYPE: coretype },
    detected,
    coretype,
    note: `OpenBLAS chose its generic ${detected} kernel on a CPU with ${coretype === 'SkylakeX' ? 'AVX-512' : 'AVX2'}: the PyTorch reference runs with OPENBLAS_CORETYPE=${coretype}`,
  };
}
