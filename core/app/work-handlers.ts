import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from '../api/dispatch';
import { ApiFailure } from '../api/errors';
import { exportLabels, labelExportRows, labelProgress, measurementExportRows, measurementsByCase, measurementsCsv, resolveUserPath } from '../store';
import { browseFolder } from './folder-browser';
import { readRecent, rememberWorkspace } from './recent-workspaces';
import type { AppSession } from './session';

type WorkHandlers = Pick<
  Handlers,
  | 'work.progress'
  | 'tasks.guidelines'
  | 'tasks.setGuidelines'
  | 'comments.list'
  | 'comments.add'
  | 'comments.delete'
  | 'labels.export'
  | 'files.browse'
  | 'workspace.recent'
  | 'uploads.import'
>;

/** The folder under a workspace that browser-mode uploads are written into before they are imported. */
export const UPLOADS_DIR = 'uploads';

/** "Retina grading" → "retina-grading": a file-name-safe form of a task name. */
const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'task';

/**
 * Managing the reading work: progress counts, task guidelines, per-case comments, label export,
 * and browser mode's folder picker, recent workspaces and uploaded files.
 */
export function createWorkHandlers(session: AppSession): WorkHandlers {
  const ws = () => session.requireWorkspace();
  // Every workspace opened or created goes to the top of the recent list; failing to write it never fails the open.
  session.events.subscribe((event, payload) => {
    if (event !== 'workspace.changed' || !payload) return;
    const info = payload as { dir: string; name: string };
    try {
      rememberWorkspace({ dir: info.dir, name: info.name });
    } catch (err) {
      console.warn(`[medtune] cannot update the recent workspaces list: ${(err as Error).message}`);
    }
  });
  return {
    'work.progress': (req) => labelProgress(ws(), session.requireTask(req.taskId)),
    'tasks.guidelines': (req) => ({ taskId: req.taskId, markdown: ws().tasks.get(req.taskId).settings.guidelines ?? '' }),
    'tasks.setGuidelines': (req) => {
      const task = ws().tasks.updateSettings(req.taskId, { guidelines: req.markdown });
      return { taskId: task.id, markdown: task.settings.guidelines ?? '' };
    },
    'comments.list': (req) => {
      ws().cases.get(req.caseId);
      return ws().comments.list(req.caseId);
    },
    'comments.add': (req) => ws().comments.add(req.caseId, session.author, req.body),
    'comments.delete': (req) => {
      ws().comments.delete(req.id, session.author);
      return { deleted: true };
    },
    'labels.export': async (req) => {
      const w = ws();
      const task = w.tasks.get(req.taskId);
      const measured = await measurementExportRows(w, { taskId: req.taskId, deidentify: req.deidentify });
      const text = exportLabels(w, {
        taskId: req.taskId,
        format: req.format,
        deidentify: req.deidentify,
        ...(req.format === 'json' ? { measurements: measurementsByCase(measured) } : {}),
      });
      const dir = resolveUserPath(req.dir);
      fs.mkdirSync(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const name = (what: string) => path.join(dir, `${slug(task.name)}-${what}${req.deidentify ? '-deidentified' : ''}-${stamp}.${req.format}`);
      const file = name('labels');
      fs.writeFileSync(file, text, { flag: 'wx' }); // never overwrite an earlier export
      const rows = labelExportRows(w, { taskId: req.taskId }).length;
      // CSV: measurements have columns of their own, so they go to a second file beside the labels.
      if (req.format === 'csv' && measured.length > 0) {
        const measurementsFile = name('measurements');
        fs.writeFileSync(measurementsFile, measurementsCsv(measured, req.deidentify), { flag: 'wx' });
        return { file, rows, bytes: Buffer.byteLength(text), measurements: measured.length, measurementsFile };
      }
      return { file, rows, bytes: Buffer.byteLength(text), measurements: measured.length };
    },
    'files.browse': (req) => browseFolder(req.dir, { files: req.files }),
    'workspace.recent': () => readRecent(),
    'uploads.import': async (req) => {
      const batch = path.join(ws().dir, UPLOADS_DIR, req.batch);
      if (!fs.existsSync(batch)) throw new ApiFailure('not-found', `No uploaded files in batch ${req.batch}.`);
      try {
        return await session.importPaths([batch], false);
      } finally {
        // The importer copied what it could read into the blob store (and quarantined the rest): the upload is done.
        fs.rmSync(batch, { recursive: true, force: true });
      }
    },
  };
}
