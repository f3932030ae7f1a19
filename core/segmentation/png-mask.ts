import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/** A label map: one class id per pixel, row-major (0 = background). */
export interface LabelMap {
  width: number;
  height: number;
  labels: Uint8Array;
}

export class MaskFileError extends Error {
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'MaskFileError';
  }
}

/** First channel of an image file (PNG, GIF, TIFF… as sharp reads them) as 8-bit values. */
async function readFirstChannel(file: string): Promise<{ width: number; height: number; values: Uint8Array }> {
  try {
    const { data, info } = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`expected one channel, got ${info.channels}`);
    return { width: info.width, height: info.height, values: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (err) {
    throw new MaskFileError(file, `cannot read as an image (${(err as Error).message})`);
  }
}

/** A binary mask: 1 where the first channel is above half range (0/255 masks, DRIVE's GIFs). */
export async function readBinaryMask(file: string): Promise<LabelMap> {
  const { width, height, values } = await readFirstChannel(file);
  return { width, height, labels: Uint8Array.from(values, (v) => (v > 127 ? 1 : 0)) };
}

/**
 * An indexed mask: the grey value is the class id (0..numClasses−1). A value at or above
 * `numClasses` is refused, naming the file: it is probably a 0/255 mask, read with readBinaryMask.
 */
export async function readIndexedMask(file: string, numClasses: number): Promise<LabelMap> {
  const { width, height, values } = await readFirstChannel(file);
  for (let i = 0; i < values.length; i++) {
    if (values[i] >= numClasses) {
      throw new MaskFileError(file, `pixel (${i % width}, ${Math.floor(i / width)}) has value ${values[i]}, not a class id below ${numClasses}`);
    }
  }
  return { width, height, labels: values.slice() };
}

/**
 * One binary file per class: `files[k]` marks class k + 1. Files must share a size; a pixel
 * claimed by two classes is refused (naming both files) rather than silently given to one.
 */
export async function readPerClassMasks(files: string[]): Promise<LabelMap> {
  if (files.length === 0) throw new Error('no mask files given');
  let out: LabelMap | undefined;
  for (let k = 0; k < files.length; k++) {
    const m = await readBinaryMask(files[k]);
    if (!out) out = { width: m.width, height: m.height, labels: new Uint8Array(m.labels.length) };
    else if (m.width !== out.width || m.height !== out.height) {
      throw new MaskFileError(files[k], `is ${m.width}×${m.height}, ${files[0]} is ${out.width}×${out.height}`);
    }
    for (let i = 0; i < m.labels.length; i++) {
      if (!m.labels[i]) continue;
      if (out.labels[i]) throw new MaskFileError(files[k], `pixel (${i % m.width}, ${Math.floor(i / m.width)}) is also marked in ${files[out.labels[i] - 1]}`);
      out.labels[i] = k + 1;
    }
  }
  return out!;
}

/** Writes a label map as an 8-bit grey PNG whose values are the class ids. */
export async function writeIndexedMaskPng(mask: LabelMap, file: string): Promise<void> {
  await sharp(Buffer.from(mask.labels), { raw: { width: mask.width, height: mask.height, channels: 1 } }).toColourspace('b-w').png().toFile(file);
}

/** Writes one 0/255 PNG per foreground class (1..numClasses−1) into `dir`; returns the paths, class order. */
export async function writePerClassMaskPngs(mask: LabelMap, numClasses: number, dir: string, baseName: string): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let k = 1; k < numClasses; k++) {
    const file = path.join(dir, `${baseName}-class${k}.png`);
    const binary = Buffer.from(Uint8Array.from(mask.labels, (v) => (v === k ? 255 : 0)));
    await sharp(binary, { raw: { width: mask.width, height: mask.height, channels: 1 } }).toColourspace('b-w').png().toFile(file);
    files.push(file);
  }
  return files;
}
