/**
 * Makes damaged copies of real DICOM files, deterministically from a seed: bit flips, truncations and corrupted
 * length fields (data elements, sequences and items, pixel data). The generator lives here; the files it writes
 * go to a temp folder and are never kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { seededRandom } from '../../../core/util/prng';

export type MutationKind = 'bit-flip' | 'truncate' | 'element-length' | 'sequence-length' | 'pixel-data-length';
export const MUTATION_KINDS: readonly MutationKind[] = ['bit-flip', 'truncate', 'element-length', 'sequence-length', 'pixel-data-length'];

export interface Mutant {
  /** File name in the output folder. */
  name: string;
  source: string;
  kind: MutationKind;
  /** What was changed, for a failure message. */
  detail: string;
  bytes: Uint8Array;
}

/** Where a length field sits, and how wide it is. */
interface LengthField {
  offset: number;
  width: 2 | 4;
  what: string;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const isVr = (b: Uint8Array, at: number) => at + 1 < b.length && b[at] >= 0x41 && b[at] <= 0x5a && b[at + 1] >= 0x41 && b[at + 1] <= 0x5a;

/**
 * Length fields of the top-level elements (meta group and, for little-endian explicit or implicit VR data sets,
 * the data set), item and sequence lengths found by their tags, and the Pixel Data length.
 */
export function lengthFields(bytes: Uint8Array): { elements: LengthField[]; sequences: LengthField[]; pixelData?: LengthField } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: LengthField[] = [];
  const sequences: LengthField[] = [];
  let pixelData: LengthField | undefined;
  let pos = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM' ? 132 : 0;
  // Walk top-level elements while they parse; explicit VR when two capitals follow the tag.
  while (pos + 8 <= bytes.length) {
    const group = view.getUint16(pos, true);
    const element = view.getUint16(pos + 2, true);
    const tag = `${group.toString(16).padStart(4, '0')},${element.toString(16).padStart(4, '0')}`;
    let length: number;
    let field: LengthField;
    let header: number;
    if (isVr(bytes, pos + 4)) {
      const vr = String.fromCharCode(bytes[pos + 4], bytes[pos + 5]);
      if (LONG_VRS.has(vr)) {
        if (pos + 12 > bytes.length) break;
        field = { offset: pos + 8, width: 4, what: `(${tag}) ${vr} length` };
        length = view.getUint32(pos + 8, true);
        header = 12;
      } else {
        field = { offset: pos + 6, width: 2, what: `(${tag}) ${vr} length` };
        length = view.getUint16(pos + 6, true);
        header = 8;
      }
      if (vr === 'SQ') sequences.push({ ...field, what: `sequence (${tag}) length` });
    } else {
      field = { offset: pos + 4, width: 4, what: `(${tag}) implicit length` };
      length = view.getUint32(pos + 4, true);
      header = 8;
    }
    if (group === 0x7fe0 && element === 0x0010) pixelData = { ...field, what: 'pixel data length' };
    else elements.push(field);
    if (length === 0xffffffff || group === 0x7fe0) break; // undefined length or pixel data: stop the walk
    pos += header + length;
  }
  // Items (FFFE,E000) anywhere: sequence items and encapsulated fragments.
  for (let i = 0; i + 8 <= bytes.length; i++) {
    if (bytes[i] === 0xfe && bytes[i + 1] === 0xff && bytes[i + 2] === 0x00 && bytes[i + 3] === 0xe0) {
      sequences.push({ offset: i + 4, width: 4, what: `item at ${i} length` });
    }
  }
  return { elements, sequences, pixelData };
}

/** A damaged length: zero, odd, a little off, past the end of the file, or the undefined-length marker. */
function badLength(random: () => number, old: number, width: 2 | 4, fileLength: number): number {
  const max = width === 2 ? 0xffff : 0xffffffff;
  const choices = [0, 1, old + 1, Math.max(0, old - 2), old * 2 + 7, fileLength + 1000, max, max - 1, Math.floor(random() * max)];
  return Math.min(max, choices[Math.floor(random() * choices.length)]) >>> 0;
}

function setLength(bytes: Uint8Array, field: LengthField, value: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (field.width === 2) view.setUint16(field.offset, value & 0xffff, true);
  else view.setUint32(field.offset, value >>> 0, true);
}

function readLength(bytes: Uint8Array, field: LengthField): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return field.width === 2 ? view.getUint16(field.offset, true) : view.getUint32(field.offset, true);
}

/** One mutant of `original`; kinds whose target the file lacks fall back to a bit flip. */
export function mutate(original: Uint8Array, kind: MutationKind, random: () => number): { kind: MutationKind; detail: string; bytes: Uint8Array } {
  const bytes = original.slice();
  const fields = lengthFields(bytes);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const corrupt = (field: LengthField, k: MutationKind) => {
    const old = readLength(bytes, field);
    const value = badLength(random, old, field.width, bytes.length);
    setLength(bytes, field, value);
    return { kind: k, detail: `${field.what} ${old} → ${value}`, bytes };
  };
  if (kind === 'truncate') {
    // Half the cuts land in the first kilobytes (header, sequences), the rest anywhere.
    const end = random() < 0.5 ? Math.floor(random() * Math.min(bytes.length, 4096)) : Math.floor(random() * bytes.length);
    return { kind, detail: `cut at ${end} of ${bytes.length}`, bytes: bytes.subarray(0, end) };
  }
  if (kind === 'element-length' && fields.elements.length > 0) return corrupt(pick(fields.elements), kind);
  if (kind === 'sequence-length' && fields.sequences.length > 0) return corrupt(pick(fields.sequences), kind);
  if (kind === 'pixel-data-length' && fields.pixelData) return corrupt(fields.pixelData, kind);
  // Bit flips: 1–8 bits, mostly in the header where they change meaning, some in the pixel data.
  const flips = 1 + Math.floor(random() * 8);
  const headerEnd = fields.pixelData ? fields.pixelData.offset : Math.min(bytes.length, 2048);
  const at: number[] = [];
  for (let i = 0; i < flips; i++) {
    const offset = random() < 0.75 ? Math.floor(random() * headerEnd) : Math.floor(random() * bytes.length);
    bytes[offset] ^= 1 << Math.floor(random() * 8);
    at.push(offset);
  }
  return { kind: 'bit-flip', detail: `bits flipped at ${at.join(', ')}`, bytes };
}

/** `count` mutants of the given files, the same for the same seed, kinds taken in turn. */
export function makeMutants(sources: string[], count: number, seed: number | string): Mutant[] {
  const random = seededRandom(seed);
  const originals = sources.map((s) => ({ source: s, bytes: new Uint8Array(fs.readFileSync(s)) }));
  const out: Mutant[] = [];
  for (let i = 0; i < count; i++) {
    const { source, bytes } = originals[Math.floor(random() * originals.length)];
    const m = mutate(bytes, MUTATION_KINDS[i % MUTATION_KINDS.length], random);
    const name = `m${String(i).padStart(3, '0')}-${m.kind}-${path.basename(source)}`;
    out.push({ name, source, ...m });
  }
  return out;
}

/** Writes mutants into `dir`; returns their paths in order. */
export function writeMutants(dir: string, mutants: Mutant[]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return mutants.map((m) => {
    const file = path.join(dir, m.name);
    fs.writeFileSync(file, m.bytes);
    return file;
  });
}
