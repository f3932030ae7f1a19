import { readFile } from 'node:fs/promises';
import { ImagingError } from './types';

/** A file's bytes as a Uint8Array view; an unreadable file is an ImagingError naming it and the errno. */
export async function readImageBytes(filePath: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(filePath);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImagingError(filePath, `cannot read file${code ? ` (${code})` : ''}`, 'unreadable');
  }
}
