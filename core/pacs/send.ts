import { displayText, type Workspace } from '../store';
import type { PacsClient } from './client';
import { PacsError } from './errors';
import { buildStudyReport, type ReportedCase, type StudyReport } from './structured-report';

export interface SendReport {
  studies: number;
  cases: number;
  /** SOP Instance UIDs of the reports sent. */
  reports: string[];
}

/**
 * The structured reports for one task: one per study, holding each labelled DICOM case's current label,
 * its reader and the active model version. Photos have no study to file a report in and are left out.
 */
export function studyReports(ws: Workspace, taskId: number, caseIds?: number[]): StudyReport[] {
  const task = ws.tasks.get(taskId);
  const active = ws.versions.active(taskId);
  const modelVersion = active ? `adapter version ${active.id} (${active.method})` : undefined;
  const wanted = caseIds && new Set(caseIds);
  const byStudy = new Map<string, StudyReport>();
  for (const label of ws.labels.currentAll(taskId)) {
    if (wanted && !wanted.has(label.caseId)) continue;
    const c = ws.cases.get(label.caseId);
    if (c.kind !== 'dicom' || !c.sopClassUid) continue;
    let report = byStudy.get(c.studyInstanceUid);
    if (!report) {
      report = {
        studyInstanceUid: c.studyInstanceUid,
        patientId: c.patientId,
        patientName: c.patientName,
        patientBirthDate: c.patientBirthDate,
        patientSex: c.patientSex,
        studyDate: c.studyDate,
        studyTime: c.studyTime,
        accessionNumber: c.accessionNumber,
        taskName: task.name,
        modelVersion,
        cases: [],
      };
      byStudy.set(c.studyInstanceUid, report);
    }
    const reported: ReportedCase = {
      sopClassUid: c.sopClassUid,
      sopInstanceUid: c.sopInstanceUid,
      seriesInstanceUid: c.seriesInstanceUid,
      label: displayText(label.value),
      reader: label.author,
    };
    report.cases.push(reported);
  }
  return [...byStudy.values()];
}

/**
 * Builds the reports of a task and sends them (STOW-RS or C-STORE), one study's report per request so
 * progress can be shown; a failure says how many went before it.
 */
export async function sendReports(
  ws: Workspace,
  client: PacsClient,
  taskId: number,
  opts: { caseIds?: number[]; signal?: AbortSignal; onProgress?: (p: { done: number; total: number }) => void } = {},
): Promise<SendReport> {
  const reports = studyReports(ws, taskId, opts.caseIds);
  if (reports.length === 0) throw new PacsError('not-found', 'no labelled DICOM cases to report for this task');
  const built = reports.map((r) => buildStudyReport(r));
  opts.onProgress?.({ done: 0, total: built.length });
  for (const [i, b] of built.entries()) {
    try {
      await client.store([b.file], opts.signal);
    } catch (err) {
      if (i === 0 || !(err instanceof PacsError)) throw err;
      throw new PacsError(err.code, `${err.message.replace(/\.$/, '')} (after ${i} of ${built.length} reports were sent)`);
    }
    opts.onProgress?.({ done: i + 1, total: built.length });
  }
  return {
    studies: reports.length,
    cases: reports.reduce((n, r) => n + r.cases.length, 0),
    reports: built.map((b) => b.sopInstanceUid),
  };
}
