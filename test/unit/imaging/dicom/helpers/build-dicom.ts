/**
 * Builds DICOM Part 10 files for the imaging tests: explicit VR little endian elements, native or encapsulated
 * pixel data, and optionally a raw-deflated data set (for Deflated Explicit VR Little Endian).
 */
import { deflateRawSync } from 'node:zlib';

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UN', 'UT']);

export interface DicomElement {
  group: number;
  element: number;
  vr: string;
  value: Uint8Array;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An element's header for a value of `length` bytes (0xffffffff for undefined length). */
export function elementHeader(group: number, element: number, vr: string, length: number): Uint8Array {
  const long = LONG_VRS.has(vr);
  const head = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, element, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, length, true);
  else dv.setUint16(6, length, true);
  return head;
}

export function encodeElement({ group, element, vr, value }: DicomElement): Uint8Array {
  const padded = value.length % 2 === 0 ? value : concat([value, new Uint8Array([vr === 'UI' || vr.startsWith('O') ? 0 : 0x20])]);
  return concat([elementHeader(group, element, vr, padded.length), padded]);
}

export const str = (group: number, element: number, vr: string, value: string): DicomElement => ({
  group,
  element,
  vr,
  value: new TextEncoder().encode(value),
});

export function us(group: number, element: number, value: number): DicomElement {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, value, true);
  return { group, element, vr: 'US', value: b };
}

/** Encapsulated pixel data: an empty Basic Offset Table, one item per fragment, and the sequence delimiter. */
export function encapsulatedPixelData(fragments: Uint8Array[]): Uint8Array {
  const item = (bytes: Uint8Array) => {
    const padded = bytes.length % 2 === 0 ? bytes : concat([bytes, new Uint8Array([0])]);
    const head = new Uint8Array(8);
    const dv = new DataView(head.buffer);
    dv.setUint16(0, 0xfffe, true);
    dv.setUint16(2, 0xe000, true);
    dv.setUint32(4, padded.length, true);
    return concat([head, padded]);
  };
  const delimiter = Uint8Array.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return concat([elementHeader(0x7fe0, 0x0010, 'OB', 0xffffffff), item(new Uint8Array(0)), ...fragments.map(item), delimiter]);
}

export interface ImageSpec {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored?: number;
  signed?: boolean;
  samplesPerPixel?: number;
  frames?: number;
  photometric?: string;
}

/** The Image Pixel module elements (and SOP identity) for `spec`, in tag order. */
export function imageElements(spec: ImageSpec, extra: DicomElement[] = []): DicomElement[] {
  const elements: DicomElement[] = [
    str(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
    str(0x0008, 0x0018, 'UI', '1.2.826.0.1.3680043.10.1.99'),
    str(0x0008, 0x0060, 'CS', 'OT'),
    ...extra,
    us(0x0028, 0x0002, spec.samplesPerPixel ?? 1),
    str(0x0028, 0x0004, 'CS', spec.photometric ?? 'MONOCHROME2'),
  ];
  if (spec.frames !== undefined) elements.push(str(0x0028, 0x0008, 'IS', String(spec.frames)));
  const bitsStored = spec.bitsStored ?? spec.bitsAllocated;
  elements.push(
    us(0x0028, 0x0010, spec.rows),
    us(0x0028, 0x0011, spec.columns),
    us(0x0028, 0x0100, spec.bitsAllocated),
    us(0x0028, 0x0101, bitsStored),
    us(0x0028, 0x0102, bitsStored - 1),
    us(0x0028, 0x0103, spec.signed ? 1 : 0),
  );
  return elements.sort((a, b) => a.group - b.group || a.element - b.element);
}

function fileMeta(transferSyntax: string): Uint8Array {
  const body = concat(
    [
      { group: 0x0002, element: 0x0001, vr: 'OB', value: new Uint8Array([0, 1]) },
      str(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
      str(0x0002, 0x0003, 'UI', '1.2.826.0.1.3680043.10.1.99'),
      str(0x0002, 0x0010, 'UI', transferSyntax),
      str(0x0002, 0x0012, 'UI', '1.2.826.0.1.3680043.10.1'),
    ].map(encodeElement),
  );
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, body.length, true);
  return concat([encodeElement({ group: 0x0002, element: 0x0000, vr: 'UL', value: length }), body]);
}

/** Preamble, "DICM" and file meta, for a data set in `transferSyntax`. */
export function part10Prefix(transferSyntax: string): Uint8Array {
  const preamble = new Uint8Array(132);
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concat([preamble, fileMeta(transferSyntax)]);
}

/**
 * A whole file: `elements` then `pixelData` (already encoded, header included). With `deflate` the data set is
 * raw-deflated as Deflated Explicit VR Little Endian requires.
 */
export function buildDicom(transferSyntax: string, elements: DicomElement[], pixelData: Uint8Array, deflate = false): Uint8Array {
  const dataSet = concat([...elements.map(encodeElement), pixelData]);
  return concat([part10Prefix(transferSyntax), deflate ? deflateRawSync(dataSet) : dataSet]);
}

/** Native Pixel Data (OW for > 8 bits, else OB) holding `bytes`. */
export function nativePixelData(bytes: Uint8Array, bitsAllocated: number): Uint8Array {
  return encodeElement({ group: 0x7fe0, element: 0x0010, vr: bitsAllocated > 8 ? 'OW' : 'OB', value: bytes });
}
