import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { describeNativeBlas } from './native-blas';
import { fastWasmKernelsInstalled, installFastWasmKernels } from './wasm-kernels';
import { describeAdapter, registerWebGpuBackend, webGpuAdapter, type GpuAdapterDescription } from './webgpu';

/**
 * Chooses the TensorFlow.js backend at start-up. Preference: the native CUDA build
 * (@tensorflow/tfjs-node-gpu), the native CPU build (@tensorflow/tfjs-node), WebGPU on any GPU
 * (Dawn, webgpu.ts; skipped when the only adapter is a software one), WebAssembly, then plain JS.
 * The native and WebGPU packages are optional: they are loaded by dynamic import and skipped
 * when absent or broken. MEDTUNE_BACKEND (or the `force` option) picks one explicitly; a forced
 * webgpu accepts a software adapter (SwiftShader), which is how it is tested without a GPU.
 */

export const BACKEND_NAMES = ['node-gpu', 'node', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendChoice {
  name: BackendName;
  /** The name tfjs knows it by ('tensorflow' for both native builds). */
  tfBackend: string;
  /** Why this one: forced, or the preference order with what failed before it. */
  reason: string;
  /** The GPU (adapter) webgpu runs on; only for webgpu. */
  adapter?: GpuAdapterDescription;
  /** What computes wasm's matrix products when it is not XNNPACK, e.g. "OpenBLAS sgemm (SkylakeX)". */
  matmul?: string;
}

/** Backends that compute on a GPU: one process drives it, so no data-parallel replicas. */
export const GPU_BACKENDS: readonly BackendName[] = ['node-gpu', 'webgpu'];

const NATIVE_PACKAGES: Record<'node-gpu' | 'node', string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
};

let active: BackendChoice | null = null;
let wasmPathsSet = false;

export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

/** The backend in use, or null before initBackend ran. */
export function activeBackend(): BackendChoice | null {
  return active;
}

/** Folder holding tfjs-backend-wasm's .wasm binaries (loaded from disk: no network). */
export function wasmBinaryDir(): string {
  // ESM (tsx, vitest) has no `require`; the CommonJS Electron bundles have one but an empty import.meta.
  const resolver = typeof require === 'function' ? require : createRequire(import.meta.url);
  return path.dirname(resolver.resolve('@tensorflow/tfjs-backend-wasm'));
}

async function tryBackend(name: BackendName, forced: boolean): Promise<string | null> {
  try {
    if (name === 'webgpu') {
      const failure = await registerWebGpuBackend({ allowSoftware: forced, probeDrivers: !forced });
      if (failure) return failure;
      return (await tf.setBackend('webgpu')) ? null : 'webgpu backend failed to initialise';
    }
    if (name === 'cpu') return (await tf.setBackend('cpu')) ? null : 'cpu backend failed to initialise';
    if (name === 'wasm') {
      if (!wasmPathsSet) {
        setWasmPaths(wasmBinaryDir() + path.sep);
        wasmPathsSet = true;
      }
      // Faster matMul, slice and split kernels (wasm-kernels.ts) unless MEDTUNE_WASM_KERNELS=stock asks for tfjs's own.
      if (process.env.MEDTUNE_WASM_KERNELS !== 'stock') installFastWasmKernels();
      return (await tf.setBackend('wasm')) ? null : 'wasm backend failed to initialise';
    }
    const specifier = NATIVE_PACKAGES[name];
    try {
      await import(/* @vite-ignore */ specifier);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? `${specifier} is not installed`
        : `${specifier} failed to load (${(err as Error).message.split('\n')[0]})`;
    }
    if (!tf.findBackendFactory('tensorflow')) {
      return `${specifier} loaded but registered with another copy of @tensorflow/tfjs-core (install the same version, ${tf.version_core})`;
    }
    return (await tf.setBackend('tensorflow')) ? null : `${specifier} failed to initialise`;
  } catch (err) {
    return `${name}: ${(err as Error).message}`;
  }
}

function withAdapter(choice: BackendChoice): BackendChoice {
  const adapter = choice.name === 'webgpu' ? webGpuAdapter() : null;
  const matmul = choice.name === 'wasm' && fastWasmKernelsInstalled() ? describeNativeBlas() : null;
  return { ...choice, ...(adapter ? { adapter } : {}), ...(matmul ? { matmul } : {}) };
}

function parseBackendName(value: string, source: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new BackendError(`${source}: unknown backend "${value}" (use one of ${BACKEND_NAMES.join(', ')})`);
}

/**
 * Selects and initialises the backend. Idempotent unless `force` names a different one.
 * A forced backend that cannot load is an error, not a silent fallback.
 */
export async function initBackend(options: { force?: string } = {}): Promise<BackendChoice> {
  // Silences tfjs's "install tfjs-node" banner and skips debug-only checks.
  tf.enableProdMode();
  const envForce = process.env.MEDTUNE_BACKEND?.trim();
  const forced = options.force
    ? parseBackendName(options.force, 'backend option')
    : envForce
      ? parseBackendName(envForce, 'MEDTUNE_BACKEND')
      : undefined;
  if (active && (!forced || forced === active.name)) {
    await tf.setBackend(active.tfBackend);
    return active;
  }
  if (forced) {
    const failure = await tryBackend(forced, true);
    if (failure) throw new BackendError(`cannot use the forced backend "${forced}": ${failure}`);
    active = withAdapter({ name: forced, tfBackend: tf.getBackend(), reason: options.force ? 'chosen explicitly' : 'forced by MEDTUNE_BACKEND' });
    return active;
  }
  const skipped: string[] = [];
  for (const name of BACKEND_NAMES) {
    const failure = await tryBackend(name, false);
    if (!failure) {
      const reason = skipped.length === 0 ? 'first choice' : `fallback: ${skipped.join('; ')}`;
      active = withAdapter({ name, tfBackend: tf.getBackend(), reason });
      return active;
    }
    skipped.push(failure);
  }
  throw new BackendError(`no TensorFlow.js backend could be initialised: ${skipped.join('; ')}`);
}

/** One line for CLI output, e.g. "wasm (fallback: @tensorflow/tfjs-node-gpu is not installed; ...)". */
export function describeBackend(choice: BackendChoice | null = active): string {
  if (!choice) return 'none initialised';
  return `${choice.name}${choice.adapter ? ` on ${describeAdapter(choice.adapter)}` : ''}${choice.matmul ? ` with ${choice.matmul}` : ''} (${choice.reason})`;
}
