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
  const name = value.constructor.name;
  return Object.hasOwn(TYPED_KINDS, name) ? (name as TypedKind) : null;
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

const isIndex = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * Decodes a message from an untrusted peer in one pass (linear in its size). Placeholders do not
 * nest, so JSON.parse's reviver meets them in the order encodeMessage numbered them; each one is
 * replaced as it is met by the next binary section. Only own properties are trusted.
 */
export function decodeMessage(bytes: Uint8Array): unknown {
  if (bytes.byteLength < 4) throw new Error('bridge message: shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(0, true);
  if (4 + jsonLength > bytes.byteLength) throw new Error('bridge message: truncated JSON');
  const json = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + jsonLength));
  let at = align8(4 + jsonLength);
  let next = 0;
  return JSON.parse(json, (_key, value: unknown) => {
    if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, '$typed')) return value;
    const { $typed: kind, $i: index, $n: length } = value as Record<string, unknown>;
    if (typeof kind !== 'string' || !Object.hasOwn(TYPED_KINDS, kind)) {
      throw new Error(`bridge message: unknown typed array kind ${JSON.stringify(kind)}`);
    }
    if (index !== next || !isIndex(length)) throw new Error('bridge message: malformed typed array placeholder');
    const Ctor = TYPED_KINDS[kind as TypedKind];
    const byteLength = length * Ctor.BYTES_PER_ELEMENT;
    if (at + byteLength > bytes.byteLength) throw new Error('bridge message: truncated binary section');
    // Copy into a fresh, aligned buffer: the receiver owns it and alignment is guaranteed.
    const copy = bytes.slice(at, at + byteLength);
    at = align8(at + byteLength);
    next += 1;
    return new Ctor(copy.buffer, 0, length);
  }) as unknown;
}
