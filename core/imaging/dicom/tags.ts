/**
 * Every element of a DICOM file for the viewer's tag browser: tag, name, VR, length and a readable value, with
 * sequences nested item by item. Values are shortened for display; pixel data and other bulk data are described,
 * not dumped. Reads the file with the same parser as decoding (core/imaging/dicom), so what is shown is what is used.
 */
import type { DataSet, Element } from './dicom-parser-lib';
import { characterSets, readText, type TextKind } from './charset';
import { parseDicomBytes } from './parse';
import { readImageBytes } from '../read-bytes';
import { floatList } from './transforms';
import { dictionaryEntry } from './dictionary';

export interface DicomTagNode {
  /** "(0008,0060)". */
  tag: string;
  name: string;
  vr: string;
  length: number;
  value: string;
  /** Sequences: one list of elements per item. */
  items?: DicomTagNode[][];
}

export interface DicomTagTree {
  source: string;
  transferSyntax?: string;
  elements: DicomTagNode[];
  /** Pixel Spacing (0028,0030), top level or in the Shared/Per-frame Functional Groups' Pixel Measures. */
  pixelSpacing?: [number, number];
  /** Imager Pixel Spacing (0018,1164). */
  imagerPixelSpacing?: [number, number];
  warnings: string[];
}

const MAX_VALUE_CHARS = 256;
const MAX_NUMBERS = 32;
const TEXT_KIND: Record<string, TextKind> = { PN: 'PN', LO: 'short', SH: 'short', UC: 'short', ST: 'long', LT: 'long', UT: 'long' };
const ASCII_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'TM', 'UI', 'UR']);
const BULK_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN']);
const PIXEL_DATA = new Set(['x7fe00010', 'x7fe00008', 'x7fe00009']);

const tagLabel = (key: string) => `(${key.slice(1, 5).toUpperCase()},${key.slice(5).toUpperCase()})`;
const shorten = (s: string) => (s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS)}…` : s);

function nameOf(key: string): string {
  const hex = key.slice(1).toUpperCase();
  const group = parseInt(hex.slice(0, 4), 16);
  if (hex.endsWith('0000')) return 'Group Length';
  if (group % 2 === 1) {
    const element = parseInt(hex.slice(4), 16);
    return element >= 0x10 && element <= 0xff ? 'Private Creator' : 'Private';
  }
  return dictionaryEntry(hex)?.name ?? 'Unknown';
}

function numbers(count: number, read: (i: number) => number | string | undefined): string {
  const shown = Math.min(count, MAX_NUMBERS);
  const values: string[] = [];
  for (let i = 0; i < shown; i++) values.push(String(read(i)));
  return values.join('\\') + (count > shown ? ` … (${count} values)` : '');
}

function bytesPreview(ds: DataSet, el: Element): string {
  const n = Math.min(el.length, 16);
  const hex = Array.from(ds.byteArray.subarray(el.dataOffset, el.dataOffset + n), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `<${el.length} bytes> ${hex}${el.length > n ? ' …' : ''}`;
}

const printable = (bytes: Uint8Array) => bytes.every((b) => b === 0 || (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09);

function valueOf(ds: DataSet, key: string, el: Element, vr: string, codecs: ReturnType<typeof characterSets>): string {
  if (el.length === 0 && !el.encapsulatedPixelData) return '';
  if (PIXEL_DATA.has(key)) {
    return el.encapsulatedPixelData
      ? `<pixel data: encapsulated, ${el.fragments?.length ?? 0} fragment(s)>`
      : `<pixel data: ${el.length} bytes>`;
  }
  if (el.length === 0xffffffff) return '<undefined length>';
  const kind = TEXT_KIND[vr];
  if (kind) return shorten(readText(ds, key, codecs, kind) ?? '');
  if (ASCII_VRS.has(vr)) return shorten(ds.string(key) ?? '');
  switch (vr) {
    case 'US':
      return numbers(el.length / 2, (i) => ds.uint16(key, i));
    case 'SS':
      return numbers(el.length / 2, (i) => ds.int16(key, i));
    case 'UL':
      return numbers(el.length / 4, (i) => ds.uint32(key, i));
    case 'SL':
      return numbers(el.length / 4, (i) => ds.int32(key, i));
    case 'FL':
      return numbers(el.length / 4, (i) => ds.float(key, i));
    case 'FD':
      return numbers(el.length / 8, (i) => ds.double(key, i));
    case 'AT':
      return numbers(el.length / 4, (i) => {
        const g = ds.uint16(key, i * 2) ?? 0;
        const e = ds.uint16(key, i * 2 + 1) ?? 0;
        return `(${g.toString(16).padStart(4, '0').toUpperCase()},${e.toString(16).padStart(4, '0').toUpperCase()})`;
      });
  }
  const raw = ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
  if (!BULK_VRS.has(vr) && printable(raw)) return shorten(ds.string(key) ?? '');
  return bytesPreview(ds, el);
}

function walk(ds: DataSet, codecs: ReturnType<typeof characterSets>): DicomTagNode[] {
  return Object.keys(ds.elements)
    .sort()
    .map((key) => {
      const el = ds.elements[key];
      const vr = el.vr ?? (el.items ? 'SQ' : (dictionaryEntry(key.slice(1).toUpperCase())?.vr ?? 'UN'));
      const node: DicomTagNode = { tag: tagLabel(key), name: nameOf(key), vr, length: el.length, value: '' };
      if (el.items) {
        node.items = el.items.map((item) => (item.dataSet ? walk(item.dataSet, codecs) : []));
        node.value = `${el.items.length} item(s)`;
      } else {
        node.value = valueOf(ds, key, el, vr, codecs);
      }
      return node;
    });
}

const pair = (values: number[]): [number, number] | undefined => (values.length >= 2 ? [values[0], values[1]] : undefined);

/** Pixel Spacing from the top level, else from the first Pixel Measures item of the functional groups. */
function findPixelSpacing(ds: DataSet): [number, number] | undefined {
  const top = pair(floatList(ds, 'x00280030'));
  if (top) return top;
  for (const groups of ['x52009229', 'x52009230']) {
    const item = ds.elements[groups]?.items?.[0]?.dataSet;
    const measures = item?.elements.x00289110?.items?.[0]?.dataSet;
    const found = measures ? pair(floatList(measures, 'x00280030')) : undefined;
    if (found) return found;
  }
  return undefined;
}

/** The element tree of a DICOM file. Throws ImagingError (naming the file) when it cannot be read. */
export async function readDicomTags(file: string, source = file): Promise<DicomTagTree> {
  const parsed = parseDicomBytes(await readImageBytes(file), source);
  const ds = parsed.dataSet;
  const tree: DicomTagTree = {
    source,
    elements: walk(ds, characterSets(ds)),
    warnings: parsed.warnings,
  };
  const syntax = parsed.transferSyntaxUid ?? parsed.inferredTransferSyntaxUid;
  if (syntax) tree.transferSyntax = syntax;
  const pixelSpacing = findPixelSpacing(ds);
  if (pixelSpacing) tree.pixelSpacing = pixelSpacing;
  const imager = pair(floatList(ds, 'x00181164'));
  if (imager) tree.imagerPixelSpacing = imager;
  return tree;
}
