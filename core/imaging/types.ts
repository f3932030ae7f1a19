/**
 * The shared shape of a decoded image. DICOM decoding (core/imaging/dicom) and photo decoding
 * (core/imaging/photo) produce it; display rendering, model input, the importer and the viewer consume it.
 */

export type PixelArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** Colour space of the values in `DecodedImage.frames`, after any codec colour transform. */
export type Photometric =
  | 'MONOCHROME1'
  | 'MONOCHROME2'
  | 'RGB'
  | 'YBR_FULL'
  | 'YBR_FULL_422'
  | 'PALETTE COLOR';

export interface WindowPreset {
  center: number;
  width: number;
  explanation?: string;
}

/** A lookup table as DICOM describes it (LUT Descriptor: entries, first mapped value, bits). */
export interface LookupTable {
  firstMapped: number;
  bitsPerEntry: number;
  data: Uint16Array | Uint8Array;
  explanation?: string;
}

export interface ModalityTransform {
  /** Rescale slope/intercept (1 / 0 when absent). Ignored when `lut` is present. */
  slope: number;
  intercept: number;
  /** Modality LUT Sequence (0028,3000), when present. */
  lut?: LookupTable;
  /** Rescale Type (0028,1054), e.g. 'HU'. */
  unit?: string;
}

export interface VoiTransform {
  /** Window Center/Width pairs in file order (multiple values and explanations kept). */
  windows: WindowPreset[];
  /** VOI LUT Sequence (0028,3010) entries, in file order. */
  luts: LookupTable[];
  /** VOI LUT Function (0028,1056): LINEAR (default), LINEAR_EXACT or SIGMOID. */
  fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
}

export interface Palette {
  red: LookupTable;
  green: LookupTable;
  blue: LookupTable;
}

/** Patient/study/series/instance identity and the facts the worklist and overlays show. */
export interface ImageMetadata {
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  patientId?: string;
  patientName?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyTime?: string;
  studyDescription?: string;
  seriesDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  accessionNumber?: string;
  modality?: string;
  bodyPart?: string;
  /** ImageLaterality (0020,0062) or Laterality (0020,0060): R, L, B (both) or U (unpaired). */
  laterality?: string;
  institutionName?: string;
  manufacturer?: string;
  transferSyntaxUid?: string;
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  /** Photos: EXIF orientation that was applied (1..8), original format ('jpeg', 'png', 'tiff', 'gif'). */
  exifOrientation?: number;
  photoFormat?: string;
}

export interface DecodedImage {
  /** File path or name: every error and message names it. */
  source: string;
  kind: 'dicom' | 'photo';
  rows: number;
  columns: number;
  /** 1 for grey/palette, 3 for colour (alpha, if any, is dropped). */
  samplesPerPixel: number;
  numberOfFrames: number;
  /**
   * Stored values, one array per frame, pixel-interleaved (r,g,b,r,g,b…) for colour, row-major.
   * Before any modality/VOI/palette LUT. 1-bit data is unpacked to 0/1 bytes.
   */
  frames: PixelArray[];
  /** Colour space of `frames` (JPEG colour is already converted to RGB as dcmtk does). */
  photometric: Photometric;
  bitsAllocated: number;
  bitsStored: number;
  /** Pixel Representation 1: stored values are two's-complement signed. */
  signed: boolean;
  /** True when the pixel data went through a lossy codec (JPEG baseline/extended, lossy J2K, near-lossless JPEG-LS). */
  lossy: boolean;
  modality: ModalityTransform;
  voi: VoiTransform;
  palette?: Palette;
  metadata: ImageMetadata;
  /**
   * The pixel data ends early: `frames` holds only the frames that were complete (`numberOfFrames` counts those;
   * `declaredFrames` is what the header promised). Absent for complete files.
   */
  truncated?: { declaredFrames: number; reason: string };
  /** Non-fatal problems found while reading (e.g. a damaged trailing element). */
  warnings?: string[];
}

/** Why a file could not be read; `too-large` is a decompression that would exceed the size the header allows. */
export type ImagingErrorCode = 'unreadable' | 'no-pixel-data' | 'unsupported' | 'truncated' | 'corrupt' | 'too-large';

/** A file that cannot be read, with the file and the reason; never thrown for programming errors. */
export class ImagingError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly code: ImagingErrorCode = 'unreadable',
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ImagingError';
  }
}

/**
 * A readable message for anything thrown: libraries throw strings, numbers (Emscripten), `{ exception }` objects
 * (dicom-parser) or Errors with empty messages; none of these may surface as "undefined".
 */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return err.message || err.name || 'unknown error';
  if (typeof err === 'string') return err || 'unknown error';
  if (err && typeof err === 'object' && 'exception' in err) return describeThrown((err as { exception: unknown }).exception);
  if (err === undefined || err === null) return 'unknown error (nothing was thrown)';
  return String(err);
}
