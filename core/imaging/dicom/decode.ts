/** decodeDicom: bytes to stored values per frame plus the transforms and metadata the viewer needs. */
import { describeThrown, ImagingError, type DecodedImage, type Photometric, type PixelArray } from '../types';
import { decodeJpeg8Frame, jpegPrecision } from './codecs/jpeg-baseline';
import { decodeJpeg12Frame } from './codecs/jpeg12';
import { decodeJpegLosslessFrame } from './codecs/jpeg-lossless';
import { decodeRleFrame } from './codecs/rle';
import { decodeWithWasm, type WasmDecodeResult } from './codecs/wasm-codecs';
import { encapsulatedFrames, TruncatedFragmentError } from './fragments';
import { inflateRawCapped } from './inflate';
import { findPixelDataElement, headerFromParsed, type DicomHeader } from './header';
import { parseDicomBytes, type ParsedDicom } from './parse';
import {
  bytesPerElement,
  expandYbr422,
  pixelDtype,
  planarToInterleaved,
  signExtend,
  swapBytes,
  typedFromLittleEndian,
  unpackBits,
  type PixelDtype,
} from './pixels';
import { transferSyntaxInfo, type TransferSyntaxInfo } from './transfer-syntax';
import { readModalityTransform, readPalette, readVoiTransform } from './transforms';

/** The Image Pixel attributes decoding needs, validated. */
export interface PixelLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  planar: boolean;
  photometric: string;
  frames: number;
  dtype: PixelDtype;
}

const SUPPORTED_PHOTOMETRIC = new Set([
  'MONOCHROME1',
  'MONOCHROME2',
  'PALETTE COLOR',
  'RGB',
  'YBR_FULL',
  'YBR_FULL_422',
  'YBR_RCT',
  'YBR_ICT',
  'YBR_PARTIAL_420',
  'YBR_PARTIAL_422',
]);

export function pixelLayout(header: DicomHeader): PixelLayout {
  const { source } = header;
  if (!header.hasPixelData) {
    throw new ImagingError(source, 'no pixel data element (not an image: e.g. DICOMDIR, SR, RT plan)', 'no-pixel-data');
  }
  const missing: string[] = [];
  if (!header.rows) missing.push('Rows');
  if (!header.columns) missing.push('Columns');
  if (!header.bitsAllocated) missing.push('BitsAllocated');
  if (!header.samplesPerPixel) missing.push('SamplesPerPixel');
  if (!header.photometricInterpretation) missing.push('PhotometricInterpretation');
  if (missing.length > 0) {
    throw new ImagingError(source, `Pixel Data present but Image Pixel attributes missing: ${missing.join(', ')}`, 'corrupt');
  }
  const bitsAllocated = header.bitsAllocated!;
  const keyword = header.pixelDataKeyword ?? 'PixelData';
  const floatData = keyword !== 'PixelData';
  if (!floatData && ![1, 8, 16, 32].includes(bitsAllocated)) {
    throw new ImagingError(source, `Bits Allocated ${bitsAllocated} is not supported (1, 8, 16 or 32)`, 'unsupported');
  }
  const samplesPerPixel = header.samplesPerPixel!;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw new ImagingError(source, `Samples per Pixel ${samplesPerPixel} is not supported (1 or 3)`, 'unsupported');
  }
  const photometric = header.photometricInterpretation!;
  if (!SUPPORTED_PHOTOMETRIC.has(photometric)) {
    throw new ImagingError(source, `Photometric Interpretation ${photometric} is not supported`, 'unsupported');
  }
  const bitsStored = header.bitsStored ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw new ImagingError(source, `Bits Stored ${bitsStored} does not fit Bits Allocated ${bitsAllocated}`, 'corrupt');
  }
  const signed = header.pixelRepresentation === 1;
  return {
    rows: header.rows!,
    columns: header.columns!,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    signed,
    planar: samplesPerPixel > 1 && header.planarConfiguration === 1,
    photometric,
    frames: header.numberOfFrames,
    dtype: pixelDtype(bitsAllocated, signed, keyword),
  };
}

interface FrameSet {
  frames: PixelArray[];
  photometric: Photometric;
  /** A codec reported lossy coding (J2K irreversible, JPEG-LS near > 0), or the syntax is lossy-only. */
  lossyCodec: boolean;
  /** Set when the pixel data ends early and only the complete frames were decoded. */
  truncatedReason?: string;
}

/** One frame of native (uncompressed) little-endian sample bytes into stored values, interleaved, full resolution. */
function nativeFrame(bytes: Uint8Array, layout: PixelLayout): PixelArray {
  if (layout.bitsAllocated === 1) return unpackBits(bytes, layout.rows * layout.columns * layout.samplesPerPixel);
  const frame = typedFromLittleEndian(bytes, layout.dtype);
  if (layout.photometric === 'YBR_FULL_422' && layout.samplesPerPixel === 3) return expandYbr422(frame, layout.rows, layout.columns);
  if (layout.planar) return planarToInterleaved(frame, layout.samplesPerPixel);
  return frame;
}

/** Bytes of one native frame as stored (1-bit data packed; YBR_FULL_422 two samples per pixel). */
function nativeFrameBytes(layout: PixelLayout): number {
  const pixels = layout.rows * layout.columns;
  if (layout.bitsAllocated === 1) return Math.ceil((pixels * layout.samplesPerPixel) / 8);
  const subsampled = layout.photometric === 'YBR_FULL_422' && layout.samplesPerPixel === 3;
  return (subsampled ? pixels * 2 : pixels * layout.samplesPerPixel) * bytesPerElement(layout.dtype);
}

function nativeFrames(parsed: ParsedDicom, layout: PixelLayout, ts: TransferSyntaxInfo, source: string): FrameSet {
  const { element } = findPixelDataElement(parsed.dataSet)!;
  const byteArray = parsed.dataSet.byteArray as Uint8Array;
  const all = byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
  const samplesPerFrame = layout.rows * layout.columns * layout.samplesPerPixel;
  const frames: PixelArray[] = [];

  if (layout.bitsAllocated === 1) {
    // Bits run across frame boundaries, so frames are cut from one unpacked run.
    const needed = Math.ceil((samplesPerFrame * layout.frames) / 8);
    const complete = Math.min(layout.frames, Math.floor((all.length * 8) / samplesPerFrame));
    if (complete === 0) throw truncated(source, all.length, needed);
    const bits = unpackBits(all, samplesPerFrame * complete);
    for (let f = 0; f < complete; f++) frames.push(bits.slice(f * samplesPerFrame, (f + 1) * samplesPerFrame));
    const truncatedReason = complete < layout.frames ? truncatedMessage(all.length, needed, complete, layout.frames) : undefined;
    return { frames, photometric: layout.photometric as Photometric, lossyCodec: false, truncatedReason };
  }

  const width = bytesPerElement(layout.dtype);
  const frameBytes = nativeFrameBytes(layout);
  const needed = frameBytes * layout.frames;
  const complete = Math.min(layout.frames, Math.floor(all.length / frameBytes));
  if (complete === 0) throw truncated(source, all.length, needed);
  const data = all.slice(0, complete * frameBytes);
  if (ts.bigEndian) {
    // 8-bit data in an OW element is still byte-swapped as 16-bit words.
    swapBytes(data, width === 1 && element.vr === 'OW' ? 2 : width);
  }
  for (let f = 0; f < complete; f++) frames.push(nativeFrame(data.subarray(f * frameBytes, (f + 1) * frameBytes), layout));
  const truncatedReason = complete < layout.frames ? truncatedMessage(all.length, needed, complete, layout.frames) : undefined;
  return { frames, photometric: layout.photometric as Photometric, lossyCodec: false, truncatedReason };
}

function truncatedMessage(have: number, need: number, complete: number, declared: number): string {
  return `pixel data is truncated: ${have} bytes, expected ${need}; decoded the ${complete} complete frame(s) of ${declared}`;
}

function truncated(source: string, have: number, need: number): ImagingError {
  return new ImagingError(source, `pixel data is truncated: ${have} bytes, expected ${need} (not even one complete frame)`, 'truncated');
}

/** Codec output (8- or 16-bit samples, signed or not) into the file's stored dtype, interleaved. */
function toStoredFrame(result: WasmDecodeResult | { bytes: Uint8Array; bytesPerSample: number; signed?: boolean }, layout: PixelLayout, source: string): PixelArray {
  const bytesPerSample = 'info' in result ? (result.info.bitsPerSample > 8 ? 2 : 1) : result.bytesPerSample;
  const codecSigned = 'info' in result ? Boolean(result.info.isSigned) : Boolean(result.signed);
  const expected = layout.rows * layout.columns * layout.samplesPerPixel;
  if (result.bytes.length !== expected * bytesPerSample) {
    throw new ImagingError(
      source,
      `decoded frame has ${result.bytes.length / bytesPerSample} samples, expected ${layout.rows}x${layout.columns}x${layout.samplesPerPixel}`,
      'corrupt',
    );
  }
  const sourceDtype: PixelDtype = bytesPerSample === 1 ? (codecSigned ? 'int8' : 'uint8') : codecSigned ? 'int16' : 'uint16';
  const decoded = typedFromLittleEndian(result.bytes, sourceDtype);
  if (sourceDtype === layout.dtype) return decoded;
  if (bytesPerSample === bytesPerElement(layout.dtype)) return typedFromLittleEndian(result.bytes, layout.dtype);
  const out = typedFromLittleEndian(new Uint8Array(expected * bytesPerElement(layout.dtype)), layout.dtype);
  out.set(decoded);
  return out;
}

async function encapsulatedFrameSet(
  parsed: ParsedDicom,
  layout: PixelLayout,
  ts: TransferSyntaxInfo,
  source: string,
): Promise<FrameSet> {
  const { element } = findPixelDataElement(parsed.dataSet)!;
  if (!element.encapsulatedPixelData) {
    throw new ImagingError(source, `${ts.name} pixel data is not encapsulated (no fragments)`, 'corrupt');
  }
  let encoded: Uint8Array[];
  let truncatedReason: string | undefined;
  try {
    const found = encapsulatedFrames(parsed.dataSet, element, layout.frames);
    encoded = found.frames;
    if (found.truncatedBy) {
      if (encoded.length === 0) throw found.truncatedBy;
      truncatedReason = `pixel data is truncated: ${found.truncatedBy.message}; decoded the ${encoded.length} complete frame(s) of ${layout.frames}`;
    }
  } catch (err) {
    if (err instanceof TruncatedFragmentError) {
      throw new ImagingError(source, `pixel data is truncated: ${err.message} (not even one complete frame)`, 'truncated');
    }
    throw err;
  }
  if (encoded.length < layout.frames && !truncatedReason) {
    if (encoded.length === 0) throw new ImagingError(source, `pixel data holds no frame, Number of Frames says ${layout.frames}`, 'truncated');
    truncatedReason = `pixel data holds ${encoded.length} frame(s), Number of Frames says ${layout.frames}; decoded those`;
  }
  const isYbr = layout.photometric.startsWith('YBR');
  let photometric = layout.photometric as Photometric;
  let lossyCodec = false;
  const frames: PixelArray[] = [];
  for (let f = 0; f < encoded.length; f++) {
    const stream = encoded[f];
    let frame: PixelArray;
    try {
      switch (ts.encoding) {
        case 'deflate': {
          // Each frame is a raw deflate stream of native little-endian samples; it may not inflate past one frame.
          const frameBytes = nativeFrameBytes(layout);
          const inflated = inflateRawCapped(stream, frameBytes + 1, source, `deflated frame ${f + 1}`);
          if (inflated.length < frameBytes) {
            throw new ImagingError(source, `deflated frame ${f + 1} holds ${inflated.length} bytes, expected ${frameBytes}`, 'corrupt');
          }
          frame = nativeFrame(inflated.subarray(0, frameBytes), layout);
          break;
        }
        case 'rle': {
          const bytes = decodeRleFrame(stream, layout.rows, layout.columns, layout.samplesPerPixel, layout.bitsAllocated);
          frame = typedFromLittleEndian(bytes, layout.dtype);
          break;
        }
        case 'jpeg-baseline':
        case 'jpeg-extended': {
          const precision = jpegPrecision(stream) ?? 8;
          if (precision > 8) {
            frame = toStoredFrame(decodeJpeg12Frame(stream), layout, source);
          } else {
            frame = toStoredFrame(await decodeJpeg8Frame(stream, layout.samplesPerPixel, isYbr), layout, source);
          }
          // Colour JPEG is returned converted to RGB, as dcmtk does.
          if (layout.samplesPerPixel === 3) photometric = 'RGB';
          lossyCodec = true;
          break;
        }
        case 'jpeg-lossless':
          frame = toStoredFrame(decodeJpegLosslessFrame(stream), layout, source);
          break;
        case 'jpeg-ls': {
          const result = await decodeWithWasm('charls', stream);
          if (result.info.componentCount > 1 && result.interleaveMode === 0) {
            // Interleave mode "none": CharLS returns one plane per component.
            frame = planarToInterleaved(toStoredFrame(result, layout, source), result.info.componentCount);
          } else {
            frame = toStoredFrame(result, layout, source);
          }
          lossyCodec ||= (result.nearLossless ?? 0) > 0;
          break;
        }
        case 'jpeg-2000':
        case 'htj2k': {
          const result = await decodeJ2k(stream, ts.encoding === 'htj2k');
          frame = j2kFrame(result, layout, source);
          photometric = j2kPhotometric(layout, ts);
          lossyCodec ||= result.reversible === false;
          break;
        }
        default:
          throw new ImagingError(source, `${ts.name} is not an encapsulated syntax`, 'unsupported');
      }
    } catch (err) {
      if (err instanceof ImagingError) throw err;
      throw new ImagingError(source, `${ts.name} frame ${f + 1} cannot be decoded: ${describeThrown(err)}`, 'corrupt');
    }
    frames.push(frame);
  }
  if (photometric === 'YBR_PARTIAL_420' as string || photometric === 'YBR_PARTIAL_422' as string || photometric === 'YBR_RCT' as string || photometric === 'YBR_ICT' as string) {
    throw new ImagingError(source, `${layout.photometric} with ${ts.name} is not supported`, 'unsupported');
  }
  return { frames, photometric, lossyCodec, truncatedReason };
}

/** A JPEG 2000 codec result as stored values of `layout` (its rows and columns those of the decoded resolution). */
function j2kFrame(result: WasmDecodeResult, layout: PixelLayout, source: string): PixelArray {
  const frame = toStoredFrame(result, layout, source);
  if (layout.signed && !result.info.isSigned) {
    // The header is authoritative (as in pydicom and GDCM): unsigned codestream samples become two's
    // complement of the codestream precision (the Bits Stored of a consistent file).
    signExtend(frame as Int8Array | Int16Array | Int32Array, result.info.bitsPerSample || layout.bitsStored);
  }
  return frame;
}

/** Colour JPEG 2000 comes back as RGB (the codec undoes RCT/ICT; HTJ2K always); other data keeps its photometric. */
function j2kPhotometric(layout: PixelLayout, ts: TransferSyntaxInfo): Photometric {
  const isYbr = layout.photometric.startsWith('YBR');
  if (layout.samplesPerPixel === 3 && (ts.encoding === 'htj2k' || !isYbr || layout.photometric === 'YBR_RCT' || layout.photometric === 'YBR_ICT')) {
    return 'RGB';
  }
  return layout.photometric as Photometric;
}

/**
 * OpenJPEG 2.5 reads both classic and High-Throughput codestreams and matches the reference decoders bit for bit
 * (OpenJPH's irreversible path rounds differently); OpenJPH is the fallback for HT streams OpenJPEG rejects.
 */
async function decodeJ2k(stream: Uint8Array, highThroughput: boolean): Promise<WasmDecodeResult> {
  try {
    const result = await decodeWithWasm('openjpeg', stream);
    if (result.bytes.length === 0) throw new Error('OpenJPEG could not read the codestream (corrupt or truncated)');
    return result;
  } catch (err) {
    if (!highThroughput) throw err;
    return decodeWithWasm('openjph', stream);
  }
}

/** Decodes an already parsed file (shared by decodeDicom and the inspect command). */
export async function decodeParsed(parsed: ParsedDicom, header: DicomHeader): Promise<DecodedImage> {
  const { source } = header;
  const layout = pixelLayout(header);
  const ts = transferSyntaxInfo(header.transferSyntaxUid);
  if (!ts) {
    throw new ImagingError(source, `transfer syntax ${header.transferSyntaxUid} (${header.transferSyntaxName}) is not supported`, 'unsupported');
  }
  const frameSet = ts.encoding === 'native' ? nativeFrames(parsed, layout, ts, source) : await encapsulatedFrameSet(parsed, layout, ts, source);
  const lossyAttribute = header.lossyImageCompression === '01';
  const lossy = frameSet.lossyCodec || lossyAttribute || (ts.lossy && ts.encoding !== 'jpeg-2000' && ts.encoding !== 'htj2k' && ts.encoding !== 'jpeg-ls');
  const palette = layout.photometric === 'PALETTE COLOR' ? readPalette(parsed.dataSet) : undefined;
  return {
    source,
    kind: 'dicom',
    rows: layout.rows,
    columns: layout.columns,
    samplesPerPixel: layout.samplesPerPixel,
    numberOfFrames: layout.frames,
    frames: frameSet.frames,
    photometric: frameSet.photometric,
    bitsAllocated: layout.bitsAllocated,
    bitsStored: layout.bitsStored,
    signed: layout.signed,
    lossy,
    modality: readModalityTransform(parsed.dataSet, layout.signed),
    voi: readVoiTransform(parsed.dataSet, layout.signed),
    ...(palette ? { palette } : {}),
    metadata: header.metadata,
    ...(frameSet.truncatedReason
      ? { truncated: { declaredFrames: layout.frames, reason: frameSet.truncatedReason }, numberOfFrames: frameSet.frames.length }
      : {}),
    ...(header.warnings.length > 0 || frameSet.truncatedReason
      ? { warnings: [...header.warnings, ...(frameSet.truncatedReason ? [frameSet.truncatedReason] : [])] }
      : {}),
  };
}

/**
 * A quick first view of a JPEG 2000 (or HTJ2K) file: its first frame from the codestream's lower resolution levels
 * (OpenJPEG's decodeSubResolution), the longer side at most `maxSide` or the smallest level the codestream has.
 * Undefined for any other syntax, for an image already that small, or when the reduced decode fails (the full
 * decode then reports the problem).
 */
export async function decodeDicomPreview(bytes: Uint8Array, source: string, maxSide: number): Promise<DecodedImage | undefined> {
  try {
    const parsed = parseDicomBytes(bytes, source);
    const header = headerFromParsed(parsed, source);
    const layout = pixelLayout(header);
    const ts = transferSyntaxInfo(header.transferSyntaxUid);
    if (!ts || (ts.encoding !== 'jpeg-2000' && ts.encoding !== 'htj2k')) return undefined;
    const level = Math.ceil(Math.log2(Math.max(layout.rows, layout.columns) / maxSide));
    if (level < 1) return undefined;
    const { element } = findPixelDataElement(parsed.dataSet)!;
    const stream = encapsulatedFrames(parsed.dataSet, element, layout.frames).frames[0];
    if (!stream) return undefined;
    // A codestream may have fewer decomposition levels than asked for: try the next finer level then.
    let result: WasmDecodeResult | undefined;
    for (let l = level; l >= 1 && !result; l--) result = await decodeWithWasm('openjpeg', stream, { decodeLevel: l }).catch(() => undefined);
    if (!result?.decodeLevel) return undefined;
    const reduced = { ...layout, rows: result.info.height, columns: result.info.width };
    const frame = j2kFrame(result, reduced, source);
    const palette = layout.photometric === 'PALETTE COLOR' ? readPalette(parsed.dataSet) : undefined;
    return {
      source,
      kind: 'dicom',
      rows: reduced.rows,
      columns: reduced.columns,
      samplesPerPixel: layout.samplesPerPixel,
      numberOfFrames: 1,
      frames: [frame],
      photometric: j2kPhotometric(layout, ts),
      bitsAllocated: layout.bitsAllocated,
      bitsStored: layout.bitsStored,
      signed: layout.signed,
      // Reduced: not the stored values of any pixel of the file, so never for measurement.
      lossy: true,
      modality: readModalityTransform(parsed.dataSet, layout.signed),
      voi: readVoiTransform(parsed.dataSet, layout.signed),
      ...(palette ? { palette } : {}),
      metadata: header.metadata,
    };
  } catch {
    return undefined;
  }
}

/** Decodes every frame of a DICOM file. Every failure is an ImagingError naming `source`. */
export async function decodeDicom(bytes: Uint8Array, source: string): Promise<DecodedImage> {
  try {
    const parsed = parseDicomBytes(bytes, source);
    return await decodeParsed(parsed, headerFromParsed(parsed, source));
  } catch (err) {
    if (err instanceof ImagingError) throw err;
    // A library or decoder bug must still name the file rather than escape as a TypeError.
    throw new ImagingError(source, `cannot decode: ${describeThrown(err)}`, 'corrupt');
  }
}
