import type { Handlers } from '../api/dispatch';
import { ApiFailure } from '../api/errors';
import type { MaskEventInfoT, MaskPredictionT } from '../api/mask-contract';
import { readingSettings, resolveUserPath, type MaskEvent, type MaskTarget, type StoredMask, type Workspace } from '../store';
import { versionName } from './case-record';
import { exportMaskFiles, importMaskFiles } from './mask-files';
import { isMultiRead } from './reader-handlers';
import type { AppSession } from './session';

type MaskHandlers = Pick<Handlers, 'masks.get' | 'masks.save' | 'masks.accept' | 'masks.history' | 'masks.import' | 'masks.export'>;

/** Mask events with the name of the adapter version whose prediction was accepted or edited. */
function describe(ws: Workspace, e: MaskEvent): MaskEventInfoT {
  if (e.adapterVersionId === undefined) return e;
  try {
    return { ...e, adapterVersionName: versionName(ws.versions.get(e.adapterVersionId)) };
  } catch {
    return { ...e, adapterVersionName: `v${e.adapterVersionId}` };
  }
}

/** The active version's predicted mask of a frame, with the version's name; null when it has none. */
function activePrediction(ws: Workspace, t: MaskTarget): MaskPredictionT | null {
  const active = ws.versions.active(t.taskId);
  const p = active ? ws.masks.prediction(active.id, t.caseId, t.frame) : undefined;
  if (!active || !p) return null;
  const { caseId: _c, frame: _f, ...rest } = p;
  return { ...rest, versionName: versionName(active) };
}

/**
 * The active version's prediction as the reader may see it: on a k-read task that is still blind for this
 * reader the model stays hidden unless the task shows it before a read (as for class labels).
 */
function visiblePrediction(ws: Workspace, t: MaskTarget, reader: string): MaskPredictionT | null {
  if (isMultiRead(ws, t.taskId) && ws.reads.view(t.taskId, t.caseId, reader).others === null) {
    if (!readingSettings(ws.tasks.get(t.taskId)).showModelInBlind) return null;
  }
  return activePrediction(ws, t);
}

/**
 * Segmentation masks: the current one per (task, case, frame), saving a new state, history, and mask files.
 * On a task read k > 1 times (docs/readers.md) each reader paints their own mask, blind: these handlers
 * never answer another reader's mask (nor the current one, which may be another reader's) to a reader
 * who has not yet submitted their read of the case.
 */
export function createMaskHandlers(session: AppSession): MaskHandlers {
  const ws = () => session.requireWorkspace();
  return {
    'masks.get': (req) => {
      const w = ws();
      w.cases.get(req.caseId);
      const { author, ...target } = req;
      const mask = visibleMask(w, target, session.author, author);
      return { mask: mask ? { ...describe(w, mask), labels: mask.labels } : null, prediction: visiblePrediction(w, target, session.author) };
    },
    'masks.accept': (req) => {
      const w = ws();
      const p = visiblePrediction(w, req, session.author);
      if (!p) throw new ApiFailure('not-found', 'No predicted mask for this case yet (the active version has not predicted it).');
      // On a k-read task an accepted prediction is the reader's own draft (or a reviewer's decision), like a painted one.
      const reviewing = checkMaskWrite(w, req, session.author);
      const event = w.masks.save({ ...req, rows: p.rows, columns: p.columns, labels: p.labels, author: session.author, source: 'accepted-prediction', adapterVersionId: p.versionId });
      if (reviewing) adjudicateWithMask(session, w, event);
      return describe(w, event);
    },
    'masks.save': (req) => {
      const w = ws();
      const { adapterVersionId, ...rest } = req;
      const reviewing = checkMaskWrite(w, rest, session.author);
      const event = w.masks.save({ ...rest, ...(adapterVersionId !== undefined ? { adapterVersionId } : {}), author: session.author });
      if (reviewing) adjudicateWithMask(session, w, event);
      return describe(w, event);
    },
    'masks.history': (req) => {
      const w = ws();
      const events = w.masks.history(req.taskId, req.caseId, req.frame);
      // Blind: only the reader's own saves (the others' name who painted what).
      const open = !isMultiRead(w, req.taskId) || w.reads.view(req.taskId, req.caseId, session.author).others !== null;
      return events.filter((e) => open || e.author === session.author).map((e) => describe(w, e));
    },
    'masks.import': async (req) => {
      const w = ws();
      const { format, files, ...target } = req;
      const reviewing = checkMaskWrite(w, target, session.author);
      const event = await importMaskFiles(w, session.author, target, format, files.map((f) => resolveUserPath(f)));
      if (reviewing) adjudicateWithMask(session, w, event);
      return describe(w, event);
    },
    'masks.export': async (req) => {
      const w = ws();
      const { format, dir, ...target } = req;
      if (isMultiRead(w, target.taskId) && !w.labels.current(target.caseId, target.taskId)) {
        throw new ApiFailure('conflict', `Case ${target.caseId} is read by several readers and not yet settled: its mask is exported once agreed or adjudicated`);
      }
      return { files: await exportMaskFiles(w, target, format, resolveUserPath(dir)) };
    },
  };
}

/**
 * The mask of a frame `reader` may see. Read once per case: the current mask (or `author`'s latest). Read
 * k > 1 times: their own until the case is settled, then the consensus; another reader's only once the
 * reader may see the others' reads (after their own read, or as a reviewer of a complete case).
 */
function visibleMask(ws: Workspace, target: MaskTarget, reader: string, author?: string): StoredMask | undefined {
  if (!isMultiRead(ws, target.taskId)) return author ? ws.masks.latestBy(target, author) : ws.masks.current(target);
  const unblinded = ws.reads.view(target.taskId, target.caseId, reader).others !== null;
  if (author && author !== reader) {
    if (!unblinded) throw new ApiFailure('forbidden', `Case ${target.caseId} is read blind: ${reader} sees other readers' masks once they have submitted their own`);
    return ws.masks.latestBy(target, author);
  }
  if (!author && unblinded && ws.labels.current(target.caseId, target.taskId)) return ws.masks.current(target);
  return ws.masks.latestBy(target, reader);
}

/**
 * Whether `reader` may save a mask of the frame now, on a task read k > 1 times: a reader paints until they
 * submit their read; on a complete case only a reviewer paints, and their mask settles it. Returns true when
 * the save is a reviewer's decision.
 */
function checkMaskWrite(ws: Workspace, target: MaskTarget, reader: string): boolean {
  if (!isMultiRead(ws, target.taskId)) return false;
  const view = ws.reads.view(target.taskId, target.caseId, reader);
  if (['agreed', 'disagreement', 'adjudicated', 'accepted', 'rejected'].includes(view.state)) {
    ws.readers.requireRole(reader, ['reviewer', 'admin'], 'paint the mask of a case whose reads are complete');
    return true;
  }
  if (view.myRead) throw new ApiFailure('conflict', `${reader} has submitted their mask of case ${target.caseId}; a submitted read is final (a reviewer settles the case)`);
  return false;
}

/** A reviewer's saved mask becomes the case's adjudicated label (training then reads it as the current mask). */
function adjudicateWithMask(session: AppSession, ws: Workspace, event: MaskEvent): void {
  ws.reads.adjudicate({ taskId: event.taskId, caseId: event.caseId, reviewer: session.author, value: { maskSha256: event.sha256, rows: event.rows, columns: event.columns } });
  session.loop.labelsChanged(ws, event.taskId);
}
