import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { halfToFloat, parseSafetensors, serializeSafetensors } from '../../../core/model/safetensors';
import { PARITY_DIR } from '../../helpers/paths';

/** Builds a safetensors file by hand, for dtypes our writer never produces. */
function handMade(entries: Array<{ name: string; dtype: string; shape: number[]; bytes: Uint8Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}

const u16 = (values: number[]) => {
  const bytes = new Uint8Array(values.length * 2);
  values.forEach((v, i) => new DataView(bytes.buffer).setUint16(i * 2, v, true));
  return bytes;
};

describe('safetensors', () => {
  it('reads the parity fixture with shapes and metadata', async () => {
    const bytes = await readFile(path.join(PARITY_DIR, 'adapter-ept.safetensors'));
    const { tensors, metadata } = parseSafetensors(bytes, 'adapter-ept.safetensors');
    expect(metadata).toEqual({ method: 'ept' });
    expect(tensors.get('ept.layers.0.prompt')?.shape).toEqual([17, 6]);
    expect(tensors.get('head.weight')?.data).toHaveLength(5 * 48);
  });

  it('round-trips float32 tensors and metadata, data 8-byte aligned', () => {
    const a = Float32Array.from([1.5, -2, 3.25, 1e-30, 65504, -0]);
    const bytes = serializeSafetensors([['a', { shape: [2, 3], data: a }], ['b', { shape: [1], data: Float32Array.of(7) }]], { k: 'v' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const back = parseSafetensors(bytes);
    expect([...back.tensors.keys()]).toEqual(['a', 'b']);
    expect(back.tensors.get('a')).toMatchObject({ shape: [2, 3], storedDtype: 'F32' });
    expect(Array.from(back.tensors.get('a')!.data)).toEqual(Array.from(a));
    expect(back.metadata).toEqual({ k: 'v' });
  });

  it('widens F16 (incl. subnormal, infinity) and BF16 to float32', () => {
    const bytes = handMade([
      { name: 'half', dtype: 'F16', shape: [5], bytes: u16([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00]) },
      { name: 'brain', dtype: 'BF16', shape: [2], bytes: u16([0x3f80, 0xc0a0]) },
    ]);
    const { tensors } = parseSafetensors(bytes);
    const half = Array.from(tensors.get('half')!.data);
    expect(half.slice(0, 2)).toEqual([1, -2]);
    expect(half[2]).toBeCloseTo(0.33325, 5);
    expect(half[3]).toBeCloseTo(2 ** -24, 12);
    expect(half[4]).toBe(Infinity);
    expect(Array.from(tensors.get('brain')!.data)).toEqual([1, -5]);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('refuses other dtypes, naming the tensor', () => {
    const bytes = handMade([{ name: 'steps', dtype: 'I64', shape: [1], bytes: new Uint8Array(8) }]);
    expect(() => parseSafetensors(bytes, 'ckpt.safetensors')).toThrow(/ckpt\.safetensors: tensor "steps" has dtype I64/);
  });

  it('refuses truncated files and offsets outside the data section', async () => {
    const bytes = await readFile(path.join(PARITY_DIR, 'adapter-linear.safetensors'));
    expect(() => parseSafetensors(bytes.subarray(0, 4), 'x')).toThrow(/shorter than the 8-byte header/);
    expect(() => parseSafetensors(bytes.subarray(0, 100), 'x')).toThrow(/header length/);
    expect(() => parseSafetensors(bytes.subarray(0, bytes.length - 4), 'x')).toThrow(/outside the .*data section/);
  });

  it('refuses a size that does not match the shape, naming the tensor', () => {
    const bytes = handMade([{ name: 'w', dtype: 'F32', shape: [3], bytes: new Uint8Array(8) }]);
    expect(() => parseSafetensors(bytes, 'f')).toThrow(/tensor "w" of shape \[3\] F32 needs 12 bytes but has 8/);
  });
});
