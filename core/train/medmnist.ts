/**
 * MedMNIST reader: a `.npz` with `{train,val,test}_{images,labels}` arrays (images uint8
 * [n,H,W] or [n,H,W,C]; labels integer [n], [n,1] or [n,L] for multi-label) → typed splits.
 * Used to benchmark and test the trainer on real public data.
 */
import { readFile } from 'node:fs/promises';
import { NpyArray, NpyFormatError, parseNpz } from './npy';

export const MEDMNIST_SPLITS = ['train', 'val', 'test'] as const;
export type MedMnistSplitName = (typeof MEDMNIST_SPLITS)[number];

export interface MedMnistSplit {
  /** n·height·width·channels bytes, row-major, channels last (HWC per image). */
  images: Uint8Array;
  /** n·labelsPerCase class ids (or 0/1 per label for multi-label sets such as ChestMNIST). */
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
  /** 1 for single-label sets; L for multi-label. */
  labelsPerCase: number;
}

export type MedMnistDataset = Record<MedMnistSplitName, MedMnistSplit>;

/** Reads and validates a MedMNIST `.npz` file. Errors are NpyFormatError naming the file. */
export async function readMedMnist(filePath: string): Promise<MedMnistDataset> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(filePath);
  } catch (error) {
    throw new NpyFormatError(filePath, `cannot read file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseMedMnist(bytes, filePath);
}

/** Same as readMedMnist on bytes already in memory; `file` names the source in errors. */
export function parseMedMnist(bytes: Uint8Array, file: string): MedMnistDataset {
  const arrays = parseNpz(bytes, file);
  const dataset = {} as MedMnistDataset;
  for (const split of MEDMNIST_SPLITS) {
    dataset[split] = toSplit(arrays, split, file);
  }
  return dataset;
}

function requireArray(arrays: Map<string, NpyArray>, key: string, file: string): NpyArray {
  const array = arrays.get(key);
  if (!array) {
    const present = [...arrays.keys()].join(', ') || 'none';
    throw new NpyFormatError(file, `missing array "${key}" (arrays present: ${present}); not a MedMNIST .npz`);
  }
  return array;
}

function toSplit(arrays: Map<string, NpyArray>, split: MedMnistSplitName, file: string): MedMnistSplit {
  const images = requireArray(arrays, `${split}_images`, file);
  const labels = requireArray(arrays, `${split}_labels`, file);
  const where = `${file} [${split}]`;
  if (!(images.data instanceof Uint8Array) || images.dtype.slice(1) !== 'u1') {
    throw new NpyFormatError(where, `images have dtype '${images.dtype}', expected uint8 ('|u1')`);
  }
  if (images.shape.length !== 3 && images.shape.length !== 4) {
    throw new NpyFormatError(where, `images have shape (${images.shape.join(', ')}), expected (n, H, W) or (n, H, W, C)`);
  }
  const [n, height, width] = images.shape;
  const channels = images.shape.length === 4 ? images.shape[3] : 1;
  if (labels.shape.length < 1 || labels.shape.length > 2 || labels.shape[0] !== n) {
    throw new NpyFormatError(where, `labels have shape (${labels.shape.join(', ')}), expected (${n},) or (${n}, L) to match ${n} images`);
  }
  const labelsPerCase = labels.shape.length === 2 ? labels.shape[1] : 1;
  return { images: images.data, labels: toInt32(labels, where), n, height, width, channels, labelsPerCase };
}

function toInt32(array: NpyArray, where: string): Int32Array {
  const out = new Int32Array(array.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(array.data[i]);
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new NpyFormatError(where, `label ${i} is ${String(array.data[i])}, not a class id`);
    }
    out[i] = v;
  }
  return out;
}
