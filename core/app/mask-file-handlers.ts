import type { Handlers } from '../api/dispatch';
import { exportMaskBatch, importMaskBatch } from '../segmentation/mask-batch';
import { resolveUserPath } from '../store';
import { asApiFailure } from './mask-files';
import type { AppSession } from './session';

type MaskFileHandlers = Pick<Handlers, 'masks.importFiles' | 'masks.exportAll'>;

/** Mask files in bulk for the UI (core/segmentation/mask-batch.ts, as `medtune masks import|export`). */
export function createMaskFileHandlers(session: AppSession): MaskFileHandlers {
  return {
    'masks.importFiles': (req) =>
      asApiFailure(() => importMaskBatch(session.requireWorkspace(), session.author, req.taskId, req.format, req.paths.map((p) => resolveUserPath(p)))),
    'masks.exportAll': (req) => asApiFailure(() => exportMaskBatch(session.requireWorkspace(), req.taskId, req.format, resolveUserPath(req.dir))),
  };
}
