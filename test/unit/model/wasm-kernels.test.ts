import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/model/backend';
import { relativeError } from '../../../core/model/ops';
import { fastWasmMatMulInstalled } from '../../../core/model/wasm-matmul';
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
];

describe('fast wasm BatchMatMul', () => {
  beforeAll(async () => {
    await initBackend({ force: 'wasm' });
  });

  it('is installed in place of the stock kernel', () => {
    // initBackend installs it unless MEDTUNE_WASM_MATMUL=stock asks for tfjs's own (used by bench:train to compare).
    expect(fastWasmMatMulInstalled()).toBe(process.env.MEDTUNE_WASM_MATMUL !== 'stock');
  });

  it.each(CASES)('$name matches the cpu backend', async ({ a, b, tA, tB }) => {
    const fn = () => tf.tidy(() => tf.matMul(seeded(a, 1), seeded(b, 2), tA, tB));
    const ref = await on('cpu', fn);
    const got = await on('wasm', fn);
    expect(got.shape).toEqual(ref.shape);
    if (ref.values.length > 0) expect(relativeError(got.values, ref.values)).toBeLessThan(1e-5);
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
});
