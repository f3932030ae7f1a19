import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { activeBackend, describeBackend, initBackend } from '../../../core/model/backend';
import { nativeBlas } from '../../../core/model/native-blas';

// Native tfjs-node(-gpu) is not installed in CI and there is no GPU for webgpu: the selection must fall through to wasm.
describe('backend selection', () => {
  const saved = process.env.MEDTUNE_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.MEDTUNE_BACKEND;
    else process.env.MEDTUNE_BACKEND = saved;
  });

  it('falls back past the missing native packages to wasm and says why', async () => {
    delete process.env.MEDTUNE_BACKEND;
    const choice = await initBackend();
    expect(choice.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.reason).toMatch(/@tensorflow\/tfjs-node-gpu is not installed; @tensorflow\/tfjs-node is not installed; webgpu: /);
    expect(choice.reason).toMatch(/webgpu: (no Vulkan driver installed|only a software adapter|Dawn found no GPU adapter)/);
    expect(choice.adapter).toBeUndefined();
    expect(activeBackend()).toEqual(choice);
    // Its matrix products go to OpenBLAS when native/blas is built (npm run build:native), and it says so.
    expect(choice.matmul).toBe(nativeBlas().blas ? `OpenBLAS sgemm (${nativeBlas().blas!.info().core})` : undefined);
    expect(describeBackend()).toMatch(nativeBlas().blas ? /^wasm with OpenBLAS sgemm \(\w+\) \(fallback: / : /^wasm \(fallback: /);
    // wasm really computes (its binary was found on disk).
    expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
  });

  it('MEDTUNE_BACKEND forces one', async () => {
    process.env.MEDTUNE_BACKEND = 'cpu';
    const choice = await initBackend();
    expect(choice).toEqual({ name: 'cpu', tfBackend: 'cpu', reason: 'forced by MEDTUNE_BACKEND' });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('refuses an unknown or unavailable forced backend instead of silently falling back', async () => {
    process.env.MEDTUNE_BACKEND = 'cuda';
    await expect(initBackend()).rejects.toThrow(/MEDTUNE_BACKEND: unknown backend "cuda" \(use one of node-gpu, node, webgpu, wasm, cpu\)/);
    await expect(initBackend({ force: 'node-gpu' })).rejects.toThrow(/forced backend "node-gpu": @tensorflow\/tfjs-node-gpu is not installed/);
  });
});
