import { readImageBytes } from '../read-bytes';
/**
 * One file's facts and decoded-pixel statistics with the field names and conventions of
 * shared/data/dicom/reference.json, so `medtune dicom inspect --json` output can be diffed against it.
 */
import { describeThrown, ImagingError, type DecodedImage } from '../types';
import { decodeParsed } from './decode';
import type { DataSet } from './dicom-parser-lib';
import { headerFromParsed, type DicomHeader } from './header';
import { parseDicomBytes, type ParsedDicom } from './parse';
import { imageStats, type PixelStats } from './stats';
import { transferSyntaxInfo } from './transfer-syntax';
import { findRescale, findWindows, floatList } from './transforms';

export interface DicomInspection {
  readable: boolean;
  error?: string;
  [field: string]: unknown;
}

/** The reference reports the first value of multi-valued rescale/window attributes. */
const firstValue = (values: number[]): number | null => (values.length === 0 ? null : values[0]);

function headerFields(header: DicomHeader, ds: DataSet): Record<string, unknown> {
  const meta = header.fileMeta;
  const fields: Record<string, unknown> = {
    readable: true,
    preamble: header.preamble,
    transferSyntax: meta ? header.transferSyntaxUid : null,
    transferSyntaxName: meta ? header.transferSyntaxName : null,
    // The data set's own SOP Class (the meta header's Media Storage SOP Class is not reported here).
    sopClassUid: ds.string('x00080016') || null,
    modality: header.metadata.modality ?? null,
    // Decoded with the file's Specific Character Set.
    patientName: header.metadata.patientName ?? null,
    rows: header.rows ?? null,
    columns: header.columns ?? null,
    numberOfFrames: header.numberOfFramesAttribute ?? null,
    samplesPerPixel: header.samplesPerPixel ?? null,
    photometricInterpretation: header.photometricInterpretation ?? null,
    bitsAllocated: header.bitsAllocated ?? null,
    bitsStored: header.bitsStored ?? null,
    highBit: header.highBit ?? null,
    pixelRepresentation: header.pixelRepresentation ?? null,
  };
  if (header.planarConfiguration !== undefined) fields.planarConfiguration = header.planarConfiguration;
  fields.rescaleSlope = firstValue(floatList(ds, 'x00281053'));
  fields.rescaleIntercept = firstValue(floatList(ds, 'x00281052'));
  fields.windowCenter = firstValue(floatList(ds, 'x00281050'));
  fields.windowWidth = firstValue(floatList(ds, 'x00281051'));
  const rescale = findRescale(ds);
  if (rescale.from !== 'top-level' && rescale.from !== 'default') {
    fields.rescaleFromFunctionalGroups = { slope: rescale.slope, intercept: rescale.intercept, from: rescale.from };
  }
  const windows = findWindows(ds);
  if (windows.from !== 'top-level' && windows.from !== 'none') {
    const [first] = windows.windows;
    fields.windowFromFunctionalGroups = { center: first.center, width: first.width, from: windows.from };
  }
  if (!meta) {
    fields.transferSyntaxInferred = header.transferSyntaxInferred ?? header.transferSyntaxUid;
    fields.fileMeta = false;
  }
  fields.pixelData = header.hasPixelData;
  if (header.hasPixelData) {
    fields.pixelDataKeyword = header.pixelDataKeyword;
    fields.lossy = transferSyntaxInfo(header.transferSyntaxUid)?.lossy ?? false;
    if (header.lossyImageCompression !== undefined) fields.lossyImageCompressionAttribute = header.lossyImageCompression;
  }
  return fields;
}

function modalityStats(image: DecodedImage, stored: PixelStats, ds: DataSet): Record<string, unknown> | null {
  if (image.samplesPerPixel !== 1) return null;
  const rescale = findRescale(ds);
  const { slope, intercept } = rescale;
  const a = stored.min * slope + intercept;
  const b = stored.max * slope + intercept;
  const result: Record<string, unknown> = {
    min: Math.min(a, b),
    max: Math.max(a, b),
    mean: stored.mean * slope + intercept,
    slope,
    intercept,
    source: rescale.from === 'default' ? 'default (absent: slope 1, intercept 0)' : rescale.from,
  };
  const doseGridScaling = ds.floatString('x3004000e');
  if (doseGridScaling !== undefined) {
    result.doseGridScaling = doseGridScaling;
    result.note = 'RT Dose: DoseGridScaling not applied (not a rescale)';
  } else if (image.modality.lut) {
    result.note = 'ModalityLUTSequence present: NOT applied here (only rescale slope/intercept)';
  }
  return result;
}

function storedColorSpace(image: DecodedImage, header: DicomHeader): string {
  const pi = header.photometricInterpretation ?? '';
  if (image.photometric !== 'RGB' || image.samplesPerPixel !== 3) return image.photometric;
  if (pi === 'RGB' && transferSyntaxInfo(header.transferSyntaxUid)?.encoding === 'native') return 'RGB';
  return `RGB (DICOM PI ${pi})`;
}

/** "<file>: <reason>" for any failure, so a folder listing says which file failed and why. */
function failureSentence(err: unknown, source: string): string {
  if (err instanceof ImagingError) return err.message;
  return `${source}: cannot be inspected (${describeThrown(err)})`;
}

async function inspectParsed(parsed: ParsedDicom, source: string): Promise<DicomInspection> {
  const header = headerFromParsed(parsed, source);
  const fields = headerFields(header, parsed.dataSet);
  if (!header.hasPixelData) return { ...fields, readable: true, error: 'no pixel data element', stored: null };
  try {
    const image = await decodeParsed(parsed, header);
    const { stored, frame0 } = imageStats(image);
    return {
      ...fields,
      readable: true,
      decodable: true,
      decoder: 'medtune',
      decoderOutputPhotometric: image.photometric,
      stored,
      frame0,
      modalityStats: modalityStats(image, stored, parsed.dataSet),
      storedColorSpace: storedColorSpace(image, header),
      ...(image.truncated ? { truncated: true, truncation: image.truncated.reason } : {}),
      ...(image.warnings ? { warnings: image.warnings } : {}),
    };
  } catch (err) {
    return { ...fields, readable: true, decodable: false, stored: null, frame0: null, decoder: null, error: failureSentence(err, source) };
  }
}

/** Never throws: a file that cannot be read gives `{ readable: false, error }` with a sentence naming it. */
export async function inspectDicomBytes(bytes: Uint8Array, source: string): Promise<DicomInspection> {
  let parsed: ParsedDicom;
  try {
    parsed = parseDicomBytes(bytes, source);
  } catch (err) {
    return { readable: false, pixelData: false, error: failureSentence(err, source) };
  }
  try {
    return await inspectParsed(parsed, source);
  } catch (err) {
    // A header value that still defeats the parser: report it rather than abort a folder scan.
    return { readable: false, pixelData: false, error: failureSentence(err, source) };
  }
}

export async function inspectDicomFile(filePath: string, source = filePath): Promise<DicomInspection> {
  let bytes: Uint8Array;
  try {
    bytes = await readImageBytes(filePath);
  } catch (err) {
    return { readable: false, pixelData: false, error: failureSentence(err, source) };
  }
  return inspectDicomBytes(bytes, source);
}
