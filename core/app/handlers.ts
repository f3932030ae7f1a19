import os from 'node:os';
import type { Handlers } from '../api/dispatch';
import type { LabelChangeT } from '../api/contract';
import { ApiFailure } from '../api/errors';
import { APP_NAME, APP_VERSION } from '../app-info';
import { resolveUserPath, type LabelEvent, type Workspace } from '../store';
import { caseRecord, describeEvents } from './case-record';
import type { AppSession } from './session';
import { createMaskFileHandlers } from './mask-file-handlers';
import { createMaskHandlers } from './mask-handlers';
import { createPacsHandlers } from './pacs-handlers';
import { createReadingHandlers } from './reading-handlers';
import { createTrainingHandlers } from './training-handlers';
import { createViewerHandlers } from './viewer-handlers';
import { REDUCIBLE_SYNTAXES } from './viewer-images';
import { createWorkHandlers } from './work-handlers';
import { blindCaseRecord, blindWorklist, createReaderHandlers, isMultiRead, submitRead } from './reader-handlers';

function labelChange(ws: Workspace, event: LabelEvent | undefined): LabelChangeT {
  return { event: event ? describeEvents(ws, [event])[0] : null, label: event?.valueText ?? null };
}

/** Every contract channel mapped to the core service that does the work. */
export function createHandlers(session: AppSession): Handlers {
  const ws = () => session.requireWorkspace();
  // Labelling never fails because the background trainer could not be started; the run log says why.
  const autoTrain = (w: Workspace, taskId: number) => session.loop.labelsChanged(w, taskId);
  return {
    ...createTrainingHandlers(session),
    ...createViewerHandlers(session),
    ...createWorkHandlers(session),
    ...createPacsHandlers(session),
    ...createReadingHandlers(session),
    ...createReaderHandlers(session),
    ...createMaskHandlers(session),
    ...createMaskFileHandlers(session),
    'app.info': (_req, ctx) => ({
      name: APP_NAME,
      version: APP_VERSION,
      transport: ctx.transport,
      platform: `${os.platform()}-${os.arch()}`,
      node: process.versions.node,
      reader: session.author,
    }),
    'workspace.create': (req) => session.createWorkspace(resolveUserPath(req.dir), req.name),
    'workspace.open': (req) => session.openWorkspace(resolveUserPath(req.dir)),
    'workspace.current': () => session.current?.info() ?? null,
    'workspace.close': () => {
      session.closeWorkspace();
      return null;
    },

    'cases.list': (req) => blindWorklist(ws(), req.taskId, ws().listCases({ ...req, reader: session.author }), session.author),
    'cases.get': (req) => {
      const taskId = req.taskId ?? ws().tasks.list()[0]?.id ?? null;
      const record = caseRecord(ws(), req.id, taskId, taskId === null ? { flagged: false, skipped: false } : ws().reviewMarks.get(taskId, req.id));
      return blindCaseRecord(ws(), record, session.author);
    },
    'cases.image': (req) => {
      const detail = ws().cases.get(req.id);
      return session.images.image(req.id, detail.blobPath, req.firstFrame, req.frameCount);
    },
    'cases.thumbnail': (req) => {
      const detail = ws().cases.get(req.id);
      return session.images.thumbnail(req.id, detail.blobPath, req.size, REDUCIBLE_SYNTAXES.has(detail.transferSyntaxUid ?? ''));
    },

    'tasks.list': () => ws().tasks.list(),
    'tasks.create': (req) => ws().tasks.create(req),
    'tasks.update': (req) => {
      const { id, ...change } = req;
      return ws().tasks.updateSettings(id, change);
    },
    'tasks.scopeOptions': () => ws().cases.scopeOptions(),

    'import.start': (req) => session.importPaths(req.paths, req.reference),
    'import.cancel': () => ({ cancelled: session.cancelImport() }),

    'labels.set': (req) => {
      const w = ws();
      // On a task read k > 1 times the reader's label is their blind read (core/app/reader-handlers.ts).
      if (isMultiRead(w, req.taskId)) {
        const change = w.transaction(() => {
          const read = submitRead(w, req.taskId, req.caseId, session.author, req.value);
          w.reviewMarks.update(req.taskId, req.caseId, { skipped: false }, session.author);
          return read;
        });
        autoTrain(w, req.taskId);
        return change;
      }
      // A labelled case is no longer "skipped for now"; label and mark change together or not at all.
      const event = w.transaction(() => {
        const written = w.labels.set({ caseId: req.caseId, taskId: req.taskId, value: req.value, author: session.author });
        if (req.value !== null) w.reviewMarks.update(req.taskId, req.caseId, { skipped: false }, session.author);
        return written;
      });
      autoTrain(w, req.taskId);
      return labelChange(w, event);
    },
    'labels.undo': (req) => {
      const w = ws();
      return labelChange(w, w.labels.undo(req.caseId, req.taskId, session.author));
    },
    'labels.accept': (req) => {
      const w = ws();
      const active = w.versions.active(req.taskId);
      const prediction = active ? w.predictions.get(active.id, req.caseId) : undefined;
      if (!active || !prediction?.predicted) {
        throw new ApiFailure('not-found', 'The model has no suggestion for this case yet (no active adapter version has predicted it).');
      }
      const task = w.tasks.get(req.taskId);
      const value = task.kind === 'multilabel' ? prediction.predicted.split(', ').filter(Boolean) : prediction.predicted;
      const event = w.transaction(() => {
        const written = w.labels.set({
          caseId: req.caseId,
          taskId: req.taskId,
          value,
          author: session.author,
          source: 'accepted-suggestion',
          adapterVersionId: active.id,
        });
        w.reviewMarks.update(req.taskId, req.caseId, { skipped: false }, session.author);
        return written;
      });
      autoTrain(w, req.taskId);
      return labelChange(w, event);
    },
    'desktop.choosePaths': async (req) => ({ paths: await session.choosePaths(req.purpose) }),

    'labels.skip': (req) => ({
      skipped: ws().reviewMarks.update(req.taskId, req.caseId, { skipped: req.skipped }, session.author).skipped,
    }),
    'splits.set': (req) => {
      const w = ws();
      const task = w.tasks.get(req.taskId);
      let changed: number[];
      if (req.split === 'test') {
        changed = req.caseIds.filter((id) => w.splits.get(task.id, id)?.split !== 'test');
        w.splits.holdOut(task.id, req.caseIds);
      } else {
        changed = w.splits.release(task.id, req.caseIds, task.settings.splitFractions);
      }
      // Rows, ranks and the viewer follow through the same event as a new version's predictions.
      if (changed.length > 0) session.events.emit('worklist.changed', { taskId: task.id, reason: 'splits' });
      return { changed, counts: w.splits.counts(task.id) };
    },
    'labels.flag': (req) => {
      const change = { flagged: req.flagged, ...(req.note !== undefined ? { note: req.note } : {}) };
      return { flagged: ws().reviewMarks.update(req.taskId, req.caseId, change, session.author).flagged };
    },
  };
}
