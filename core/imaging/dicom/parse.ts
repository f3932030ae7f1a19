/**
 * Turns bytes into a dicom-parser DataSet: Part 10 files, files whose meta header lacks a transfer syntax,
 * and raw data sets without preamble or meta (ACR-NEMA style), whose encoding is inferred from the first element.
 */
import { dicomParser, type DataSet, type ParseDicomOptions } from './dicom-parser-lib';
import { describeThrown, ImagingError } from '../types';
import { inflateDataSet } from './inflate';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from './transfer-syntax';

export interface ParsedDicom {
  dataSet: DataSet;
  /** "DICM" found after a 128-byte preamble. */
  preamble: boolean;
  /** A File Meta Information group (0002) with a transfer syntax was found. */
  fileMeta: boolean;
  /** Transfer syntax from the meta header, when present. */
  transferSyntaxUid?: string;
  /** Transfer syntax guessed from the data set's first bytes when the meta header gives none. */
  inferredTransferSyntaxUid?: string;
  /** Non-fatal problems (e.g. parsing stopped early on a damaged element). */
  warnings: string[];
}

const VALID_VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

function hasDicmPrefix(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(start, start + length));

interface MetaGroup {
  transferSyntaxUid?: string;
  /** Offset of the first byte after group 0002. */
  end: number;
  found: boolean;
}

/** Reads group 0002 (always explicit VR little endian) starting at `start`. */
function readMetaGroup(bytes: Uint8Array, start: number): MetaGroup {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let transferSyntaxUid: string | undefined;
  let found = false;
  while (pos + 8 <= bytes.length && view.getUint16(pos, true) === 0x0002) {
    const element = view.getUint16(pos + 2, true);
    const vr = ascii(bytes, pos + 4, 2);
    if (!VALID_VRS.has(vr)) break;
    let length: number;
    let header: number;
    if (['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr)) {
      if (pos + 12 > bytes.length) break;
      length = view.getUint32(pos + 8, true);
      header = 12;
    } else {
      length = view.getUint16(pos + 6, true);
      header = 8;
    }
    if (length === 0xffffffff || pos + header + length > bytes.length) break;
    found = true;
    if (element === 0x0010) {
      transferSyntaxUid = ascii(bytes, pos + header, length).replace(/[\0 ]+$/, '');
    }
    pos += header + length;
  }
  return { transferSyntaxUid: transferSyntaxUid || undefined, end: pos, found };
}

/**
 * Guesses the encoding of a data set from its first element: explicit VR when bytes 4-5 spell a VR, and the byte
 * order that gives the smaller (plausible) group number. Undefined when the start does not look like DICOM.
 */
export function inferTransferSyntax(bytes: Uint8Array, start = 0): string | undefined {
  if (bytes.length < start + 8) return undefined;
  const b = bytes.subarray(start);
  const groupLE = b[0] | (b[1] << 8);
  const groupBE = (b[0] << 8) | b[1];
  const explicit = VALID_VRS.has(ascii(b, 4, 2));
  const littleEndian = groupLE <= groupBE;
  const group = littleEndian ? groupLE : groupBE;
  // Data sets start with small group numbers (0002, 0008, 0010 ...); a large first group means this is not DICOM.
  if (group === 0 || group > 0x0100) return undefined;
  if (!explicit) {
    if (!littleEndian) return undefined;
    const length = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24);
    if (length !== -1 && (length < 0 || length > bytes.length - start - 8)) return undefined;
    return IMPLICIT_VR_LITTLE_ENDIAN;
  }
  return littleEndian ? EXPLICIT_VR_LITTLE_ENDIAN : EXPLICIT_VR_BIG_ENDIAN;
}

/** True for Part 10 files and for a plausible raw/ACR-NEMA data set start. */
export function isDicom(bytes: Uint8Array): boolean {
  if (hasDicmPrefix(bytes)) return true;
  if (bytes.length >= 8 && bytes[0] === 0x02 && bytes[1] === 0x00) return readMetaGroup(bytes, 0).found;
  return inferTransferSyntax(bytes) !== undefined;
}

/** The bytes before `position` (preamble and meta) followed by the inflated data set, inflated under a size cap. */
function withInflatedDataSet(bytes: Uint8Array, position: number, source: string): Uint8Array {
  const inflated = inflateDataSet(bytes.subarray(position), source);
  const full = new Uint8Array(position + inflated.length);
  full.set(bytes.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }` with what it read before failing. */
function describeParserError(err: unknown): { message: string; partial?: DataSet } {
  const partial = err && typeof err === 'object' && 'exception' in err ? (err as { dataSet?: DataSet }).dataSet : undefined;
  // dicom-parser prefixes its messages with the function name ("dicomParser.readFixedString: ...").
  const message = describeThrown(err).replace(/^dicomParser\.\w+: /, '');
  return { message, partial };
}

/** The ImagingError thrown inside a dicom-parser callback (the inflater), if that is what failed. */
function innerImagingError(err: unknown): ImagingError | undefined {
  if (err instanceof ImagingError) return err;
  if (err && typeof err === 'object' && 'exception' in err) return innerImagingError((err as { exception: unknown }).exception);
  return undefined;
}

/**
 * Drops top-level elements whose value runs past the end of the bytes (a cut or damaged file), so later reads
 * cannot fail; pixel data stays, as decoding reports how much of it is there.
 */
function dropCutElements(dataSet: DataSet, warnings: string[]): void {
  const length = (dataSet.byteArray as Uint8Array).length;
  for (const [tag, element] of Object.entries(dataSet.elements)) {
    if (tag.startsWith('x7fe0')) continue;
    if (element.dataOffset + element.length > length || element.dataOffset > length) {
      delete dataSet.elements[tag];
      warnings.push(`element (${tag.slice(1, 5)},${tag.slice(5)}) runs past the end of the file and was ignored`);
    }
  }
}

function countTopLevel(dataSet: DataSet): number {
  return Object.keys(dataSet.elements).filter((tag) => !tag.startsWith('x0002')).length;
}

/** Parses the whole data set (pixel data included, but not decoded). */
export function parseDicomBytes(bytes: Uint8Array, source: string): ParsedDicom {
  if (bytes.length === 0) throw new ImagingError(source, 'file is empty', 'truncated');
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new ImagingError(source, 'gzip-compressed file, not a DICOM stream (unzip it first)', 'unsupported');
  }
  const preamble = hasDicmPrefix(bytes);
  const metaStart = preamble ? 132 : 0;
  const meta = readMetaGroup(bytes, metaStart);
  const warnings: string[] = [];

  let input: Uint8Array;
  let options: ParseDicomOptions;
  let inferred: string | undefined;
  if (preamble && meta.transferSyntaxUid) {
    input = bytes;
    options = {
      inflater: (arr: Uint8Array, position: number) => withInflatedDataSet(arr, position, source),
    } as ParseDicomOptions;
  } else {
    // No usable meta header: parse the data set that follows it (or the whole file) with a known or guessed syntax.
    let syntax = meta.transferSyntaxUid;
    if (!syntax) {
      inferred = inferTransferSyntax(bytes, meta.end);
      if (!inferred) {
        throw new ImagingError(source, 'not a DICOM file: no DICM prefix and no recognisable data set start', 'unreadable');
      }
      syntax = inferred;
    }
    input = bytes.subarray(meta.end);
    if (syntax === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) {
      input = inflateDataSet(input, source);
      syntax = EXPLICIT_VR_LITTLE_ENDIAN;
    }
    options = { TransferSyntaxUID: syntax };
  }

  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(input, options);
  } catch (err) {
    const inner = innerImagingError(err);
    if (inner) throw inner;
    const { message, partial } = describeParserError(err);
    if (!partial || countTopLevel(partial) === 0) {
      throw new ImagingError(source, `not readable as DICOM (${message})`, 'unreadable');
    }
    // Keep what was read: a damaged trailing element (typically truncated pixel data) still leaves usable metadata.
    warnings.push(`parsing stopped early (${message}); the elements before that point were kept`);
    dataSet = partial;
  }
  dropCutElements(dataSet, warnings);
  if (countTopLevel(dataSet) === 0) {
    throw new ImagingError(source, 'no DICOM data elements found', 'unreadable');
  }
  warnings.push(...(dataSet.warnings ?? []));
  return {
    dataSet,
    preamble,
    fileMeta: meta.transferSyntaxUid !== undefined,
    transferSyntaxUid: meta.transferSyntaxUid,
    inferredTransferSyntaxUid: inferred,
    warnings,
  };
}
