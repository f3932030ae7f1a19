/** Modality, VOI and palette transforms as the file describes them (parsed, never applied here). */
import type { LookupTable, ModalityTransform, Palette, VoiTransform, WindowPreset } from '../types';
import type { DataSet } from './dicom-parser-lib';

const RESCALE_SLOPE = 'x00281053';
const RESCALE_INTERCEPT = 'x00281052';
const RESCALE_TYPE = 'x00281054';
const WINDOW_CENTER = 'x00281050';
const WINDOW_WIDTH = 'x00281051';
const WINDOW_EXPLANATION = 'x00281055';
const VOI_LUT_FUNCTION = 'x00281056';
const MODALITY_LUT_SEQUENCE = 'x00283000';
const VOI_LUT_SEQUENCE = 'x00283010';
const LUT_DESCRIPTOR = 'x00283002';
const LUT_EXPLANATION = 'x00283003';
const MODALITY_LUT_TYPE = 'x00283004';
const LUT_DATA = 'x00283006';
const SHARED_FUNCTIONAL_GROUPS = 'x52009229';
const PER_FRAME_FUNCTIONAL_GROUPS = 'x52009230';
const PIXEL_VALUE_TRANSFORMATION = 'x00289145';
const FRAME_VOI_LUT = 'x00289132';

export function firstItem(dataSet: DataSet, tag: string): DataSet | undefined {
  return dataSet.elements[tag]?.items?.[0]?.dataSet;
}

/** A numeric string attribute that parses to a finite number, else undefined. */
export function finiteFloat(dataSet: DataSet, tag: string, index = 0): number | undefined {
  const value = dataSet.floatString(tag, index);
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

export function floatList(dataSet: DataSet, tag: string): number[] {
  if (!dataSet.elements[tag]) return [];
  const count = dataSet.numStringValues(tag) ?? 0;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = finiteFloat(dataSet, tag, i);
    if (v !== undefined) values.push(v);
  }
  return values;
}

export interface RescaleSource {
  slope: number;
  intercept: number;
  unit?: string;
  /** 'top-level', a functional-group sequence name, or 'default' when absent. */
  from: 'top-level' | 'SharedFunctionalGroupsSequence' | 'PerFrameFunctionalGroupsSequence' | 'default';
}

/** Rescale slope/intercept from the top level, else the shared, else the first per-frame functional group. */
export function findRescale(dataSet: DataSet): RescaleSource {
  const candidates: [RescaleSource['from'], DataSet | undefined][] = [
    ['top-level', dataSet],
    ['SharedFunctionalGroupsSequence', fgItem(dataSet, SHARED_FUNCTIONAL_GROUPS, PIXEL_VALUE_TRANSFORMATION)],
    ['PerFrameFunctionalGroupsSequence', fgItem(dataSet, PER_FRAME_FUNCTIONAL_GROUPS, PIXEL_VALUE_TRANSFORMATION)],
  ];
  for (const [from, ds] of candidates) {
    if (!ds) continue;
    const slope = finiteFloat(ds, RESCALE_SLOPE);
    const intercept = finiteFloat(ds, RESCALE_INTERCEPT);
    if (slope !== undefined || intercept !== undefined) {
      return { slope: slope ?? 1, intercept: intercept ?? 0, unit: ds.string(RESCALE_TYPE) || undefined, from };
    }
  }
  return { slope: 1, intercept: 0, from: 'default' };
}

function fgItem(dataSet: DataSet, groupsTag: string, macroTag: string): DataSet | undefined {
  const group = firstItem(dataSet, groupsTag);
  return group ? firstItem(group, macroTag) : undefined;
}

export interface WindowSource {
  windows: WindowPreset[];
  from: 'top-level' | 'SharedFunctionalGroupsSequence' | 'PerFrameFunctionalGroupsSequence' | 'none';
}

export function findWindows(dataSet: DataSet): WindowSource {
  const candidates: [WindowSource['from'], DataSet | undefined][] = [
    ['top-level', dataSet],
    ['SharedFunctionalGroupsSequence', fgItem(dataSet, SHARED_FUNCTIONAL_GROUPS, FRAME_VOI_LUT)],
    ['PerFrameFunctionalGroupsSequence', fgItem(dataSet, PER_FRAME_FUNCTIONAL_GROUPS, FRAME_VOI_LUT)],
  ];
  for (const [from, ds] of candidates) {
    if (!ds) continue;
    const centers = floatList(ds, WINDOW_CENTER);
    const widths = floatList(ds, WINDOW_WIDTH);
    const count = Math.min(centers.length, widths.length);
    if (count === 0) continue;
    const windows: WindowPreset[] = [];
    for (let i = 0; i < count; i++) {
      const explanation = ds.string(WINDOW_EXPLANATION, i);
      windows.push({ center: centers[i], width: widths[i], ...(explanation ? { explanation } : {}) });
    }
    return { windows, from };
  }
  return { windows: [], from: 'none' };
}

/**
 * Reads a LUT (descriptor + data). `signedFirstMapped`: the first-mapped value is SS for signed pixel data.
 * Data words are 16-bit; tables with 8-bit entries packed two per word are unpacked.
 */
export function readLookupTable(
  ds: DataSet,
  descriptorTag: string,
  dataTag: string,
  signedFirstMapped: boolean,
  explanationTag?: string,
): LookupTable | undefined {
  const descriptor = ds.elements[descriptorTag];
  const data = ds.elements[dataTag];
  if (!descriptor || !data || descriptor.length < 6) return undefined;
  const rawEntries = ds.uint16(descriptorTag, 0) ?? 0;
  const entries = rawEntries === 0 ? 65536 : rawEntries;
  const rawFirst = ds.uint16(descriptorTag, 1) ?? 0;
  const firstMapped = signedFirstMapped && rawFirst > 0x7fff ? rawFirst - 0x10000 : rawFirst;
  const bitsPerEntry = ds.uint16(descriptorTag, 2) ?? 16;
  const explanation = explanationTag ? ds.string(explanationTag) || undefined : undefined;
  const table = readLutWords(ds, dataTag, entries, bitsPerEntry);
  if (!table) return undefined;
  return { firstMapped, bitsPerEntry, data: table, ...(explanation ? { explanation } : {}) };
}

function readLutWords(ds: DataSet, tag: string, entries: number, bits: number): Uint16Array | Uint8Array | undefined {
  const element = ds.elements[tag];
  if (!element) return undefined;
  const byteLength = element.length;
  if (bits <= 8 && byteLength === entries) {
    return Uint8Array.from(ds.byteArray.subarray(element.dataOffset, element.dataOffset + entries));
  }
  const words = Math.floor(byteLength / 2);
  if (words < entries && !(bits <= 8 && words * 2 >= entries)) return undefined;
  const out = new Uint16Array(entries);
  if (words >= entries) {
    for (let i = 0; i < entries; i++) out[i] = ds.uint16(tag, i) ?? 0;
    return out;
  }
  // 8-bit entries packed two per 16-bit word (seen in older palette files).
  const bytes = new Uint8Array(entries);
  for (let i = 0; i < entries; i++) {
    const word = ds.uint16(tag, i >> 1) ?? 0;
    bytes[i] = i % 2 === 0 ? word & 0xff : word >> 8;
  }
  return bytes;
}

export function readModalityTransform(dataSet: DataSet, signed: boolean): ModalityTransform {
  const rescale = findRescale(dataSet);
  const lutItem = firstItem(dataSet, MODALITY_LUT_SEQUENCE);
  const lut = lutItem ? readLookupTable(lutItem, LUT_DESCRIPTOR, LUT_DATA, signed, LUT_EXPLANATION) : undefined;
  const unit = rescale.unit ?? (lutItem ? lutItem.string(MODALITY_LUT_TYPE) || undefined : undefined);
  return { slope: rescale.slope, intercept: rescale.intercept, ...(lut ? { lut } : {}), ...(unit ? { unit } : {}) };
}

export function readVoiTransform(dataSet: DataSet, signed: boolean): VoiTransform {
  const { windows } = findWindows(dataSet);
  const luts: LookupTable[] = [];
  for (const item of dataSet.elements[VOI_LUT_SEQUENCE]?.items ?? []) {
    if (!item.dataSet) continue;
    const lut = readLookupTable(item.dataSet, LUT_DESCRIPTOR, LUT_DATA, signed, LUT_EXPLANATION);
    if (lut) luts.push(lut);
  }
  const fnText = (dataSet.string(VOI_LUT_FUNCTION) ?? '').toUpperCase();
  const fn = fnText === 'SIGMOID' || fnText === 'LINEAR_EXACT' ? fnText : 'LINEAR';
  return { windows, luts, fn };
}

const PALETTE_TAGS = {
  red: { descriptor: 'x00281101', data: 'x00281201', segmented: 'x00281221' },
  green: { descriptor: 'x00281102', data: 'x00281202', segmented: 'x00281222' },
  blue: { descriptor: 'x00281103', data: 'x00281203', segmented: 'x00281223' },
} as const;

/** Red/green/blue palette tables (plain or segmented), or undefined when the file has none. */
export function readPalette(dataSet: DataSet): Palette | undefined {
  const channel = (name: keyof typeof PALETTE_TAGS): LookupTable | undefined => {
    const tags = PALETTE_TAGS[name];
    if (!dataSet.elements[tags.descriptor]) return undefined;
    const plain = readLookupTable(dataSet, tags.descriptor, tags.data, false);
    if (plain) return plain;
    if (!dataSet.elements[tags.segmented]) return undefined;
    const rawEntries = dataSet.uint16(tags.descriptor, 0) ?? 0;
    const entries = rawEntries === 0 ? 65536 : rawEntries;
    const firstMapped = dataSet.uint16(tags.descriptor, 1) ?? 0;
    const bitsPerEntry = dataSet.uint16(tags.descriptor, 2) ?? 16;
    const element = dataSet.elements[tags.segmented];
    let words: Uint16Array;
    if (bitsPerEntry === 8) {
      // With 8-bit entries the segment opcodes, lengths and values are single bytes (as pydicom reads them).
      words = Uint16Array.from(dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length));
    } else {
      words = new Uint16Array(Math.floor(element.length / 2));
      for (let i = 0; i < words.length; i++) words[i] = dataSet.uint16(tags.segmented, i) ?? 0;
    }
    const data = expandSegmentedLut(words, entries);
    return data ? { firstMapped, bitsPerEntry, data } : undefined;
  };
  const red = channel('red');
  const green = channel('green');
  const blue = channel('blue');
  return red && green && blue ? { red, green, blue } : undefined;
}

/**
 * Expands a Segmented Palette Color LUT (PS3.3 C.7.9.2): discrete (0), linear (1) and indirect (2) segments.
 * Returns undefined for malformed data instead of guessing.
 */
export function expandSegmentedLut(words: Uint16Array, entries: number): Uint16Array | undefined {
  const out: number[] = [];
  const segmentStarts: number[] = [];
  const expand = (start: number, end: number, depth: number): boolean => {
    let i = start;
    // A trailing byte shorter than a segment header is element padding, not a segment.
    while (i + 1 < end) {
      if (depth === 0) segmentStarts.push(i);
      const opcode = words[i];
      const length = words[i + 1];
      if (length === undefined) return false;
      if (opcode === 0) {
        if (i + 2 + length > words.length) return false;
        for (let k = 0; k < length; k++) out.push(words[i + 2 + k]);
        i += 2 + length;
      } else if (opcode === 1) {
        if (out.length === 0 || i + 2 >= words.length) return false;
        const y0 = out[out.length - 1];
        const y1 = words[i + 2];
        for (let k = 1; k <= length; k++) out.push(Math.round(y0 + ((y1 - y0) * k) / length));
        i += 3;
      } else if (opcode === 2) {
        if (depth > 0 || i + 3 >= words.length) return false;
        // Offset counts 16-bit words from the start of the segmented data; least significant word first.
        const offset = words[i + 2] | (words[i + 3] << 16);
        const first = segmentStarts.indexOf(offset);
        if (first < 0 || first + length > segmentStarts.length) return false;
        for (let s = first; s < first + length; s++) {
          const segEnd = s + 1 < segmentStarts.length ? segmentStarts[s + 1] : i;
          if (!expand(segmentStarts[s], segEnd, depth + 1)) return false;
        }
        i += 4;
      } else {
        return false;
      }
    }
    return true;
  };
  if (!expand(0, words.length, 0) || out.length < entries) return undefined;
  return Uint16Array.from(out.slice(0, entries));
}
