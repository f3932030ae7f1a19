import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The WebGPU backend in Node: Dawn (the optional `webgpu` package, a native addon) provides the
 * WebGPU API, and @tensorflow/tfjs-backend-webgpu runs tfjs's kernels on it. Any GPU with a Vulkan,
 * Metal or Direct3D 12 driver works, no CUDA needed. Both packages are optional: they are loaded by
 * dynamic import, and a failure becomes a reason string, as for the native tfjs packages.
 */

/** What Dawn says about the adapter (GPU) the backend runs on. */
export interface GpuAdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU rasteriser (SwiftShader, llvmpipe, lavapipe…) rather than a GPU: correct, but slower than wasm. */
  software: boolean;
}

// The slice of the WebGPU API used here (the full types live in @webgpu/types, which the optional package brings).
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<unknown>;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}
interface DawnModule {
  create(options: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface TfWebGpuModule {
  WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
}

const DAWN_PACKAGE = 'webgpu';
const TFJS_WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|microsoft basic render|\bcpu\b/i;

let registered: GpuAdapterDescription | null = null;

/** The adapter the webgpu backend was registered with, or null before it was. */
export function webGpuAdapter(): GpuAdapterDescription | null {
  return registered;
}

/** True for a software (CPU) adapter: Dawn's fallback flag or a known software driver's name. */
export function isSoftwareAdapter(info: AdapterInfoLike, adapterFallbackFlag = false): boolean {
  if (info.isFallbackAdapter || adapterFallbackFlag) return true;
  return SOFTWARE_NAMES.test([info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' '));
}

export function describeAdapter(a: GpuAdapterDescription): string {
  const name = a.description || a.device || 'unnamed adapter';
  const detail = [a.vendor, a.architecture].filter(Boolean).join('/');
  return `${name}${detail ? ` (${detail})` : ''}${a.software ? ', software fallback' : ''}`;
}

/**
 * Folders where the Vulkan loader looks for drivers (ICD manifests) on Linux. With none there,
 * Dawn would print loader warnings and find nothing, so the automatic order skips it quietly.
 */
export function vulkanDriverManifests(env: NodeJS.ProcessEnv = process.env): string[] {
  const explicit = [env.VK_ICD_FILENAMES, env.VK_DRIVER_FILES, env.VK_ADD_DRIVER_FILES].filter(Boolean).join(path.delimiter);
  if (explicit) return explicit.split(path.delimiter).filter((f) => fs.existsSync(f));
  const configDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const dataDirs = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local/share');
  const dirs = [...configDirs, '/etc', dataHome, ...dataDirs].map((d) => path.join(d, 'vulkan', 'icd.d'));
  return dirs.flatMap((d) => {
    try {
      return fs.readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => path.join(d, f));
    } catch {
      return [];
    }
  });
}

async function importOptional<T>(specifier: string): Promise<T | string> {
  try {
    return (await import(/* @vite-ignore */ specifier)) as T;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
      ? `${specifier} is not installed`
      : `${specifier} failed to load (${(err as Error).message.split('\n')[0]})`;
  }
}

/** tfjs-backend-webgpu reads navigator.gpu and the GPUBufferUsage/GPUMapMode/… globals of a browser. */
function installGpuGlobals(dawn: DawnModule, gpu: GpuLike): void {
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  // Node ≥ 21 and Electron already have a navigator (without gpu); Node 20 has none.
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

export const SYNC_READ_MESSAGE =
  'the webgpu backend cannot read a GPU tensor synchronously in Node (dataSync/arraySync need a browser OffscreenCanvas): use await tensor.data()';

/**
 * tfjs-backend-webgpu reads synchronously through a browser OffscreenCanvas, which Node lacks, and
 * Dawn offers no blocking map: say so plainly instead of "OffscreenCanvas is not defined".
 * Tensors whose values are still on the CPU (not yet uploaded) read synchronously as before.
 */
function withNodeReadSync(backend: tf.KernelBackend): tf.KernelBackend {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return backend;
  const b = backend as tf.KernelBackend & { hasReadSyncWarned?: boolean };
  // Its "synchronous reads are slow" warning would precede the error.
  b.hasReadSyncWarned = true;
  const readSync = b.readSync.bind(b);
  b.readSync = (dataId: object) => {
    try {
      return readSync(dataId);
    } catch (err) {
      if (err instanceof ReferenceError && /OffscreenCanvas/.test(err.message)) throw new Error(SYNC_READ_MESSAGE);
      throw err;
    }
  };
  return b;
}

/**
 * Finds an adapter through Dawn and registers tfjs's 'webgpu' backend on it (not yet selected).
 * Returns null on success, else why not. `allowSoftware` admits a CPU fallback adapter (tests).
 * Idempotent: the first registration is kept.
 */
export async function registerWebGpuBackend(options: { allowSoftware: boolean; probeDrivers: boolean }): Promise<string | null> {
  if (registered) {
    return registered.software && !options.allowSoftware ? `webgpu: only a software adapter (${describeAdapter(registered)})` : null;
  }
  if (options.probeDrivers && process.platform === 'linux' && vulkanDriverManifests().length === 0) {
    return 'webgpu: no Vulkan driver installed (no ICD manifest in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d)';
  }
  const dawn = await importOptional<DawnModule>(DAWN_PACKAGE);
  if (typeof dawn === 'string') return dawn;
  let gpu: GpuLike;
  let adapter: AdapterLike | null;
  try {
    gpu = dawn.create((process.env.MEDTUNE_DAWN_OPTIONS ?? '').split(' ').filter(Boolean));
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return `webgpu: Dawn failed (${(err as Error).message.split('\n')[0]})`;
  }
  if (!adapter) return 'webgpu: Dawn found no GPU adapter (no working Vulkan, Metal or Direct3D 12 driver)';
  const info = adapter.info ?? {};
  const description: GpuAdapterDescription = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: isSoftwareAdapter(info, adapter.isFallbackAdapter),
  };
  if (description.software && !options.allowSoftware) return `webgpu: only a software adapter (${describeAdapter(description)})`;

  installGpuGlobals(dawn, gpu);
  const tfWebGpu = await importOptional<TfWebGpuModule>(TFJS_WEBGPU_PACKAGE);
  if (typeof tfWebGpu === 'string') return tfWebGpu;
  if (!tf.getKernelsForBackend('webgpu').length) {
    return `${TFJS_WEBGPU_PACKAGE} loaded but registered with another copy of @tensorflow/tfjs-core (install the same version, ${tf.version_core})`;
  }
  // Our own factory, on the adapter chosen above (the package's would request its own).
  // The same device limits and features tfjs-backend-webgpu asks for in its base.ts.
  const limits = adapter.limits;
  const requiredLimits: Record<string, number> = {};
  for (const name of [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ]) {
    requiredLimits[name] = limits[name];
  }
  const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
  let device: unknown;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (err) {
    return `webgpu: the adapter refused a device (${(err as Error).message.split('\n')[0]})`;
  }
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => withNodeReadSync(new tfWebGpu.WebGPUBackend(device, info)), 0);
  registered = description;
  return null;
}
