/**
 * The optional native matrix product (native/blas, OpenBLAS's sgemm through N-API). The wasm backend's
 * BatchMatMul (wasm-kernels.ts) hands it operands that live in the wasm heap, so the products — most of a
 * ViT's work — run at the machine's BLAS speed (about 5× XNNPACK's 128-bit wasm SIMD on an AVX-512 core)
 * while every other kernel stays wasm. Built by `npm run build:native` (needs libopenblas-dev, g++, make);
 * without it, or with MEDTUNE_NATIVE_BLAS=off, nothing changes.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { betterCoretype, cpuFlags } from '../util/cpu';

export interface NativeBlas {
  /** Opens OpenBLAS once per process; `coretype` ('' for none) becomes OPENBLAS_CORETYPE unless one is set. */
  open(coretype: string): void;
  /**
   * For i < batch: C_i = op(A_i)·op(B_i) (+ bias on every row) (row-major, M×K by K×N), operands at byte offsets of
   * `heap`, the i-th at offset + i·stride floats (stride 0 shares one); C_i at c + i·M·N floats. Throws on an
   * operand out of the heap.
   */
  gemm(
    heap: ArrayBuffer,
    a: number,
    b: number,
    c: number,
    batch: number,
    strideA: number,
    strideB: number,
    M: number,
    N: number,
    K: number,
    transA: boolean,
    transB: boolean,
    threads: number,
    /** Byte offset of an N-vector added to every row of C (x·W + b), or -1. */
    bias?: number,
  ): void;
  /** y = x·Φ(x) (exact GELU) on n floats at byte offsets of `heap`. */
  gelu(heap: ArrayBuffer, x: number, y: number, n: number): void;
  /** dx = dy·(Φ(x) + x·φ(x)), GELU's gradient, on n floats at byte offsets of `heap`. */
  geluGrad(heap: ArrayBuffer, x: number, dy: number, dx: number, n: number): void;
  info(): { core: string; config: string; threads: number };
}

const ADDON = path.join('native', 'blas', 'build', 'Release', 'medtune_blas.node');
let loaded: { blas: NativeBlas | null; why: string } | null = null;

/** This module's folder: ESM (tsx, vitest) has import.meta; the CommonJS Electron bundles have __dirname. */
const moduleDir = (): string => (typeof __dirname === 'string' ? __dirname : import.meta.dirname);
/** Loads the addon: the CommonJS bundles have `require`, ESM makes one. */
const loadAddon = (file: string): unknown => (typeof require === 'function' ? require : createRequire(import.meta.url))(file);

/** The built addon's path: looked for from this module up to the repository (or app) root. */
function addonPath(): string | null {
  let dir = moduleDir();
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, ADDON);
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return null;
}

/**
 * Debian's OpenBLAS 0.3.21 does not know newer Intel CPUs and picks its generic Prescott kernel (17 against
 * 89 GFLOP/s on one core here). OpenBLAS reads OPENBLAS_CORETYPE once, when it loads, so the addon opens it
 * only after setting that: the right core for a CPU with AVX2 or AVX-512, unless the user named one.
 */
function coretype(): string {
  if (process.env.OPENBLAS_CORETYPE) return '';
  try {
    return betterCoretype(cpuFlags(fs.readFileSync('/proc/cpuinfo', 'utf8'))) ?? '';
  } catch {
    return ''; // not Linux: OpenBLAS decides
  }
}

/** The native sgemm, or null with the reason (not built, switched off, failed to load). Loads once per thread. */
export function nativeBlas(): { blas: NativeBlas | null; why: string } {
  if (loaded) return loaded;
  if (process.env.MEDTUNE_NATIVE_BLAS === 'off') return (loaded = { blas: null, why: 'switched off by MEDTUNE_NATIVE_BLAS=off' });
  const file = addonPath();
  if (!file) return (loaded = { blas: null, why: 'native/blas is not built (npm run build:native)' });
  try {
    const blas = loadAddon(file) as NativeBlas;
    blas.open(coretype());
    return (loaded = { blas, why: '' });
  } catch (err) {
    return (loaded = { blas: null, why: `native/blas failed to load (${(err as Error).message.split('\n')[0]})` });
  }
}

let oneThread = false;

/** A data-parallel replica runs its products on one OpenBLAS thread: each core already runs its own replica. */
export function useOneBlasThread(): void {
  oneThread = true;
}

/** OpenBLAS threads for one product: every core, or one inside a replica. */
export const blasThreads = (): number => (oneThread ? 1 : Math.max(1, os.availableParallelism?.() ?? os.cpus().length));

/** One line for the backend's description, e.g. "OpenBLAS sgemm (SkylakeX)", or null when not in use. */
export function describeNativeBlas(): string | null {
  const { blas } = nativeBlas();
  return blas ? `OpenBLAS sgemm (${blas.info().core})` : null;
}
