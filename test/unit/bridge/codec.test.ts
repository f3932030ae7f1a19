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

  it('keeps typed arrays in place among integer-like keys and many siblings', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ kind: 'x', i, array: Int32Array.of(i, -2 * i - 1) }));
    const msg = { '10': Uint8Array.of(10), '2': Uint8Array.of(2), b: Uint8Array.of(98), a: Uint8Array.of(97), many };
    const out = decodeMessage(encodeMessage(msg)) as typeof msg;
    expect([out['10'][0], out['2'][0], out.b[0], out.a[0]]).toEqual([10, 2, 98, 97]);
    expect(out.many).toHaveLength(5000);
    for (const [i, entry] of out.many.entries()) {
      expect(entry.kind).toBe('x');
      expect(Array.from(entry.array)).toEqual([i, -2 * i - 1]);
    }
  });
});

/** A message as a peer could forge it: [u32 JSON length][JSON], then `binary`, 8-aligned. */
function forged(json: string, binary: number[] = []): Uint8Array {
  const text = new TextEncoder().encode(json);
  const start = (4 + text.length + 7) & ~7;
  const out = new Uint8Array(start + binary.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 4);
  out.set(binary, start);
  return out;
}

describe('bridge codec with untrusted input', () => {
  it('accepts only its own typed-array kinds, not inherited property names', () => {
    for (const kind of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'DataView', 'BigInt64Array', 1, null]) {
      const msg = forged(JSON.stringify({ a: { $typed: kind, $i: 0, $n: 1 } }), [1, 0, 0, 0, 0, 0, 0, 0]);
      expect(() => decodeMessage(msg), String(kind)).toThrow(/unknown typed array kind/);
    }
  });

  it('refuses placeholders out of order, repeated, or with a bad length', () => {
    const eight = [1, 2, 3, 4, 5, 6, 7, 8];
    const bad = [
      '[{"$typed":"Uint8Array","$i":1,"$n":1}]',
      '[{"$typed":"Uint8Array","$i":0,"$n":1},{"$typed":"Uint8Array","$i":0,"$n":1}]',
      '[{"$typed":"Uint8Array","$i":"0","$n":1}]',
      '[{"$typed":"Uint8Array","$i":0,"$n":-1}]',
      '[{"$typed":"Uint8Array","$i":0,"$n":1.5}]',
      '[{"$typed":"Uint8Array","$i":0}]',
    ];
    for (const json of bad) expect(() => decodeMessage(forged(json, eight)), json).toThrow(/placeholder/);
    expect(() => decodeMessage(forged('[{"$typed":"Float64Array","$i":0,"$n":2}]', eight))).toThrow(/truncated/);
  });

  it('refuses headers that do not fit and JSON that is not UTF-8', () => {
    expect(() => decodeMessage(new Uint8Array(2))).toThrow(/header/);
    const tooLong = forged('{}');
    new DataView(tooLong.buffer).setUint32(0, 1000, true);
    expect(() => decodeMessage(tooLong)).toThrow(/truncated JSON/);
    const badUtf8 = forged('"xx"');
    badUtf8[5] = 0xff;
    expect(() => decodeMessage(badUtf8)).toThrow();
  });

  it('leaves a plain "__proto__" key as data, without touching Object.prototype', () => {
    const out = decodeMessage(forged('{"__proto__":{"polluted":true},"constructor":{"prototype":1}}')) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
