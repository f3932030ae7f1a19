import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/model/backend';
import { geluErf, relativeError } from '../../../core/model/ops';
import { nativeBlas } from '../../../core/model/native-blas';
import { fastWasmKernelsInstalled, nativeGelu, setNativeMatMul } from '../../../core/model/wasm-kernels';
import '../../../core/model/register-gradients';

/** Runs `fn` on a backend and returns its result as plain numbers (shape checked separately). */
async function on(backend: string, fn: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  await initBackend({ force: backend });
  const t = fn();
  const out = { shape: [...t.shape], values: (await t.data()) as Float32Array };
  t.dispose();
  return out;
}

// Values seeded on the JS side so both backends multiply the same numbers.
function seeded(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    data[i] = s / 2 ** 31 - 0.5;
  }
  return tf.tensor(data, shape);
}

const CASES: Array<{ name: string; a: number[]; b: number[]; tA?: boolean; tB?: boolean }> = [
  { name: '2-D', a: [37, 19], b: [19, 23] },
  { name: '2-D transposeB (dense backward)', a: [37, 19], b: [23, 19], tB: true },
  { name: '2-D transposeA (weight gradient)', a: [19, 37], b: [19, 23], tA: true },
  { name: '2-D both transposed', a: [19, 37], b: [23, 19], tA: true, tB: true },
  { name: '3-D batch (attention)', a: [5, 17, 8], b: [5, 8, 17] },
  { name: '4-D batch with transposeB', a: [2, 3, 17, 8], b: [2, 3, 17, 8], tB: true },
  { name: '4-D batch with transposeA', a: [2, 3, 8, 17], b: [2, 3, 8, 6], tA: true },
  { name: 'batched × shared 2-D', a: [4, 11, 9], b: [9, 7] },
  { name: 'batched × [1, K, N]', a: [4, 11, 9], b: [1, 9, 7] },
  { name: 'shared 2-D × batched (stock broadcast path)', a: [11, 9], b: [4, 9, 7] },
  { name: 'empty rows', a: [0, 9], b: [9, 7] },
  { name: 'batched transposed × shared 2-D', a: [4, 9, 11], b: [9, 7], tA: true },
  { name: 'shared 2-D × batched, both transposed', a: [9, 11], b: [4, 7, 9], tA: true, tB: true },
  { name: 'empty inner dimension', a: [3, 0], b: [0, 4] },
];

/** XNNPACK always; OpenBLAS's sgemm when native/blas is built (npm run build:native). */
const NATIVE = nativeBlas().blas !== null;
const PATHS = [
  { path: 'XNNPACK', native: false },
  ...(NATIVE ? [{ path: 'native sgemm', native: true }] : []),
];

describe('fast wasm kernels', () => {
  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
  });

  it('is installed in place of the stock kernel', () => {
    // initBackend installs them unless MEDTUNE_WASM_KERNELS=stock asks for tfjs's own.
    expect(fastWasmKernelsInstalled()).toBe(process.env.MEDTUNE_WASM_KERNELS !== 'stock');
  });

  describe.each(PATHS)('through $path', ({ native }) => {
    beforeAll(() => {
      expect(setNativeMatMul(native)).toBe(native);
      return () => void setNativeMatMul(true);
    });

    it.each(CASES)('matMul $name matches the cpu backend', async ({ a, b, tA, tB }) => {
      const fn = () => tf.tidy(() => tf.matMul(seeded(a, 1), seeded(b, 2), tA, tB));
      const ref = await on('cpu', fn);
      const got = await on('wasm', fn);
      expect(got.shape).toEqual(ref.shape);
      if (ref.values.length > 0) expect(relativeError(got.values, ref.values)).toBeLessThan(1e-5);
    });

    it.each([
      { name: 'x·W + b (dense)', a: [37, 19], b: [19, 23], tA: false, tB: false },
      { name: 'transposed operands + b', a: [19, 37], b: [23, 19], tA: true, tB: true },
    ])('fused matMul with a bias, $name, matches the cpu backend, gradients too', async ({ a, b, tA, tB }) => {
      const n = tB ? b[0] : b[1];
      const fn = () =>
        tf.tidy(() => {
          const x = seeded(a, 1);
          const w = seeded(b, 2);
          const bias = seeded([n], 3);
          const value = tf.fused.matMul({ a: x, b: w, bias, transposeA: tA, transposeB: tB });
          const grads = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.square(tf.fused.matMul({ a: p, b: q, bias: r, transposeA: tA, transposeB: tB }))))([x, w, bias]);
          return tf.concat([value, ...grads].map((t) => tf.reshape(t, [-1])));
        });
      const ref = await on('cpu', fn);
      const got = await on('wasm', fn);
      expect(got.shape).toEqual(ref.shape);
      expect(relativeError(got.values, ref.values)).toBeLessThan(1e-5);
    });

    it('gives the gradients of a batched product (views on the heap, no copies)', async () => {
      const grads = () =>
        tf.tidy(() => {
          const x = seeded([3, 6, 5], 3);
          const y = seeded([3, 5, 4], 4);
          const [gx, gy] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q))))([x, y]);
          return tf.concat([tf.reshape(gx, [-1]), tf.reshape(gy, [-1])]);
        });
      const ref = await on('cpu', grads);
      const got = await on('wasm', grads);
      expect(relativeError(got.values, ref.values)).toBeLessThan(1e-5);
    });
  });

  describe.each(PATHS)('GELU through $path', ({ native }) => {
    beforeAll(() => {
      setNativeMatMul(native);
      return () => void setNativeMatMul(true);
    });

    it('GELU and its gradient match the cpu backend (exact erf GELU, as PyTorch)', async () => {
      const fn = () =>
        tf.tidy(() => {
          const x = tf.mul(seeded([7, 33], 9), 8);
          const value = geluErf(x);
          const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(geluErf(v), seeded([7, 33], 10))))(x);
          return tf.concat([tf.reshape(value, [-1]), tf.reshape(grad, [-1])]);
        });
      const ref = await on('cpu', fn);
      await initBackend({ force: 'wasm' });
      expect(nativeGelu()).toBe(native);
      const got = await on('wasm', fn);
      expect(relativeError(got.values, ref.values)).toBeLessThan(1e-5);
    });
  });

  it.runIf(NATIVE)('refuses an operand outside the heap instead of writing past it', () => {
    const heap = new ArrayBuffer(4 * 16);
    const { blas } = nativeBlas();
    expect(() => blas!.gemm(heap, 0, 0, 4 * 8, 1, 0, 0, 2, 2, 4, false, false, 1)).not.toThrow();
    expect(() => blas!.gemm(heap, 0, 0, 4 * 13, 1, 0, 0, 2, 2, 4, false, false, 1)).toThrow(/outside the heap/);
    expect(() => blas!.gemm(heap, 0, 4 * 10, 0, 2, 4, 4, 2, 2, 4, false, false, 1)).toThrow(/outside the heap/);
    expect(() => blas!.gemm(heap, 2, 0, 0, 1, 0, 0, 2, 2, 4, false, false, 1)).toThrow(/bad shape or offset/);
  });

  it('leaks no tensors or heap memory across repeated batched products', async () => {
    await initBackend({ force: 'wasm' });
    const a = seeded([8, 33, 16], 5);
    const b = seeded([8, 33, 16], 6);
    const run = () => tf.tidy(() => tf.sum(tf.matMul(a, b, false, true))).dispose();
    run();
    const before = tf.memory();
    for (let i = 0; i < 20; i++) run();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([a, b]);
  });

  const SLICES: Array<{ name: string; shape: number[]; begin: number[]; size: number[]; dtype?: 'float32' | 'int32' }> = [
    { name: 'leading rows (contiguous)', shape: [6, 5], begin: [2, 0], size: [3, -1] },
    { name: 'one column of a 4-D tensor', shape: [2, 3, 7, 8], begin: [0, 0, 0, 0], size: [-1, -1, -1, 1] },
    { name: 'all but the first column', shape: [2, 3, 7, 8], begin: [0, 0, 0, 1], size: [-1, -1, -1, -1] },
    { name: 'a middle block of 3-D', shape: [4, 9, 5], begin: [1, 2, 1], size: [2, 5, 3] },
    { name: 'int32 rows', shape: [5, 4], begin: [1, 1], size: [3, 2], dtype: 'int32' },
    { name: 'rank 5', shape: [2, 2, 3, 2, 4], begin: [1, 0, 1, 0, 1], size: [1, 2, 2, 2, 2] },
    { name: 'empty', shape: [4, 3], begin: [1, 0], size: [0, 3] },
  ];

  it.each(SLICES)('slice: $name matches the cpu backend', async ({ shape, begin, size, dtype }) => {
    const fn = () => tf.tidy(() => tf.slice(dtype === 'int32' ? tf.cast(tf.mul(seeded(shape, 7), 100), 'int32') : seeded(shape, 7), begin, size));
    const ref = await on('cpu', fn);
    const got = await on('wasm', fn);
    expect(got.shape).toEqual(ref.shape);
    expect(Array.from(got.values)).toEqual(Array.from(ref.values));
  });

  it('split along an inner axis (attention heads) matches the cpu backend, gradients too', async () => {
    const fn = () =>
      tf.tidy(() => {
        const x = seeded([2, 6, 5, 4], 8);
        const pieces = tf.split(x, [1, 2, 3], 1);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.split(t, 3, 1)[1], 2)))(x);
        return tf.concat([...pieces.map((p) => tf.reshape(p, [-1])), tf.reshape(g, [-1])]);
      });
    const ref = await on('cpu', fn);
    const got = await on('wasm', fn);
    expect(Array.from(got.values)).toEqual(Array.from(ref.values));
  });
});
