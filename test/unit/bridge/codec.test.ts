import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../core/bridge/codec';

describe('bridge codec', () => {
  it('round-trips plain JSON', () => {
    const msg = { type: 'result', id: 3, result: { ok: true, value: { a: [1, 'x', null], b: { c: true } } } };
    expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
  });

  it('carries typed arrays of every kind as binary, keeping values and types', () => {
    const i16 = Int16Array.from([-32768, -1, 0, 1, 32767]);
    const f32 = Float32Array.from([0.5, -1.25, Number.NaN]);
    const u8 = Uint8Array.from([1, 2, 3]);
    const sub = new Uint16Array(Uint16Array.from([9, 8, 7, 6]).buffer, 2, 2); // a view with an offset
    const msg = { frames: [i16, u8], nested: { f32, sub }, f64: Float64Array.from([Math.PI]) };
    const encoded = encodeMessage(msg);
    expect(encoded.byteLength).toBeLessThan(400);
    const out = decodeMessage(encoded) as typeof msg;
    expect(out.frames[0]).toBeInstanceOf(Int16Array);
    expect(Array.from(out.frames[0])).toEqual(Array.from(i16));
    expect(Array.from(out.frames[1])).toEqual([1, 2, 3]);
    expect(out.nested.f32).toBeInstanceOf(Float32Array);
    expect(out.nested.f32[1]).toBe(-1.25);
    expect(Number.isNaN(out.nested.f32[2])).toBe(true);
    expect(Array.from(out.nested.sub)).toEqual([8, 7]);
    expect(out.f64[0]).toBe(Math.PI);
  });

  it('refuses a truncated message', () => {
    const encoded = encodeMessage({ a: new Float64Array(16) });
    expect(() => decodeMessage(encoded.subarray(0, encoded.length - 8))).toThrow(/truncated/);
  });
});
