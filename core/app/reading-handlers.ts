import type { Handlers } from '../api/dispatch';
import { SliceGeometryCache } from './series-stack';
import { REDUCIBLE_SYNTAXES } from './viewer-images';
import type { AppSession } from './session';

type ReadingHandlers = Pick<Handlers, 'series.stack' | 'worklist.groups' | 'cases.hanging' | 'cases.preview'>;

/** Reading by series and study: a case's series as a sorted stack, the grouped worklist, hanging partners, quick JPEG 2000 first views. */
export function createReadingHandlers(session: AppSession): ReadingHandlers {
  const ws = () => session.requireWorkspace();
  const geometry = new SliceGeometryCache();
  return {
    'series.stack': async (req) => {
      const w = ws();
      const series = w.series.ofCase(req.id);
      const { slices, sortedBy } = await geometry.stack(series);
      const taskId = req.taskId ?? w.tasks.list()[0]?.id;
      const seriesIndex = Math.max(0, series.study.findIndex((s) => s.seriesUid === series.seriesUid));
      return {
        caseId: req.id,
        seriesUid: series.seriesUid,
        ...(series.seriesNumber !== undefined ? { seriesNumber: series.seriesNumber } : {}),
        ...(series.description ? { description: series.description } : {}),
        ...(series.modality ? { modality: series.modality } : {}),
        slices,
        index: Math.max(0, slices.findIndex((s) => s.caseId === req.id)),
        sortedBy,
        modelInput: taskId === undefined ? null : w.series.modelInput(taskId, req.id),
        study: series.study,
        seriesIndex,
      };
    },
    'worklist.groups': (req) => ws().worklistGroups({ ...req, reader: session.author }),
    'cases.hanging': (req) => ws().series.hangingPartner(req.id, req.rule),
    'cases.preview': (req) => {
      const detail = ws().cases.get(req.id);
      if (!detail.transferSyntaxUid || !REDUCIBLE_SYNTAXES.has(detail.transferSyntaxUid) || !detail.rows || !detail.columns) return null;
      if (Math.max(detail.rows, detail.columns) <= req.maxSide) return null;
      return session.images.preview(req.id, detail.blobPath, req.maxSide, { rows: detail.rows, columns: detail.columns });
    },
  };
}
