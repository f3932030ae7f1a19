/** Header-only reading: identity, study/series facts and Image Pixel attributes, without decoding pixels. */
import type { ImageMetadata } from '../types';
import type { DataSet, Element } from './dicom-parser-lib';
import { characterSets, readText } from './charset';
import { parseDicomBytes, type ParsedDicom } from './parse';
import { finiteFloat, floatList } from './transforms';
import { describeTransferSyntax } from './transfer-syntax';

export type PixelDataKeyword = 'PixelData' | 'FloatPixelData' | 'DoubleFloatPixelData';

export interface DicomHeader {
  source: string;
  /** "DICM" after a 128-byte preamble. */
  preamble: boolean;
  /** File Meta Information with a transfer syntax present. */
  fileMeta: boolean;
  /** The transfer syntax the data set is read with (from the meta header, or inferred). */
  transferSyntaxUid: string;
  transferSyntaxName: string;
  /** Set when there was no meta transfer syntax and the encoding was guessed from the data. */
  transferSyntaxInferred?: string;
  hasPixelData: boolean;
  pixelDataKeyword?: PixelDataKeyword;
  rows?: number;
  columns?: number;
  /** Number of Frames (0028,0008) as written; undefined when absent. */
  numberOfFramesAttribute?: number;
  /** Frames to decode: Number of Frames, or 1 when absent. */
  numberOfFrames: number;
  samplesPerPixel?: number;
  photometricInterpretation?: string;
  bitsAllocated?: number;
  bitsStored?: number;
  highBit?: number;
  pixelRepresentation?: number;
  planarConfiguration?: number;
  /** Lossy Image Compression (0028,2110): '00' or '01'. */
  lossyImageCompression?: string;
  metadata: ImageMetadata;
  warnings: string[];
}

export const PIXEL_DATA_TAGS: Record<PixelDataKeyword, string> = {
  PixelData: 'x7fe00010',
  FloatPixelData: 'x7fe00008',
  DoubleFloatPixelData: 'x7fe00009',
};

export function findPixelDataElement(dataSet: DataSet): { keyword: PixelDataKeyword; element: Element } | undefined {
  for (const keyword of Object.keys(PIXEL_DATA_TAGS) as PixelDataKeyword[]) {
    const element = dataSet.elements[PIXEL_DATA_TAGS[keyword]];
    if (element) return { keyword, element };
  }
  return undefined;
}

const text = (ds: DataSet, tag: string): string | undefined => {
  const value = ds.string(tag);
  return value === undefined || value === '' ? undefined : value;
};

const intValue = (ds: DataSet, tag: string): number | undefined => {
  if (!ds.elements[tag] || ds.elements[tag].length === 0) return undefined;
  const value = ds.intString(tag);
  return value !== undefined && Number.isFinite(value) ? value : undefined;
};

/** US attributes; some writers use IS or odd lengths, so fall back to a string parse. */
const ushort = (ds: DataSet, tag: string): number | undefined => {
  const element = ds.elements[tag];
  if (!element || element.length === 0) return undefined;
  if (element.length === 2) return ds.uint16(tag);
  return intValue(ds, tag);
};

export function readMetadata(ds: DataSet, transferSyntaxUid: string): ImageMetadata {
  const spacing = floatList(ds, 'x00280030');
  // Names and descriptions follow Specific Character Set (0008,0005); codes and UIDs are plain ASCII.
  const codecs = characterSets(ds);
  const short = (tag: string) => readText(ds, tag, codecs, 'short');
  const metadata: ImageMetadata = {
    sopClassUid: text(ds, 'x00080016') ?? text(ds, 'x00020002'),
    sopInstanceUid: text(ds, 'x00080018') ?? text(ds, 'x00020003'),
    studyInstanceUid: text(ds, 'x0020000d'),
    seriesInstanceUid: text(ds, 'x0020000e'),
    patientId: short('x00100020'),
    patientName: readText(ds, 'x00100010', codecs, 'PN'),
    patientBirthDate: text(ds, 'x00100030'),
    patientSex: text(ds, 'x00100040'),
    studyDate: text(ds, 'x00080020'),
    studyTime: text(ds, 'x00080030'),
    studyDescription: short('x00081030'),
    seriesDescription: short('x0008103e'),
    seriesNumber: intValue(ds, 'x00200011'),
    instanceNumber: intValue(ds, 'x00200013'),
    accessionNumber: short('x00080050'),
    modality: text(ds, 'x00080060'),
    bodyPart: text(ds, 'x00180015'),
    // Image Laterality (0020,0062) of this image, else the series' Laterality (0020,0060).
    laterality: text(ds, 'x00200062') ?? text(ds, 'x00200060'),
    institutionName: short('x00080080'),
    manufacturer: short('x00080070'),
    transferSyntaxUid,
    pixelSpacing: spacing.length >= 2 ? [spacing[0], spacing[1]] : undefined,
    sliceThickness: finiteFloat(ds, 'x00180050'),
  };
  // Leave absent attributes out entirely so JSON output and equality checks stay clean.
  for (const key of Object.keys(metadata) as (keyof ImageMetadata)[]) {
    if (metadata[key] === undefined) delete metadata[key];
  }
  return metadata;
}

export function headerFromParsed(parsed: ParsedDicom, source: string): DicomHeader {
  const ds = parsed.dataSet;
  const transferSyntaxUid = parsed.transferSyntaxUid ?? parsed.inferredTransferSyntaxUid ?? '1.2.840.10008.1.2';
  const pixel = findPixelDataElement(ds);
  const numberOfFramesAttribute = intValue(ds, 'x00280008');
  const header: DicomHeader = {
    source,
    preamble: parsed.preamble,
    fileMeta: parsed.fileMeta,
    transferSyntaxUid,
    transferSyntaxName: describeTransferSyntax(transferSyntaxUid),
    ...(parsed.inferredTransferSyntaxUid ? { transferSyntaxInferred: parsed.inferredTransferSyntaxUid } : {}),
    hasPixelData: pixel !== undefined,
    pixelDataKeyword: pixel?.keyword,
    rows: ushort(ds, 'x00280010'),
    columns: ushort(ds, 'x00280011'),
    numberOfFramesAttribute,
    numberOfFrames: numberOfFramesAttribute && numberOfFramesAttribute > 0 ? numberOfFramesAttribute : 1,
    samplesPerPixel: ushort(ds, 'x00280002'),
    photometricInterpretation: text(ds, 'x00280004')?.toUpperCase(),
    bitsAllocated: ushort(ds, 'x00280100'),
    bitsStored: ushort(ds, 'x00280101'),
    highBit: ushort(ds, 'x00280102'),
    pixelRepresentation: ushort(ds, 'x00280103'),
    planarConfiguration: ushort(ds, 'x00280006'),
    lossyImageCompression: text(ds, 'x00282110'),
    metadata: readMetadata(ds, transferSyntaxUid),
    warnings: parsed.warnings,
  };
  return header;
}

/** Metadata only, no pixel decode. Throws ImagingError for bytes that are not readable DICOM. */
export function readDicomHeader(bytes: Uint8Array, source: string): DicomHeader {
  return headerFromParsed(parseDicomBytes(bytes, source), source);
}
