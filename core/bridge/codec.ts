/**
 * Wire format of the WebSocket bridge. Electron IPC carries typed arrays natively (structured clone);
 * to give browser mode the same behaviour without base64, typed arrays inside a message are moved
 * out of the JSON into binary sections:
 *
 *   [u32 LE: JSON byte length][JSON][padding to 8][section 0][padding to 8][section 1]…
 *
 * where each typed array in the JSON is replaced by {"$typed": <kind>, "$i": <section>, "$n": <length>}.
 * Plain code for browser and Node alike (no Buffer).
 */

const TYPED_KINDS = {
  Uint8Array,
  Uint8ClampedArray,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
} as const;
type TypedKind = keyof typeof TYPED_KINDS;
type AnyTyped = InstanceType<(typeof TYPED_KINDS)[TypedKind]>;

function typedKind(value: unknown): TypedKind | null {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return null;
  const name = value.constructor.name as TypedKind;
  return name in TYPED_KINDS ? name : null;
}

const align8 = (n: number) => (n + 7) & ~7;

export function encodeMessage(message: unknown): Uint8Array {
  const sections: AnyTyped[] = [];
  const json = JSON.stringify(message, (_key, value: unknown) => {
    const kind = typedKind(value);
    if (!kind) return value;
    sections.push(value as AnyTyped);
    return { $typed: kind, $i: sections.length - 1, $n: (value as AnyTyped).length };
  });
  const jsonBytes = new TextEncoder().encode(json);
  let size = align8(4 + jsonBytes.length);
  const offsets = sections.map((s) => {
    const at = size;
    size = align8(size + s.byteLength);
    return at;
  });
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, jsonBytes.length, true);
  out.set(jsonBytes, 4);
  sections.forEach((s, i) => out.set(new Uint8Array(s.buffer, s.byteOffset, s.byteLength), offsets[i]));
  return out;
}

export function decodeMessage(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(0, true);
  const json = new TextDecoder().decode(bytes.subarray(4, 4 + jsonLength));
  // Sections are laid out in order, so their offsets follow from the lengths in the JSON.
  const placeholders: { kind: TypedKind; i: number; n: number }[] = [];
  const parsed = JSON.parse(json, (_key, value: unknown) => {
    if (value && typeof value === 'object' && '$typed' in value) {
      const v = value as { $typed: TypedKind; $i: number; $n: number };
      if (!(v.$typed in TYPED_KINDS)) throw new Error(`bridge message: unknown typed array kind ${String(v.$typed)}`);
      const holder = { kind: v.$typed, i: v.$i, n: v.$n, array: null as AnyTyped | null };
      placeholders.push(holder);
      return holder;
    }
    return value;
  }) as unknown;
  placeholders.sort((a, b) => a.i - b.i);
  let at = align8(4 + jsonLength);
  const arrays = new Map<number, AnyTyped>();
  for (const p of placeholders) {
    const Ctor = TYPED_KINDS[p.kind];
    const byteLength = p.n * Ctor.BYTES_PER_ELEMENT;
    if (at + byteLength > bytes.byteLength) throw new Error('bridge message: truncated binary section');
    // Copy into a fresh, aligned buffer: the receiver owns it and alignment is guaranteed.
    const copy = bytes.slice(at, at + byteLength);
    arrays.set(p.i, new Ctor(copy.buffer, 0, p.n) as AnyTyped);
    at = align8(at + byteLength);
  }
  const restore = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(restore);
    if (value && typeof value === 'object') {
      if ('kind' in value && 'array' in value && 'i' in value && placeholders.includes(value as never)) {
        return arrays.get((value as { i: number }).i);
      }
      for (const [k, v] of Object.entries(value)) (value as Record<string, unknown>)[k] = restore(v);
    }
    return value;
  };
  return restore(parsed);
}
