/**
 * What the importer needs to know about one file before it becomes a case: its identity (from the header) and proof
 * that its pixels decode. Runs inside a DecodePool worker (`DecodePool.verifyBytes`), so a slow or hostile file never
 * blocks the caller's thread. A broken file is an answer ('broken', with a reason sentence), never a throw.
 */
import * as dicomParserModule from 'dicom-parser';
import { decodeImageBytes, detectImageKind } from './decode-file';
import type { DicomHeader } from './dicom';
import { detectPhotoFormat } from './photo/format';
import { ImagingError, type DecodedImage, type ImageMetadata } from './types';

export type ImageCheck =
  | {
      status: 'image';
      kind: 'dicom' | 'photo';
      /** 'dicom' or the photo format (jpeg, png, tiff, gif). */
      format: string;
      rows: number;
      columns: number;
      frameCount: number;
      /** Of the decoded image: 3 for colour (RGB, YBR, an applied palette), 1 for greyscale. */
      samplesPerPixel: number;
      metadata: ImageMetadata;
      transferSyntaxUid?: string;
    }
  /** Not an image at all (a DICOM object without pixel data whose header describes none, a text file…). */
  | { status: 'not-image'; reason: string; kind?: 'dicom' }
  /** Looks like an image but cannot be one: header facts when they could be read, and why. */
  | {
      status: 'broken';
      reason: string;
      code: ImagingError['code'];
      kind?: 'dicom' | 'photo';
      format?: string;
      metadata?: ImageMetadata;
      transferSyntaxUid?: string;
      rows?: number;
      columns?: number;
      frameCount?: number;
    };

// dicom-parser is a UMD bundle: under Node ESM its functions sit on `default`.
type DicomParserApi = typeof dicomParserModule;
const dicomParser: DicomParserApi =
  typeof (dicomParserModule as DicomParserApi).parseDicom === 'function'
    ? dicomParserModule
    : (dicomParserModule as unknown as { default: DicomParserApi }).default;

// The DICOM module pulls in the wasm codecs; photo-only workers never load them.
const loadDicom = () => import('./dicom/index');

/** Storage SOP classes whose objects are images (a UID equal to one of these or below it). */
const IMAGE_SOP_CLASS_ROOTS = [
  '1.1', // CR, DX/MG/IO (1.1.1 …)
  '1.2', // CT, enhanced CT
  '1.3', // ultrasound multi-frame (retired and current 1.3.1)
  '1.4', // MR, enhanced MR
  '1.5', // nuclear medicine (retired)
  '1.6', // ultrasound (retired and current)
  '1.7', // secondary capture
  '1.12', // XA, RF
  '1.13.1', // X-ray 3D, breast tomosynthesis
  '1.14', // intravascular OCT
  '1.20', // nuclear medicine
  '1.30', // parametric map
  '1.66.4', // segmentation
  '1.77.1', // visible light: endoscopy, microscopy, photography, ophthalmic, whole slide
  '1.128', // PET
  '1.130', // enhanced PET
  '1.481.1', // RT image
  '1.481.2', // RT dose (a dose grid)
].map((suffix) => `1.2.840.10008.5.1.4.1.${suffix}`);

export function isImageSopClass(uid: string | undefined): boolean {
  return uid !== undefined && IMAGE_SOP_CLASS_ROOTS.some((root) => uid === root || uid.startsWith(`${root}.`));
}

/** A thrown value as a sentence: ImagingError's reason, an Error's message, or the value itself. */
export function describeFailure(err: unknown): string {
  if (err instanceof ImagingError) return err.reason;
  if (err instanceof Error && err.message) return err.message;
  if (typeof err === 'string' && err) return err;
  if (err && typeof err === 'object' && 'exception' in err) return describeFailure((err as { exception: unknown }).exception);
  const text = String(err);
  return text && text !== '[object Object]' && text !== 'undefined' ? text : 'unknown error (the decoder gave no reason)';
}

function codeOf(err: unknown): ImagingError['code'] {
  return err instanceof ImagingError ? err.code : 'corrupt';
}

/** Checks one file's bytes: identity from the header, pixel data length against the Image Pixel attributes, and a full decode. */
export async function verifyImageBytes(bytes: Uint8Array, source: string): Promise<ImageCheck> {
  if (bytes.length === 0) return { status: 'broken', reason: 'the file is empty', code: 'truncated' };
  let kind: 'dicom' | 'photo' | undefined;
  try {
    kind = await detectImageKind(bytes);
  } catch (err) {
    return { status: 'broken', reason: `cannot tell what the file holds: ${describeFailure(err)}`, code: codeOf(err) };
  }
  if (kind === 'photo') return verifyPhoto(bytes, source);
  if (kind === 'dicom') return verifyDicom(bytes, source);
  return { status: 'not-image', reason: 'neither DICOM nor a JPEG, PNG, TIFF or GIF image' };
}

async function verifyPhoto(bytes: Uint8Array, source: string): Promise<ImageCheck> {
  const format = detectPhotoFormat(bytes) ?? 'photo';
  try {
    const image = await decodeImageBytes(bytes, source);
    const problem = firstFrameProblem(image);
    if (problem) return { status: 'broken', kind: 'photo', format, reason: problem, code: 'corrupt' };
    return {
      status: 'image',
      kind: 'photo',
      format: image.metadata.photoFormat ?? format,
      rows: image.rows,
      columns: image.columns,
      frameCount: 1,
      samplesPerPixel: image.samplesPerPixel,
      metadata: image.metadata,
    };
  } catch (err) {
    return { status: 'broken', kind: 'photo', format, reason: `the ${format} image cannot be decoded: ${describeFailure(err)}`, code: codeOf(err) };
  }
}

async function verifyDicom(bytes: Uint8Array, source: string): Promise<ImageCheck> {
  let header: DicomHeader;
  try {
    const { readDicomHeader } = await loadDicom();
    header = readDicomHeader(bytes, source);
  } catch (err) {
    return { status: 'broken', kind: 'dicom', format: 'dicom', reason: `the DICOM header cannot be read: ${describeFailure(err)}`, code: codeOf(err) };
  }
  const facts = {
    kind: 'dicom' as const,
    format: 'dicom',
    metadata: header.metadata,
    transferSyntaxUid: header.transferSyntaxUid,
    ...(header.rows ? { rows: header.rows } : {}),
    ...(header.columns ? { columns: header.columns } : {}),
    frameCount: header.numberOfFrames,
  };
  const dataSet = reparse(bytes, header);
  if (!header.hasPixelData) {
    const damage = damageOf(header, dataSet);
    const sopClass = header.metadata.sopClassUid;
    const hasSize = header.rows !== undefined || header.columns !== undefined;
    // A complete, sound object without a size is not an image (SR, RT plan, DICOMDIR, and the stubs test sets ship);
    // one that is damaged, or that gives an image size, lost its pixels.
    if (!damage && !hasSize) {
      return { status: 'not-image', kind: 'dicom', reason: `DICOM object without pixel data (SOP class ${sopClass ?? 'unknown'})` };
    }
    const what = hasSize ? `${header.rows ?? '?'}×${header.columns ?? '?'} image` : isImageSopClass(sopClass) ? `image (SOP class ${sopClass})` : undefined;
    const reason = damage
      ? `${damage} and there is no pixel data${what ? `, although the header describes an ${what}` : ''}`
      : `there is no pixel data, although the header describes an ${what}`;
    return { status: 'broken', ...facts, reason, code: damage ? 'truncated' : 'no-pixel-data' };
  }
  const lengthProblem = dataSet ? pixelDataLengthProblem(dataSet, header) : undefined;
  if (lengthProblem) return { status: 'broken', ...facts, reason: lengthProblem, code: 'truncated' };
  let image: DecodedImage;
  try {
    image = await decodeImageBytes(bytes, source);
  } catch (err) {
    return { status: 'broken', ...facts, reason: `the pixel data cannot be decoded: ${describeFailure(err)}`, code: codeOf(err) };
  }
  const problem = firstFrameProblem(image);
  if (problem) return { status: 'broken', ...facts, reason: problem, code: 'corrupt' };
  return {
    status: 'image',
    kind: 'dicom',
    format: 'dicom',
    rows: image.rows,
    columns: image.columns,
    frameCount: Math.max(1, image.numberOfFrames),
    samplesPerPixel: image.samplesPerPixel,
    metadata: header.metadata,
    transferSyntaxUid: header.transferSyntaxUid,
  };
}

/** The decoder's first frame must hold rows × columns × samples values. */
function firstFrameProblem(image: DecodedImage): string | undefined {
  const expected = image.rows * image.columns * image.samplesPerPixel;
  if (!(image.rows > 0 && image.columns > 0)) return `the decoded image has no size (${image.rows}×${image.columns})`;
  const first = image.frames[0];
  if (!first) return 'the decoder returned no frame';
  if (first.length !== expected) return `the first frame has ${first.length} values, expected ${image.rows}×${image.columns}×${image.samplesPerPixel}`;
  return undefined;
}

const NATIVE_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);
const PIXEL_TAGS = ['x7fe00010', 'x7fe00008', 'x7fe00009'];

interface PixelElement {
  length: number;
  dataOffset: number;
  encapsulatedPixelData?: boolean;
  fragments?: { position: number; length: number }[];
}

/**
 * Pixel data length against the Image Pixel attributes: for native syntaxes rows × columns × samples × bits allocated
 * × frames (YBR_FULL_422 stores two samples per pixel); for encapsulated ones a fragment per frame, each inside the
 * file. Undefined when it fits, or when the file cannot be re-read here (deflated data sets: the decoder checks those).
 */
export function pixelDataLengthProblem(dataSet: ReparsedDataSet, header: DicomHeader): string | undefined {
  const element = pixelElement(dataSet);
  if (!element) return undefined;
  const { data, byteArray } = element;
  const available = Math.max(0, byteArray.length - data.dataOffset);
  const frames = header.numberOfFrames;
  if (data.encapsulatedPixelData || data.length === 0xffffffff) {
    const fragments = data.fragments ?? [];
    if (fragments.length === 0) return 'the encapsulated pixel data holds no fragment';
    const last = fragments[fragments.length - 1];
    if (last.position + last.length > byteArray.length) {
      return `the pixel data is cut off: its last fragment needs ${last.position + last.length - byteArray.length} more bytes than the file holds`;
    }
    if (fragments.length < frames) return `the encapsulated pixel data holds ${fragments.length} fragment(s) for ${frames} frames`;
    return undefined;
  }
  if (!NATIVE_SYNTAXES.has(header.transferSyntaxUid)) return undefined; // the decoder reports native data under a compressed syntax
  const { rows, columns, samplesPerPixel, bitsAllocated } = header;
  if (!rows || !columns || !samplesPerPixel || !bitsAllocated) {
    const missing = [!rows && 'Rows', !columns && 'Columns', !samplesPerPixel && 'Samples per Pixel', !bitsAllocated && 'Bits Allocated'].filter(Boolean);
    return `the pixel data cannot be checked: the header lacks ${missing.join(', ')}`;
  }
  const storedSamples = header.photometricInterpretation === 'YBR_FULL_422' && samplesPerPixel === 3 ? 2 : samplesPerPixel;
  const needed = Math.ceil((rows * columns * storedSamples * bitsAllocated * frames) / 8);
  const held = Math.min(data.length, available);
  if (data.length > available) {
    return `the pixel data is cut off: the element declares ${data.length} bytes, the file holds ${available}`;
  }
  if (held < needed) {
    return (
      `the pixel data holds ${held} bytes, but ${rows}×${columns} pixels × ${storedSamples} sample(s) × ${bitsAllocated} bits` +
      ` × ${frames} frame(s) need ${needed}`
    );
  }
  return undefined;
}

interface ReparsedDataSet {
  elements: Record<string, PixelElement>;
  byteArray: Uint8Array;
}

/**
 * The data set as dicom-parser reads it (also when parsing stopped early), for the checks that need element offsets
 * the decoder's header does not give; undefined for deflated data sets (the decoder inflates and checks those).
 */
function reparse(bytes: Uint8Array, header: DicomHeader): ReparsedDataSet | undefined {
  if (header.transferSyntaxUid === '1.2.840.10008.1.2.1.99') return undefined;
  try {
    const options = header.preamble && header.fileMeta ? {} : { TransferSyntaxUID: header.transferSyntaxUid };
    return dicomParser.parseDicom(bytes, options) as unknown as ReparsedDataSet;
  } catch (err) {
    return (err as { dataSet?: ReparsedDataSet } | undefined)?.dataSet;
  }
}

/** How a data set without pixel data shows damage: parsing stopped early, a length past the end, a broken meta header. */
function damageOf(header: DicomHeader, dataSet: ReparsedDataSet | undefined): string | undefined {
  const early = header.warnings.find((w) => /stopped early|eof|overrun|past end|truncat/i.test(w));
  if (early) return `the file stops early (${early.replace(/^parsing stopped early: /, '')})`;
  for (const [tag, e] of Object.entries(dataSet?.elements ?? {})) {
    if (e.length !== 0xffffffff && e.dataOffset + e.length > dataSet!.byteArray.length) {
      return `element (${tag.slice(1, 5)},${tag.slice(5)}) claims ${e.length} bytes, more than the file holds,`;
    }
  }
  if (header.preamble && !header.fileMeta) return 'the file meta information is damaged (no transfer syntax can be read),';
  return undefined;
}

/** The Pixel Data element, if the data set has one. */
function pixelElement(dataSet: ReparsedDataSet): { data: PixelElement; byteArray: Uint8Array } | undefined {
  for (const tag of PIXEL_TAGS) {
    const data = dataSet.elements[tag];
    if (data) return { data, byteArray: dataSet.byteArray };
  }
  return undefined;
}
