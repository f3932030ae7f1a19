import fs from 'node:fs';
import path from 'node:path';
import type { Workspace } from '../store';
import { DicomSegError, readDicomSeg } from './dicom-seg';
import { exportMaskFilesForCase, importMaskFilesForCase, MaskTransferError, type MaskExportFormat, type MaskFileFormat } from './mask-transfer';

/**
 * Mask files in bulk (the CLI's `medtune masks import|export`): many files or folders matched to the
 * task's cases, each matched case stored as one import event (mask-transfer.ts). PNG files are
 * matched by file name, DICOM-SEG files by the SOP Instance UIDs their frames reference. Every file
 * ends up in the report as matched, unmatched or refused, with the reason.
 */

export interface MaskImportReport {
  matched: { files: string[]; caseId: number; caseName: string; eventId: number; foreground: number }[];
  /** No case of the workspace could be found for the file. */
  unmatched: { file: string; reason: string }[];
  /** A case was found but the file could not be stored for it (size, classes, unreadable file…). */
  refused: { files: string[]; caseName?: string; reason: string }[];
}

export interface MaskExportReport {
  written: { caseId: number; caseName: string; files: string[] }[];
  skipped: { caseId: number; caseName: string; reason: string }[];
}

/** Files named directly, and the plain files directly inside named folders (sorted; hidden files skipped). */
export function listMaskFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!fs.existsSync(p)) throw new MaskTransferError('not-found', `${p}: no such file or folder`);
    if (fs.statSync(p).isDirectory()) {
      for (const name of fs.readdirSync(p).sort()) {
        const full = path.join(p, name);
        if (!name.startsWith('.') && fs.statSync(full).isFile()) out.push(full);
      }
    } else out.push(p);
  }
  return out;
}

const stemOf = (file: string) => path.basename(file, path.extname(file)).toLowerCase();
/** What our own exports append to a case's name (mask-files.ts): "-mask", "-seg", "-class2", "-frame3". */
const stripExportSuffixes = (stem: string) => stem.replace(/(-frame\d+)?-(mask|seg|class\d+)$/, '');
/** The leading token of a name: "21_manual1" and "21_training" both give "21". */
const firstToken = (stem: string) => stem.split(/[_\-. ]+/)[0];

/**
 * The case a mask file belongs to, by name: the same name (after our export suffixes are removed),
 * else the same leading token (DRIVE's "21_manual1.gif" → "21_training.tif") when exactly one case has it.
 */
export function matchByName(file: string, cases: { id: number; name: string }[]): { caseId: number } | { reason: string } {
  const stem = stripExportSuffixes(stemOf(file));
  const exact = cases.filter((c) => stemOf(c.name) === stem);
  if (exact.length === 1) return { caseId: exact[0].id };
  if (exact.length > 1) return { reason: `${exact.length} cases are named '${stem}' (${exact.slice(0, 3).map((c) => c.name).join(', ')})` };
  const token = firstToken(stem);
  const byToken = token ? cases.filter((c) => firstToken(stemOf(c.name)) === token) : [];
  if (byToken.length === 1) return { caseId: byToken[0].id };
  if (byToken.length > 1) return { reason: `name '${token}…' fits ${byToken.length} cases (${byToken.slice(0, 3).map((c) => c.name).join(', ')}); rename the file to the case's name` };
  return { reason: `no case is named like '${stem}'` };
}

function failureReason(err: unknown): string {
  if (err instanceof MaskTransferError || err instanceof DicomSegError) return err.message;
  throw err;
}

/** Imports every file (or folder of files) into the task, frame 1 of each matched case. */
export async function importMaskBatch(ws: Workspace, author: string, taskId: number, format: MaskFileFormat, paths: string[]): Promise<MaskImportReport> {
  const task = ws.tasks.get(taskId);
  if (task.kind !== 'segmentation') throw new MaskTransferError('invalid', `task '${task.name}' is a ${task.kind} task: masks need a segmentation task`);
  const files = listMaskFiles(paths);
  const report: MaskImportReport = { matched: [], unmatched: [], refused: [] };
  const cases = ws.cases.all().map((c) => ({ id: c.id, name: c.displayName }));
  const groups = new Map<number, string[]>(); // case id → its files (several for png-per-class)

  if (format === 'dicom-seg') {
    for (const file of files) {
      let uids: string[];
      try {
        uids = [...new Set((await readDicomSeg(file)).frames.map((f) => f.referencedSopInstanceUid).filter((u): u is string => !!u))];
      } catch (err) {
        report.refused.push({ files: [file], reason: failureReason(err) });
        continue;
      }
      const ids = [...new Set(uids.map((u) => ws.cases.idBySopInstanceUid(u)).filter((id): id is number => id !== undefined))];
      if (ids.length === 0) {
        report.unmatched.push({ file, reason: uids.length ? `its frames reference ${uids.length} SOP Instance UID(s) (${uids[0]}${uids.length > 1 ? ', …' : ''}) that no case of this workspace has` : 'its frames reference no source instance' });
      }
      for (const id of ids) groups.set(id, [...(groups.get(id) ?? []), file]);
    }
  } else {
    for (const file of files) {
      const hit = matchByName(file, cases);
      if ('reason' in hit) report.unmatched.push({ file, reason: hit.reason });
      else groups.set(hit.caseId, [...(groups.get(hit.caseId) ?? []), file]);
    }
  }

  for (const [caseId, group] of groups) {
    const caseName = ws.cases.get(caseId).displayName;
    const ordered = format === 'png-per-class' ? perClassOrder(group, task.classes.length) : { files: group };
    if ('reason' in ordered) {
      report.refused.push({ files: group, caseName, reason: ordered.reason });
      continue;
    }
    // One file per case except per-class PNGs; a second SEG or PNG for the same case is refused, not silently layered.
    if (format !== 'png-per-class' && group.length > 1) {
      report.refused.push({ files: group, caseName, reason: `${group.length} files match ${caseName}; import one` });
      continue;
    }
    try {
      const event = await importMaskFilesForCase(ws, author, { taskId, caseId, frame: 0 }, format, ordered.files);
      report.matched.push({ files: ordered.files, caseId, caseName, eventId: event.id, foreground: event.foreground });
    } catch (err) {
      report.refused.push({ files: group, caseName, reason: failureReason(err) });
    }
  }
  return report;
}

/** Per-class PNGs of one case ordered by the "-class<k>" in their names; classes 1..n must all be there. */
function perClassOrder(files: string[], classes: number): { files: string[] } | { reason: string } {
  const byClass = new Map<number, string>();
  for (const f of files) {
    const m = /-class(\d+)$/.exec(stemOf(f));
    if (!m) return { reason: `${path.basename(f)}: a per-class mask's name must end in -class<k> (k = the class number, from 1)` };
    const k = Number(m[1]);
    if (k < 1 || k > classes) return { reason: `${path.basename(f)}: class ${k} does not exist (the task has ${classes})` };
    if (byClass.has(k)) return { reason: `two files for class ${k}: ${path.basename(byClass.get(k)!)} and ${path.basename(f)}` };
    byClass.set(k, f);
  }
  const n = Math.max(...byClass.keys());
  const missing = [...Array(n).keys()].map((i) => i + 1).filter((k) => !byClass.has(k));
  if (missing.length) return { reason: `class file(s) ${missing.join(', ')} missing (have ${[...byClass.keys()].sort().join(', ')})` };
  return { files: [...Array(n).keys()].map((i) => byClass.get(i + 1)!) };
}

/** Writes every current mask of the task (frame by frame) into `dir` in one format. */
export async function exportMaskBatch(ws: Workspace, taskId: number, format: MaskExportFormat, dir: string): Promise<MaskExportReport> {
  const task = ws.tasks.get(taskId);
  if (task.kind !== 'segmentation') throw new MaskTransferError('invalid', `task '${task.name}' is a ${task.kind} task: it has no masks`);
  const report: MaskExportReport = { written: [], skipped: [] };
  for (const event of ws.masks.currentAll(taskId)) {
    const caseName = ws.cases.get(event.caseId).displayName;
    if (event.foreground === 0) {
      report.skipped.push({ caseId: event.caseId, caseName, reason: 'the mask is empty' });
      continue;
    }
    try {
      const files = await exportMaskFilesForCase(ws, { taskId, caseId: event.caseId, frame: event.frame }, format, dir);
      report.written.push({ caseId: event.caseId, caseName, files });
    } catch (err) {
      report.skipped.push({ caseId: event.caseId, caseName, reason: failureReason(err) });
    }
  }
  return report;
}
