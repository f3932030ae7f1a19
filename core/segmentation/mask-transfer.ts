import fs from 'node:fs';
import path from 'node:path';
import type { MaskEvent, MaskTarget, Workspace } from '../store';
import { DicomSegError, readDicomSeg, segToLabelMap, writeDicomSeg } from './dicom-seg';
import { MaskFileError, readBinaryMask, readIndexedMask, readPerClassMasks, writeIndexedMaskPng, writePerClassMaskPngs, type LabelMap } from './png-mask';

/** The mask file formats (the contract's MaskFileFormat lists the same). */
export const MASK_FILE_FORMATS = ['png-indexed', 'png-per-class', 'png-binary', 'dicom-seg'] as const;
export type MaskFileFormat = (typeof MASK_FILE_FORMATS)[number];
export type MaskExportFormat = Exclude<MaskFileFormat, 'png-binary'>;

/** Bad input for a mask transfer, with what kind of failure it is; the message names the file or case and the reason. */
export class MaskTransferError extends Error {
  constructor(
    readonly code: 'not-found' | 'invalid' | 'unsupported',
    message: string,
  ) {
    super(message);
    this.name = 'MaskTransferError';
  }
}

/** "21_training.tif" → "21_training": a file-name-safe stem for exported masks. */
const stem = (name: string) => path.basename(name, path.extname(name)).replace(/[^A-Za-z0-9._-]+/g, '_') || 'case';

/**
 * Reads mask files into the mask store for one case and frame. The files' class ids
 * are the task's: indexed grey value i, per-class file k → class k+1, a binary mask → class 1, a DICOM-SEG
 * segment number i → class i (only the frames derived from this case's instance, when the SEG says).
 */
export async function importMaskFilesForCase(ws: Workspace, author: string, target: MaskTarget, format: MaskFileFormat, files: string[]): Promise<MaskEvent> {
  try {
    return await importMasks(ws, author, target, format, files);
  } catch (err) {
    // The readers' messages name the file and the reason: bad input, not a fault of MedTune.
    if (err instanceof MaskFileError || err instanceof DicomSegError) throw new MaskTransferError('invalid', err.message);
    throw err;
  }
}

async function importMasks(ws: Workspace, author: string, target: MaskTarget, format: MaskFileFormat, files: string[]): Promise<MaskEvent> {
  for (const file of files) if (!fs.existsSync(file)) throw new MaskTransferError('not-found', `${file}: no such file`);
  const task = ws.tasks.get(target.taskId);
  const detail = ws.cases.get(target.caseId);
  const classes = task.classes.length;
  let mask: LabelMap;
  switch (format) {
    case 'png-indexed':
      mask = await readIndexedMask(only(files, format), classes + 1);
      break;
    case 'png-binary':
      mask = await readBinaryMask(only(files, format));
      break;
    case 'png-per-class':
      if (files.length > classes) throw new MaskTransferError('invalid', `${files.length} mask files for task '${task.name}', which has ${classes} class(es)`);
      mask = await readPerClassMasks(files);
      break;
    case 'dicom-seg': {
      const file = only(files, format);
      const seg = await readDicomSeg(file);
      const derived = seg.frames.some((f) => f.referencedSopInstanceUid === detail.sopInstanceUid);
      mask = segToLabelMap(seg, derived ? detail.sopInstanceUid : undefined);
      const tooHigh = seg.segments.find((s) => s.number > classes);
      if (tooHigh) throw new MaskTransferError('invalid', `${file}: segment ${tooHigh.number} (${tooHigh.label}) has no class in task '${task.name}' (${classes} class(es))`);
      break;
    }
  }
  if ((detail.rows !== undefined && detail.rows !== mask.height) || (detail.columns !== undefined && detail.columns !== mask.width)) {
    throw new MaskTransferError('invalid', `${files[0]}: the mask is ${mask.width}×${mask.height}, ${detail.displayName} is ${detail.columns}×${detail.rows}`);
  }
  return ws.masks.save({ ...target, rows: mask.height, columns: mask.width, labels: mask.labels, author, source: 'import' });
}

/** Writes the frame's current mask into `dir` in one format; returns the files written. */
export async function exportMaskFilesForCase(ws: Workspace, target: MaskTarget, format: MaskExportFormat, dir: string): Promise<string[]> {
  try {
    return await exportMasks(ws, target, format, dir);
  } catch (err) {
    if (err instanceof DicomSegError) throw new MaskTransferError('invalid', err.message);
    throw err;
  }
}

async function exportMasks(ws: Workspace, target: MaskTarget, format: MaskExportFormat, dir: string): Promise<string[]> {
  const task = ws.tasks.get(target.taskId);
  const detail = ws.cases.get(target.caseId);
  const stored = ws.masks.current(target);
  if (!stored) throw new MaskTransferError('not-found', `${detail.displayName} has no mask for task '${task.name}' (frame ${target.frame + 1})`);
  const mask: LabelMap = { width: stored.columns, height: stored.rows, labels: stored.labels };
  fs.mkdirSync(dir, { recursive: true });
  const base = `${stem(detail.displayName)}${detail.frameCount > 1 ? `-frame${target.frame + 1}` : ''}`;
  switch (format) {
    case 'png-indexed': {
      const file = path.join(dir, `${base}-mask.png`);
      await writeIndexedMaskPng(mask, file);
      return [file];
    }
    case 'png-per-class':
      return writePerClassMaskPngs(mask, task.classes.length + 1, dir, base);
    case 'dicom-seg': {
      if (detail.kind !== 'dicom') throw new MaskTransferError('unsupported', `${detail.displayName} is a ${detail.format} photo: a DICOM-SEG needs a DICOM source image`);
      const file = path.join(dir, `${base}-seg.dcm`);
      await writeDicomSeg(mask, detail.blobPath, file, { segmentLabels: task.classes.map((c) => c.name), seriesDescription: `${task.name} (MedTune)` });
      return [file];
    }
  }
}

function only(files: string[], format: string): string {
  if (files.length !== 1) throw new MaskTransferError('invalid', `A ${format} mask is one file, not ${files.length}`);
  return files[0];
}
