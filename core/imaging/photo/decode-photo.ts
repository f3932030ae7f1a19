import sharp from 'sharp';
import { ImagingError, type DecodedImage } from '../types';
import { detectPhotoFormat, type PhotoFormat } from './format';

// Decoded images are used once and copied into typed arrays; libvips' operation cache would only hold memory.
sharp.cache(false);

type SharpMetadata = Awaited<ReturnType<sharp.Sharp['metadata']>>;

/** Colour spaces libvips reports for greyscale sources. */
const GREY_SPACES = new Set(['b-w', 'grey16']);

/**
 * Decode a JPEG, PNG, TIFF or GIF photo into MedTune's DecodedImage.
 * - EXIF orientation is applied (pixels are upright) and recorded in metadata.exifOrientation.
 * - Colour stays RGB (3 samples); greyscale sources, and palettes whose entries are all grey, give 1 sample.
 * - Alpha is dropped (not composited): the stored colour is what the camera/scanner recorded.
 * - 16-bit sources (PNG, TIFF) stay 16-bit in a Uint16Array; everything else is 8-bit.
 * - Embedded ICC profiles are not applied (stored values are returned).
 * - Only the first page/frame of multi-page TIFFs and animated GIFs is decoded.
 */
export async function decodePhoto(bytes: Uint8Array, source: string): Promise<DecodedImage> {
  const format = detectPhotoFormat(bytes);
  if (!format) {
    throw new ImagingError(source, 'not a JPEG, PNG, TIFF or GIF file (unknown signature)', 'unsupported');
  }
  // 'truncated' rejects cut-off files but tolerates the benign warnings many cameras trigger.
  // Embedded ICC profiles are ignored: stored values, as Pillow, OpenCV and DICOM readers return them, so a model sees
  // the same numbers at training and at inference whichever tool prepared the data.
  const open = () => sharp(bytes, { failOn: 'truncated', pages: 1, ignoreIcc: true });

  let meta: SharpMetadata;
  try {
    meta = await open().metadata();
  } catch (err) {
    throw toImagingError(source, format, err);
  }
  if (!meta.width || !meta.height) throw new ImagingError(source, `${format} file has no image size`, 'corrupt');
  const depth = meta.depth ?? 'uchar';
  if (depth !== 'uchar' && depth !== 'ushort') {
    throw new ImagingError(source, `${format} with ${depth} samples is not supported (8- or 16-bit unsigned only)`, 'unsupported');
  }
  const sixteenBit = depth === 'ushort';
  const grey = GREY_SPACES.has(meta.space ?? '');
  const colourspace = grey ? (sixteenBit ? 'grey16' : 'b-w') : sixteenBit ? 'rgb16' : 'srgb';

  let data: Buffer;
  let info: sharp.OutputInfo;
  try {
    ({ data, info } = await open()
      .autoOrient()
      .removeAlpha()
      .toColourspace(colourspace)
      .raw({ depth: sixteenBit ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw toImagingError(source, format, err);
  }

  const expectedChannels = grey ? 1 : 3;
  if (info.channels !== expectedChannels) {
    throw new ImagingError(source, `${format} decoded to ${info.channels} channels, expected ${expectedChannels}`, 'unsupported');
  }
  let pixels: Uint8Array | Uint16Array = sixteenBit ? copyUint16(data) : new Uint8Array(data);
  let samplesPerPixel = expectedChannels;
  // GIF and palette PNG masks come out of libvips as RGB; a grey palette is a grey image.
  if (!grey && meta.isPalette && isGreyRgb(pixels)) {
    pixels = firstChannel(pixels);
    samplesPerPixel = 1;
  }
  const bits = sixteenBit ? 16 : 8;
  return {
    source,
    kind: 'photo',
    rows: info.height,
    columns: info.width,
    samplesPerPixel,
    numberOfFrames: 1,
    frames: [pixels],
    photometric: samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2',
    bitsAllocated: bits,
    bitsStored: bits,
    signed: false,
    lossy: format === 'jpeg',
    modality: { slope: 1, intercept: 0 },
    voi: { windows: [], luts: [], fn: 'LINEAR' },
    metadata: { exifOrientation: meta.orientation ?? 1, photoFormat: format },
  };
}

/** sharp's raw ushort output is host-endian, but its Buffer may sit at an odd offset of a shared pool. */
function copyUint16(data: Buffer): Uint16Array {
  const out = new Uint16Array(data.length / 2);
  new Uint8Array(out.buffer).set(data);
  return out;
}

function isGreyRgb(pixels: Uint8Array | Uint16Array): boolean {
  for (let i = 0; i < pixels.length; i += 3) {
    if (pixels[i] !== pixels[i + 1] || pixels[i] !== pixels[i + 2]) return false;
  }
  return true;
}

function firstChannel<T extends Uint8Array | Uint16Array>(pixels: T): T {
  const out = new (pixels.constructor as { new (n: number): T })(pixels.length / 3);
  for (let i = 0, j = 0; j < out.length; i += 3, j++) out[j] = pixels[i];
  return out;
}

function toImagingError(source: string, format: PhotoFormat, err: unknown): ImagingError {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
  const truncated = /premature end|truncat|unexpected end|end of (file|data|stream)|not enough data|read error/i.test(message);
  // The signature said `format`, so libvips refusing the format means the body is damaged (e.g. a TIFF cut before its IFD).
  const reason = /unsupported image format/i.test(message)
    ? `damaged or truncated ${format} file (the decoder cannot read past the signature)`
    : `cannot decode ${format}: ${message || 'unknown decoder error'}`;
  return new ImagingError(source, reason, truncated ? 'truncated' : 'corrupt');
}
