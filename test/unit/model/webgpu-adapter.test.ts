import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/model/backend';
import { describeAdapter, isSoftwareAdapter, vulkanDriverManifests } from '../../../core/model/webgpu';
import { pointVulkanAtSwiftShader } from './webgpu-swiftshader';

describe('software adapter detection', () => {
  it('flags Dawn fallbacks and CPU rasterisers, not real GPUs', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', device: 'lavapipe' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3060' }, true)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'x', description: 'Generic CPU device' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3060' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770 (ADL-S GT1)' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'amd', architecture: 'rdna-2', description: 'AMD Radeon RX 6600 (RADV NAVI23)' })).toBe(false);
  });

  it('describes an adapter in one line', () => {
    expect(describeAdapter({ vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader driver 5.0.0', software: true })).toBe(
      'SwiftShader driver 5.0.0 (google/swiftshader), software fallback',
    );
  });

  it('finds Vulkan driver manifests named by VK_ICD_FILENAMES and ignores missing ones', () => {
    expect(vulkanDriverManifests({ VK_ICD_FILENAMES: '/nonexistent/icd.json' })).toEqual([]);
    expect(vulkanDriverManifests({ VK_ICD_FILENAMES: `/nonexistent/icd.json:${import.meta.filename}` })).toEqual([import.meta.filename]);
    expect(vulkanDriverManifests({ XDG_CONFIG_DIRS: '/nonexistent', XDG_DATA_DIRS: '/nonexistent', XDG_DATA_HOME: '/nonexistent' })).toSatisfy(
      (found: string[]) => found.every((f) => f.startsWith('/etc/vulkan/icd.d/')),
    );
  });
});

const REPO = path.resolve(import.meta.dirname, '../../..');
function medtune(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [path.join(REPO, 'bin/medtune.mjs'), ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('medtune model backend --backend webgpu', () => {
  const icdMissing = pointVulkanAtSwiftShader();
  it.runIf(!icdMissing)('names the adapter and says it is a software fallback, with no replicas', () => {
    const r = medtune(['model', 'backend', '--backend', 'webgpu'], { MEDTUNE_BACKEND: '' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^backend: {3}webgpu on SwiftShader driver [\d.]+ \(google\/swiftshader\), software fallback \(chosen explicitly\)$/m);
    expect(r.stdout).toMatch(/^gpu: {7}SwiftShader driver [\d.]+ \(vendor google, architecture swiftshader\)$/m);
    expect(r.stdout).toMatch(/software fallback: runs on the CPU/);
    expect(r.stdout).toMatch(/^training: {2}one process on the GPU \(no replicas\)$/m);
  });
});

// With only SwiftShader, the automatic order must not pick webgpu (slower than wasm), but forcing it must.
const missing = pointVulkanAtSwiftShader();
describe.runIf(!missing)('the automatic order and a software adapter', () => {
  it('a forced webgpu without any adapter fails with the reason instead of falling back', async () => {
    const icd = process.env.VK_ICD_FILENAMES;
    // The Vulkan loader reads this at each instance Dawn creates.
    process.env.VK_ICD_FILENAMES = '/nonexistent/icd.json';
    try {
      await expect(initBackend({ force: 'webgpu' })).rejects.toThrow(/cannot use the forced backend "webgpu": webgpu: Dawn found no GPU adapter/);
    } finally {
      process.env.VK_ICD_FILENAMES = icd;
    }
  });

  it('skips webgpu with the adapter named, and takes it when forced', async () => {
    delete process.env.MEDTUNE_BACKEND;
    const auto = await initBackend();
    expect(auto.name).toBe('wasm');
    expect(auto.reason).toMatch(/webgpu: only a software adapter \(SwiftShader.*software fallback\)/);
    const forced = await initBackend({ force: 'webgpu' });
    expect(forced).toMatchObject({ name: 'webgpu', tfBackend: 'webgpu', reason: 'chosen explicitly', adapter: { architecture: 'swiftshader', software: true } });
  });
});
if (missing) it.skip(`webgpu selection on SwiftShader: ${missing}`, () => {});

