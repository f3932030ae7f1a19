import { z } from 'zod';
import { MASK_SOURCES } from '../vocabulary';

/** The segmentation half of the contract: a case's mask per (task, frame), its history, and mask files in and out. */

const Id = z.number().int().positive();
const Frame = z.number().int().nonnegative().default(0);
const labelPlane = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'mask labels must be a Uint8Array');

export const MaskSource = z.enum(MASK_SOURCES);
const MaskTarget = z.object({ taskId: Id, caseId: Id, frame: Frame });

/** One saved state of a mask (no pixels). */
export const MaskEventInfo = z.object({
  id: Id,
  taskId: Id,
  caseId: Id,
  frame: z.number().int().nonnegative(),
  rows: z.number().int().positive(),
  columns: z.number().int().positive(),
  sha256: z.string(),
  foreground: z.number().int().nonnegative(),
  storedBytes: z.number().int().nonnegative(),
  author: z.string(),
  source: MaskSource,
  adapterVersionId: Id.optional(),
  /** "v3 · DVPT": the adapter version whose prediction was accepted or edited. */
  adapterVersionName: z.string().optional(),
  createdAt: z.string(),
});
/** A mask with its pixels: one class id per pixel, row-major (0 = background, i = the task's class i). */
export const MaskData = MaskEventInfo.extend({ labels: labelPlane });

/** The task's active adapter version's predicted mask of the frame, shown as an overlay that names the version. */
export const MaskPrediction = z.object({
  versionId: Id,
  /** "v3 · DVPT". */
  versionName: z.string(),
  rows: z.number().int().positive(),
  columns: z.number().int().positive(),
  labels: labelPlane,
  foreground: z.number().int().nonnegative(),
  /** Mean pixel entropy over the predicted foreground and its border (what suggestions rank by). */
  uncertainty: z.number(),
  createdAt: z.string(),
});

/** File formats a mask is read from and written to (core/segmentation). */
export const MASK_FILE_FORMATS = ['png-indexed', 'png-per-class', 'png-binary', 'dicom-seg'] as const;
export const MaskFileFormat = z.enum(MASK_FILE_FORMATS);

const filePath = z.string().trim().min(1).max(4096);

const MaskImportReport = z.object({
  matched: z.array(z.object({ files: z.array(z.string()), caseId: Id, caseName: z.string(), eventId: Id, foreground: z.number().int() })),
  unmatched: z.array(z.object({ file: z.string(), reason: z.string() })),
  refused: z.array(z.object({ files: z.array(z.string()), caseName: z.string().optional(), reason: z.string() })),
});
const MaskExportReport = z.object({
  written: z.array(z.object({ caseId: Id, caseName: z.string(), files: z.array(z.string()) })),
  skipped: z.array(z.object({ caseId: Id, caseName: z.string(), reason: z.string() })),
});

export const maskContract = {
  /**
   * The frame's current mask; on a task read k > 1 times the current reader's own mask until the case is
   * settled, and `author`'s mask (another reader's) only once the current reader may see the others' reads.
   * `prediction`: the active version's predicted mask (hidden while a k-read case is blind, unless the task shows the model).
   */
  'masks.get': { request: MaskTarget.extend({ author: z.string().trim().min(1).max(200).optional() }), response: z.object({ mask: MaskData.nullable(), prediction: MaskPrediction.nullable() }) },
  /** Stores the active version's predicted mask of the frame as the current mask (source accepted-prediction). */
  'masks.accept': { request: MaskTarget, response: MaskEventInfo },
  'masks.save': {
    request: MaskTarget.extend({
      rows: z.number().int().positive(),
      columns: z.number().int().positive(),
      labels: labelPlane,
      source: MaskSource.default('human'),
      adapterVersionId: Id.optional(),
    }),
    response: MaskEventInfo,
  },
  'masks.history': { request: z.object({ taskId: Id, caseId: Id, frame: z.number().int().nonnegative().optional() }), response: z.array(MaskEventInfo) },
  /**
   * Reads a mask file into the store for one case: an indexed PNG (grey value = class id), one 0/255 PNG per
   * class (file k = class k+1), a binary mask (class 1), or a DICOM-SEG (segment number = class id).
   */
  'masks.import': { request: MaskTarget.extend({ format: MaskFileFormat, files: z.array(filePath).min(1).max(50) }), response: MaskEventInfo },
  /** Writes the current mask into a folder (made if absent): indexed PNG, one PNG per class, or a DICOM-SEG of a DICOM case. */
  'masks.export': {
    request: MaskTarget.extend({ format: MaskFileFormat.exclude(['png-binary']), dir: filePath }),
    response: z.object({ files: z.array(z.string()) }),
  },
  /**
   * Many mask files or folders into a task (frame 1 of each case): PNGs matched to cases by file name, DICOM-SEG
   * by the SOP Instance UIDs its frames reference; each file reported as imported, unmatched or refused, with why.
   */
  'masks.importFiles': {
    request: z.object({ taskId: Id, format: MaskFileFormat, paths: z.array(filePath).min(1).max(1000) }),
    response: MaskImportReport,
  },
  /** Every current mask of a task into a folder; cases that cannot be written (a SEG of a photo) are reported. */
  'masks.exportAll': {
    request: z.object({ taskId: Id, format: MaskFileFormat.exclude(['png-binary']), dir: filePath }),
    response: MaskExportReport,
  },
} as const;

export type MaskEventInfoT = z.output<typeof MaskEventInfo>;
export type MaskDataT = z.output<typeof MaskData>;
export type MaskPredictionT = z.output<typeof MaskPrediction>;
export type MaskFileFormatT = z.output<typeof MaskFileFormat>;
export type MaskImportReportT = z.output<typeof MaskImportReport>;
export type MaskExportReportT = z.output<typeof MaskExportReport>;
