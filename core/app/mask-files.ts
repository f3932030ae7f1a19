import type { MaskFileFormatT } from '../api/mask-contract';
import { ApiFailure } from '../api/errors';
import { exportMaskFilesForCase, importMaskFilesForCase, MaskTransferError } from '../segmentation/mask-transfer';
import type { MaskEvent, MaskTarget, Workspace } from '../store';

/** The masks.import / masks.export channels' file transfer (core/segmentation/mask-transfer.ts), its bad input as API failures. */
export async function importMaskFiles(ws: Workspace, author: string, target: MaskTarget, format: MaskFileFormatT, files: string[]): Promise<MaskEvent> {
  return asApiFailure(() => importMaskFilesForCase(ws, author, target, format, files));
}

/** Writes the frame's current mask into `dir` in one format; returns the files written. */
export async function exportMaskFiles(ws: Workspace, target: MaskTarget, format: Exclude<MaskFileFormatT, 'png-binary'>, dir: string): Promise<string[]> {
  return asApiFailure(() => exportMaskFilesForCase(ws, target, format, dir));
}

/** Runs a mask transfer; its bad input (MaskTransferError) becomes an API failure with the same code and message. */
export async function asApiFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MaskTransferError) throw new ApiFailure(err.code, err.message);
    throw err;
  }
}
