/**
 * Specific Character Set (0008,0005): decodes person names and text values (PN, LO, SH, ST, LT, UT) the way pydicom
 * does: single-byte ISO 8859 sets, ISO 2022 code extensions switched by escape sequences within a value, UTF-8,
 * GB18030 and GBK. The byte-level codecs come from iconv-lite.
 */
import iconv from 'iconv-lite';
import type { DataSet } from './dicom-parser-lib';

/** An iconv-lite encoding, or one of the two JIS X 0208/0212 G0 sets (7-bit byte pairs, decoded through EUC-JP). */
type Codec = string;

const JIS_X_0208 = 'jis-x-0208';
const JIS_X_0212 = 'jis-x-0212';
/** ISO_IR 6 / no value: pydicom reads the default repertoire as Latin-1 so stray 8-bit bytes survive. */
const DEFAULT_CODEC = 'latin1';

const CODEC_BY_TERM: Record<string, Codec> = {
  '': DEFAULT_CODEC,
  'ISO_IR 6': DEFAULT_CODEC,
  'ISO_IR 13': 'shift_jis',
  'ISO_IR 100': 'latin1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 166': 'tis620',
  'ISO_IR 203': 'iso-8859-15',
  'ISO 2022 IR 6': DEFAULT_CODEC,
  'ISO 2022 IR 13': 'shift_jis',
  'ISO 2022 IR 87': JIS_X_0208,
  'ISO 2022 IR 100': 'latin1',
  'ISO 2022 IR 101': 'iso-8859-2',
  'ISO 2022 IR 109': 'iso-8859-3',
  'ISO 2022 IR 110': 'iso-8859-4',
  'ISO 2022 IR 126': 'iso-8859-7',
  'ISO 2022 IR 127': 'iso-8859-6',
  'ISO 2022 IR 138': 'iso-8859-8',
  'ISO 2022 IR 144': 'iso-8859-5',
  'ISO 2022 IR 148': 'iso-8859-9',
  'ISO 2022 IR 149': 'euc-kr',
  'ISO 2022 IR 159': JIS_X_0212,
  'ISO 2022 IR 166': 'tis620',
  'ISO 2022 IR 203': 'iso-8859-15',
  'ISO 2022 IR 58': 'gb2312',
  'ISO_IR 192': 'utf8',
  GB18030: 'gb18030',
  GBK: 'gbk',
  'ISO 2022 GBK': 'gbk',
  'ISO 2022 58': 'gb2312',
};

/** Character sets that allow no code extensions (PS3.3 C.12.1.1.2). */
const STAND_ALONE = new Set(['ISO_IR 192', 'GB18030', 'GBK']);

/** ISO 2022 escape sequences (PS3.3 Tables C.12-3/C.12-4), without the leading ESC. */
const ESCAPES: [string, Codec][] = [
  ['(B', DEFAULT_CODEC],
  ['(J', 'shift_jis'], // JIS X 0201 Romaji
  [')I', 'shift_jis'], // JIS X 0201 Katakana
  ['$B', JIS_X_0208],
  ['$(D', JIS_X_0212],
  ['$)C', 'euc-kr'],
  ['$)A', 'gb2312'],
  ['-A', 'latin1'],
  ['-B', 'iso-8859-2'],
  ['-C', 'iso-8859-3'],
  ['-D', 'iso-8859-4'],
  ['-F', 'iso-8859-7'],
  ['-G', 'iso-8859-6'],
  ['-H', 'iso-8859-8'],
  ['-L', 'iso-8859-5'],
  ['-M', 'iso-8859-9'],
  ['-T', 'tis620'],
  ['-b', 'iso-8859-15'],
];

const ESC = 0x1b;
const PN_DELIMITERS = new Set([0x5e]); // '^'
const TEXT_DELIMITERS = new Set([0x0d, 0x0a, 0x09, 0x0c]); // CR, LF, TAB, FF

/** The codecs a data set's Specific Character Set names, first one the default; Latin-1 when absent. */
export function characterSets(ds: DataSet): Codec[] {
  const raw = ds.elements.x00080005 ? rawBytes(ds, 'x00080005') : undefined;
  const terms = raw ? String.fromCharCode(...raw).split('\\').map((t) => t.replace(/[\0 ]+$/, '').trim()) : [''];
  return codecsForTerms(terms);
}

/** Maps defined terms to codecs, correcting common misspellings (ISO IR 100, ISO_2022_IR_87) as pydicom does. */
export function codecsForTerms(terms: string[]): Codec[] {
  const codecs = terms.map((term, i) => {
    const known = CODEC_BY_TERM[term] ?? CODEC_BY_TERM[patchTerm(term)];
    if (known !== undefined) return known;
    if (i === 0 && iconv.encodingExists(term)) return term;
    return DEFAULT_CODEC;
  });
  if (terms.length > 1) {
    if (STAND_ALONE.has(terms[0])) return codecs.slice(0, 1);
    return codecs.filter((_, i) => i === 0 || !STAND_ALONE.has(terms[i]));
  }
  return codecs;
}

function patchTerm(term: string): string {
  if (/^ISO[^_]IR/.test(term)) return `ISO_IR${term.slice(6)}`;
  if (/^ISO.2022.IR./.test(term)) return `ISO 2022 IR ${term.slice(12)}`;
  return term;
}

function rawBytes(ds: DataSet, tag: string): Uint8Array {
  const element = ds.elements[tag];
  const bytes = ds.byteArray as Uint8Array;
  return bytes.subarray(element.dataOffset, Math.min(bytes.length, element.dataOffset + element.length));
}

/** 7-bit JIS X 0208/0212 byte pairs to EUC-JP (high bit set; 0212 prefixed with SS3), which iconv-lite knows. */
function decodeJis(bytes: Uint8Array, codec: Codec): string {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b >= 0x21 && b <= 0x7e && i + 1 < bytes.length) {
      if (codec === JIS_X_0212) out.push(0x8f);
      out.push(b | 0x80, bytes[i + 1] | 0x80);
      i++;
    } else out.push(b);
  }
  return iconv.decode(Buffer.from(out), 'euc-jp');
}

function decodeWith(bytes: Uint8Array, codec: Codec): string {
  if (bytes.length === 0) return '';
  if (codec === JIS_X_0208 || codec === JIS_X_0212) return decodeJis(bytes, codec);
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), codec);
}

function escapeAt(bytes: Uint8Array, at: number): { codec: Codec; length: number } | undefined {
  for (const [sequence, codec] of ESCAPES) {
    let matches = at + sequence.length < bytes.length + 1;
    for (let k = 0; matches && k < sequence.length; k++) matches = bytes[at + 1 + k] === sequence.charCodeAt(k);
    if (matches) return { codec, length: sequence.length + 1 };
  }
  return undefined;
}

/**
 * Decodes one value. Text before the first escape uses the first character set; each escape sequence switches the
 * set until the next escape, except that single-byte sets fall back to the first set after a delimiter (PS3.5
 * 6.1.2.5.3). JIS X 0208/0212 runs are only ended by an escape, as their byte pairs may contain delimiter codes.
 */
export function decodeValue(bytes: Uint8Array, codecs: Codec[], delimiters: Set<number>): string {
  const first = codecs[0] ?? DEFAULT_CODEC;
  if (!bytes.includes(ESC)) return decodeWith(bytes, first);
  let text = '';
  let pos = 0;
  while (pos < bytes.length) {
    let end = bytes.indexOf(ESC, pos + 1);
    if (end < 0) end = bytes.length;
    if (bytes[pos] !== ESC) {
      text += decodeWith(bytes.subarray(pos, end), first);
    } else {
      const escape = escapeAt(bytes, pos);
      if (!escape) {
        text += decodeWith(bytes.subarray(pos, end), first);
      } else {
        const body = bytes.subarray(pos + escape.length, end);
        const multiByteG0 = escape.codec === JIS_X_0208 || escape.codec === JIS_X_0212;
        const cut = multiByteG0 ? -1 : body.findIndex((b) => delimiters.has(b));
        if (cut < 0) text += decodeWith(body, escape.codec);
        else text += decodeWith(body.subarray(0, cut), escape.codec) + decodeWith(body.subarray(cut), first);
      }
    }
    pos = end;
  }
  return text;
}

/** A Person Name: its alphabetic, ideographic and phonetic groups ('=') each decoded on their own; empty trailing groups dropped. */
export function decodePersonName(bytes: Uint8Array, codecs: Codec[]): string {
  const groups: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x3d) {
      groups.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  const decoded = groups.map((g) => decodeValue(g, codecs, PN_DELIMITERS));
  while (decoded.length > 0 && decoded[decoded.length - 1] === '') decoded.pop();
  return decoded.join('=');
}

/** Strips the padding DICOM adds to even lengths (trailing spaces and NULs). */
function trimPadding(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x00)) end--;
  return bytes.subarray(0, end);
}

/** How a value is read: a person name, short text (LO, SH: surrounding spaces dropped) or long text (ST, LT, UT). */
export type TextKind = 'PN' | 'short' | 'long';

/**
 * The text of a PN, LO, SH, ST, LT or UT element decoded with `codecs` (from characterSets), or undefined when the
 * element is absent or empty. The kind is given by the caller because implicit VR files carry no VR.
 */
export function readText(ds: DataSet, tag: string, codecs: Codec[], kind: TextKind): string | undefined {
  const element = ds.elements[tag];
  if (!element || element.length === 0) return undefined;
  const bytes = trimPadding(rawBytes(ds, tag));
  const value = kind === 'PN' ? decodePersonName(bytes, codecs) : decodeValue(bytes, codecs, TEXT_DELIMITERS);
  // Leading spaces of ST/LT/UT are significant (PS3.5 6.2); those of PN/LO/SH are padding.
  const trimmed = kind === 'long' ? value : value.replace(/^ +/, '');
  return trimmed === '' ? undefined : trimmed;
}
