import type { Handlers } from '../api/dispatch';
import { ApiFailure } from '../api/errors';
import type { MaskEventInfoT, MaskPredictionT } from '../api/mask-contract';
import { resolveUserPath, type MaskEvent, type MaskTarget, type Workspace } from '../store';
import { versionName } from './case-record';
import { exportMaskFiles, importMaskFiles } from './mask-files';
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

/** Segmentation masks: the current one per (task, case, frame), saving a new state, history, and mask files. */
export function createMaskHandlers(session: AppSession): MaskHandlers {
  const ws = () => session.requireWorkspace();
  return {
    'masks.get': (req) => {
      const w = ws();
      w.cases.get(req.caseId);
      const mask = w.masks.current(req);
      return { mask: mask ? { ...describe(w, mask), labels: mask.labels } : null, prediction: activePrediction(w, req) };
    },
    'masks.accept': (req) => {
      const w = ws();
      const p = activePrediction(w, req);
      if (!p) throw new ApiFailure('not-found', 'No predicted mask for this case yet (the active version has not predicted it).');
      return describe(w, w.masks.save({ ...req, rows: p.rows, columns: p.columns, labels: p.labels, author: session.author, source: 'accepted-prediction', adapterVersionId: p.versionId }));
    },
    'masks.save': (req) => {
      const w = ws();
      const { adapterVersionId, ...rest } = req;
      return describe(w, w.masks.save({ ...rest, ...(adapterVersionId !== undefined ? { adapterVersionId } : {}), author: session.author }));
    },
    'masks.history': (req) => ws().masks.history(req.taskId, req.caseId, req.frame).map((e) => describe(ws(), e)),
    'masks.import': async (req) => {
      const w = ws();
      const { format, files, ...target } = req;
      return describe(w, await importMaskFiles(w, session.author, target, format, files.map((f) => resolveUserPath(f))));
    },
    'masks.export': async (req) => {
      const { format, dir, ...target } = req;
      return { files: await exportMaskFiles(ws(), target, format, resolveUserPath(dir)) };
    },
  };
}
