/**
 * Display pipeline over DecodedImage (pure functions, no DOM): what the viewer's canvas shows and what model input
 * starts from.
 *
 * Grey (MONOCHROME1/2):  stored → modality (Rescale slope/intercept or Modality LUT) → VOI (window centre/width with
 *                         LINEAR, LINEAR_EXACT or SIGMOID per PS3.3 C.11.2.1.2, or a VOI LUT) → 8 bits
 *                         → MONOCHROME1 inversion → user inversion.
 * PALETTE COLOR:          stored → red/green/blue LUTs (8- or 16-bit entries scaled to 8 bits).
 * RGB / YBR_FULL(_422):   YBR → RGB (PS3.3 C.7.6.3.1.2), full stored range → 8 bits, or a user window per channel.
 */
import { ImagingError, type DecodedImage, type LookupTable, type PixelArray, type VoiTransform } from './types';

export interface WindowLevel {
  center: number;
  width: number;
}

export type VoiFunction = VoiTransform['fn'];

export interface RenderOptions {
  /** Overrides the image's window (grey: modality values; colour: stored values per channel). */
  window?: WindowLevel;
  /** Use the image's VOI LUT with this index instead of a window (grey images only). */
  voiLutIndex?: number;
  /** Invert the displayed result (on top of MONOCHROME1's own inversion). */
  invert?: boolean;
  /** Show only the green channel as grey ("red-free" fundus view). No effect on grey images. */
  greenOnly?: boolean;
}

/** 8-bit pixels ready for display: 1 channel (grey) or 3 (RGB), row-major, interleaved. */
export interface DisplayPixels {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export interface RenderedFrame {
  width: number;
  height: number;
  /** RGBA for ImageData / canvas; alpha is always 255. */
  rgba: Uint8ClampedArray;
}

export interface ValueStats {
  min: number;
  max: number;
  mean: number;
  stdDev: number;
  count: number;
}

export interface FrameStats extends ValueStats {
  /** Colour images: statistics per channel (R, G, B of the stored values). */
  channels?: ValueStats[];
}

// ---------------------------------------------------------------------------------------------------------------
// Lookup tables

/** LUT output for `value`: inputs below the first mapped value take the first entry, above the range the last. */
export function lutLookup(lut: LookupTable, value: number): number {
  const i = Math.round(value) - lut.firstMapped;
  const last = lut.data.length - 1;
  return lut.data[i <= 0 ? 0 : i >= last ? last : i];
}

/** Bits actually used by a LUT's entries: the descriptor's, widened when the data exceed it (a common file error). */
export function lutOutputBits(lut: LookupTable): number {
  let max = 0;
  for (const v of lut.data) if (v > max) max = v;
  let bits = lut.bitsPerEntry > 0 ? lut.bitsPerEntry : 16;
  while (bits < 16 && max > 2 ** bits - 1) bits++;
  return bits;
}

// ---------------------------------------------------------------------------------------------------------------
// Modality and VOI

/**
 * The value of a stored sample using only its Bits Stored bits (PS3.5 8.1.1: bits above the high bit are not
 * pixel data), sign-extended when Pixel Representation is signed. Identity when all allocated bits are stored.
 * Some files carry 12-bit signed data with unmasked high bits (e.g. 0x0FFF meaning −1); dcmtk masks them too.
 */
export function storedValueFunction(image: DecodedImage): ((raw: number) => number) | undefined {
  const bits = image.bitsStored;
  if (!(bits > 0 && bits < 32 && bits < image.bitsAllocated)) return undefined;
  const mask = 2 ** bits - 1;
  const signBit = 2 ** (bits - 1);
  const range = 2 ** bits;
  return image.signed
    ? (raw) => {
        const v = raw & mask;
        return v >= signBit ? v - range : v;
      }
    : (raw) => raw & mask;
}

/** Modality value of one stored value (PS3.3 C.11.1): Modality LUT when present, else slope·x + intercept. */
export function modalityValue(image: DecodedImage, stored: number): number {
  const { lut, slope, intercept } = image.modality;
  return lut ? lutLookup(lut, stored) : stored * slope + intercept;
}

/**
 * VOI window per PS3.3 C.11.2.1.2, output in [yMin, yMax] (not rounded).
 * LINEAR:       x ≤ c − ½ − (w−1)/2 → yMin; x > c − ½ + (w−1)/2 → yMax; else ((x − (c − ½)) / (w−1) + ½)·(yMax−yMin) + yMin  (w ≥ 1)
 * LINEAR_EXACT: x ≤ c − w/2 → yMin; x > c + w/2 → yMax; else ((x − c) / w + ½)·(yMax−yMin) + yMin  (w > 0)
 * SIGMOID:      (yMax−yMin) / (1 + exp(−4·(x − c)/w)) + yMin
 */
export function applyWindow(x: number, window: WindowLevel, fn: VoiFunction = 'LINEAR', yMin = 0, yMax = 255): number {
  const { center: c, width } = window;
  const range = yMax - yMin;
  if (fn === 'SIGMOID') {
    const w = width > 0 ? width : Number.MIN_VALUE;
    return range / (1 + Math.exp((-4 * (x - c)) / w)) + yMin;
  }
  if (fn === 'LINEAR_EXACT') {
    const w = width > 0 ? width : Number.MIN_VALUE;
    if (x <= c - w / 2) return yMin;
    if (x > c + w / 2) return yMax;
    return ((x - c) / w + 0.5) * range + yMin;
  }
  const w = Math.max(width, 1);
  if (x <= c - 0.5 - (w - 1) / 2) return yMin;
  if (x > c - 0.5 + (w - 1) / 2) return yMax;
  // w = 1 leaves no ramp: everything is on one side of the threshold above.
  return ((x - (c - 0.5)) / (w - 1) + 0.5) * range + yMin;
}

/** Minimum and maximum modality value of a frame (grey images) or stored sample (colour). */
export function frameRange(image: DecodedImage, frameIndex = 0): { min: number; max: number } {
  const { min, max } = frameStats(image, frameIndex);
  return { min, max };
}

/**
 * The window that maps a frame's modality range [min, max] exactly onto [0, 255] with LINEAR:
 * centre (min+max+1)/2 and width max−min+1 put min on the lower threshold and max at the top of the ramp.
 */
export function minMaxWindow(min: number, max: number): WindowLevel {
  return { center: (min + max + 1) / 2, width: Math.max(max - min + 1, 1) };
}

/** The window the viewer opens with: the file's first preset, else the frame's min–max. */
export function defaultWindow(image: DecodedImage, frameIndex = 0): WindowLevel {
  const preset = image.voi.windows[0];
  if (preset && preset.width > 0) return { center: preset.center, width: preset.width };
  const { min, max } = frameRange(image, frameIndex);
  return minMaxWindow(min, max);
}

// ---------------------------------------------------------------------------------------------------------------
// Colour

/** YBR_FULL → RGB (PS3.3 C.7.6.3.1.2, ITU-R BT.601 full range), rounded and clamped to [0, max]. */
export function ybrFullToRgb(y: number, cb: number, cr: number, max = 255): [number, number, number] {
  const mid = (max + 1) / 2;
  const clamp = (v: number) => (v < 0 ? 0 : v > max ? max : Math.round(v));
  return [
    clamp(y + 1.402 * (cr - mid)),
    clamp(y - 0.344136 * (cb - mid) - 0.714136 * (cr - mid)),
    clamp(y + 1.772 * (cb - mid)),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

function frameOf(image: DecodedImage, frameIndex: number): PixelArray {
  if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex >= image.frames.length) {
    throw new RangeError(`${image.source}: frame ${frameIndex} does not exist (${image.frames.length} frame(s))`);
  }
  const frame = image.frames[frameIndex];
  const expected = image.rows * image.columns * image.samplesPerPixel;
  if (frame.length < expected) {
    throw new ImagingError(image.source, `frame ${frameIndex} holds ${frame.length} samples, expected ${expected}`, 'corrupt');
  }
  return frame;
}

const isIntegerArray = (a: PixelArray) => !(a instanceof Float32Array || a instanceof Float64Array);

function minMax(data: PixelArray, start: number, step: number, count: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start, n = 0; n < count; i += step, n++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/**
 * Map every sample through `toByte`. Integer frames with a modest value range go through a table built once
 * (a 512² CT frame touches 262k pixels but only a few thousand distinct values).
 */
function mapSamples(data: PixelArray, count: number, toByte: (v: number) => number, out: Uint8Array, outStep = 1, outOffset = 0): void {
  if (isIntegerArray(data) && count > 0) {
    const [min, max] = minMax(data, 0, 1, count);
    if (max - min <= 1 << 20) {
      const table = new Uint8Array(max - min + 1);
      for (let v = min; v <= max; v++) table[v - min] = toByte(v);
      for (let i = 0, o = outOffset; i < count; i++, o += outStep) out[o] = table[data[i] - min];
      return;
    }
  }
  for (let i = 0, o = outOffset; i < count; i++, o += outStep) out[o] = toByte(data[i]);
}

const toByteRounded = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

function greyToByteFunction(image: DecodedImage, frameIndex: number, options: RenderOptions): (stored: number) => number {
  const invert = (image.photometric === 'MONOCHROME1') !== Boolean(options.invert);
  let voi: (modality: number) => number;
  const lutIndex = options.window ? undefined : (options.voiLutIndex ?? (image.voi.windows.length === 0 ? 0 : undefined));
  const voiLut = lutIndex !== undefined ? image.voi.luts[lutIndex] : undefined;
  if (options.voiLutIndex !== undefined && !voiLut) {
    throw new RangeError(`${image.source}: VOI LUT ${options.voiLutIndex} does not exist (${image.voi.luts.length})`);
  }
  if (voiLut) {
    const scale = 255 / (2 ** lutOutputBits(voiLut) - 1);
    voi = (m) => lutLookup(voiLut, m) * scale;
  } else {
    const window = options.window ?? defaultWindow(image, frameIndex);
    const fn = image.voi.fn;
    voi = (m) => applyWindow(m, window, fn);
  }
  const stored = isIntegerArray(image.frames[frameIndex]) ? storedValueFunction(image) : undefined;
  return (raw) => {
    const byte = toByteRounded(voi(modalityValue(image, stored ? stored(raw) : raw)));
    return invert ? 255 - byte : byte;
  };
}

function paletteToBytes(image: DecodedImage, frame: PixelArray, count: number, out: Uint8Array): void {
  const palette = image.palette;
  if (!palette) throw new ImagingError(image.source, 'PALETTE COLOR image without palette LUTs', 'corrupt');
  const stored = (isIntegerArray(frame) && storedValueFunction(image)) || ((raw: number) => raw);
  [palette.red, palette.green, palette.blue].forEach((lut, channel) => {
    const bits = lutOutputBits(lut);
    const scale = 255 / (2 ** bits - 1);
    mapSamples(frame, count, (v) => toByteRounded(lutLookup(lut, stored(v)) * scale), out, 3, channel);
  });
}

function colourToBytes(image: DecodedImage, frame: PixelArray, count: number, out: Uint8Array, window?: WindowLevel): void {
  const maxStored = 2 ** Math.min(image.bitsStored, 32) - 1;
  const n = count * 3;
  let rgb: PixelArray = frame;
  if (image.photometric === 'YBR_FULL' || image.photometric === 'YBR_FULL_422') {
    const converted = new Float64Array(n);
    for (let i = 0; i < n; i += 3) {
      const [r, g, b] = ybrFullToRgb(frame[i], frame[i + 1], frame[i + 2], maxStored);
      converted[i] = r;
      converted[i + 1] = g;
      converted[i + 2] = b;
    }
    rgb = converted;
  }
  if (window) {
    for (let i = 0; i < n; i++) out[i] = toByteRounded(applyWindow(rgb[i], window, 'LINEAR'));
  } else if (maxStored === 255) {
    for (let i = 0; i < n; i++) out[i] = toByteRounded(rgb[i]);
  } else {
    const scale = 255 / maxStored;
    for (let i = 0; i < n; i++) out[i] = toByteRounded(rgb[i] * scale);
  }
}

/** The frame as 8-bit display pixels (grey stays 1 channel, palette and colour give 3), before any canvas step. */
export function toDisplayPixels(image: DecodedImage, frameIndex = 0, options: RenderOptions = {}): DisplayPixels {
  const frame = frameOf(image, frameIndex);
  const width = image.columns;
  const height = image.rows;
  const count = width * height;
  let data: Uint8Array;
  let channels: 1 | 3;
  if (image.photometric === 'MONOCHROME1' || image.photometric === 'MONOCHROME2') {
    if (image.samplesPerPixel !== 1) {
      throw new ImagingError(image.source, `${image.photometric} with ${image.samplesPerPixel} samples per pixel`, 'corrupt');
    }
    data = new Uint8Array(count);
    mapSamples(frame, count, greyToByteFunction(image, frameIndex, options), data);
    return { width, height, channels: 1, data };
  }
  data = new Uint8Array(count * 3);
  if (image.photometric === 'PALETTE COLOR') {
    paletteToBytes(image, frame, count, data);
  } else {
    if (image.samplesPerPixel !== 3) {
      throw new ImagingError(image.source, `${image.photometric} with ${image.samplesPerPixel} samples per pixel`, 'corrupt');
    }
    colourToBytes(image, frame, count, data, options.window);
  }
  channels = 3;
  if (options.greenOnly) {
    const green = new Uint8Array(count);
    for (let i = 0; i < count; i++) green[i] = data[i * 3 + 1];
    data = green;
    channels = 1;
  }
  if (options.invert) for (let i = 0; i < data.length; i++) data[i] = 255 - data[i];
  return { width, height, channels, data };
}

/** RGBA pixels of one frame for the viewer's canvas (ImageData). */
export function renderFrame(image: DecodedImage, frameIndex = 0, options: RenderOptions = {}): RenderedFrame {
  const { width, height, channels, data } = toDisplayPixels(image, frameIndex, options);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0, i = 0, o = 0; p < width * height; p++, i += channels, o += 4) {
    const r = data[i];
    rgba[o] = r;
    rgba[o + 1] = channels === 3 ? data[i + 1] : r;
    rgba[o + 2] = channels === 3 ? data[i + 2] : r;
    rgba[o + 3] = 255;
  }
  return { width, height, rgba };
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics

function stats(data: ArrayLike<number>, start: number, step: number, count: number, map?: (v: number) => number): ValueStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  for (let i = start, n = 0; n < count; i += step, n++) {
    const v = map ? map(data[i]) : data[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSq += v * v;
  }
  const mean = count ? sum / count : 0;
  return { min, max, mean, stdDev: count ? Math.sqrt(Math.max(sumSq / count - mean * mean, 0)) : 0, count };
}

/**
 * Statistics of a frame: modality values for grey images (what windows are expressed in), stored indices for
 * palette images, stored samples (all channels, plus per channel) for colour.
 */
export function frameStats(image: DecodedImage, frameIndex = 0): FrameStats {
  const frame = frameOf(image, frameIndex);
  const count = image.rows * image.columns;
  if (image.samplesPerPixel === 1) {
    const grey = image.photometric === 'MONOCHROME1' || image.photometric === 'MONOCHROME2';
    const stored = isIntegerArray(frame) ? storedValueFunction(image) : undefined;
    if (!grey) return stats(frame, 0, 1, count, stored);
    const { lut, slope, intercept } = image.modality;
    if (!lut && slope === 1 && intercept === 0) return stats(frame, 0, 1, count, stored);
    return stats(frame, 0, 1, count, (v) => modalityValue(image, stored ? stored(v) : v));
  }
  const spp = image.samplesPerPixel;
  const channels = Array.from({ length: spp }, (_, c) => stats(frame, c, spp, count));
  return { ...stats(frame, 0, 1, count * spp), channels };
}

// ---------------------------------------------------------------------------------------------------------------
// Interaction

/** Screen pixels a window/level drag takes to sweep the image's whole value range (cornerstone3D uses 1024 too). */
export const WL_DRAG_SWEEP_PX = 1024;

/**
 * Window/level change per screen pixel of drag, scaled by the image's value range like OHIF's (cornerstone3D)
 * WindowLevelTool: a 12-bit CT (range ≈ 4096) moves 4 units a pixel, an 8-bit photo 0.25, so a 200-pixel drag is a
 * fifth of the range on either, instead of most of it. Never below 0.01 so flat images still respond.
 */
export function wlDragSensitivity(range: { min: number; max: number }): number {
  const span = Number.isFinite(range.max - range.min) ? range.max - range.min : 0;
  return Math.max(0.01, (span + 1) / WL_DRAG_SWEEP_PX);
}
