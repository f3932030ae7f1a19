import type { Handlers } from '../api/dispatch';
import type { CaseRecordT, CaseSummaryT, LabelChangeT } from '../api/contract';
import type { AgreementReportT, ReadersStateT, ReadViewT } from '../api/readers-contract';
import { ApiFailure } from '../api/errors';
import type { READERS_CHANNEL_NAMES } from '../api/readers-names';
import { readingSettings, type AgreementReport, type LabelValue, type Workspace } from '../store';
import type { AppSession } from './session';

/**
 * Several readers (docs/readers.md): profiles and the current reader, blind reads, a reviewer's
 * decisions and the agreement tables. Blinding is enforced here, on every answer that could show a
 * case's other reads or the model to a reader who has not yet read it, not only in the UI.
 */
type ReaderHandlers = Pick<Handlers, (typeof READERS_CHANNEL_NAMES)[number]>;

export function createReaderHandlers(session: AppSession): ReaderHandlers {
  const ws = () => session.requireWorkspace();
  const view = (w: Workspace, taskId: number, caseId: number) => readView(w, taskId, caseId, session.author);
  return {
    'readers.list': () => readersState(ws(), session.author),
    'readers.add': (req) => {
      const w = ws();
      w.readers.requireRole(session.author, ['admin'], 'add reader profiles');
      w.readers.add({ name: req.name, role: req.role, ...(req.pin ? { pin: req.pin } : {}) });
      return readersState(w, session.author);
    },
    'readers.switch': (req) => {
      session.switchReader(req.name, req.pin);
      return readersState(ws(), session.author);
    },
    'reads.get': (req) => view(ws(), req.taskId, req.caseId),
    'reads.adjudicate': (req) => {
      const w = ws();
      w.reads.adjudicate({ taskId: req.taskId, caseId: req.caseId, reviewer: session.author, value: req.value as LabelValue, ...(req.note ? { note: req.note } : {}) });
      session.loop.labelsChanged(w, req.taskId);
      return view(w, req.taskId, req.caseId);
    },
    'reads.accept': (req) => {
      const w = ws();
      w.reads.accept({ taskId: req.taskId, caseId: req.caseId, reviewer: session.author, ...(req.note ? { note: req.note } : {}) });
      return view(w, req.taskId, req.caseId);
    },
    'reads.reject': (req) => {
      const w = ws();
      w.reads.reject({ taskId: req.taskId, caseId: req.caseId, reviewer: session.author, ...(req.note ? { note: req.note } : {}) });
      session.loop.labelsChanged(w, req.taskId);
      return view(w, req.taskId, req.caseId);
    },
    'agreement.get': (req) => agreementAnswer(ws(), req.taskId),
  };
}

/** Whether a task is read by several readers (then a label is a read, and answers are blinded). */
export function isMultiRead(ws: Workspace, taskId: number): boolean {
  return readingSettings(ws.tasks.get(taskId)).readsPerCase > 1;
}

/** A reader's label on a task read k > 1 times: their read; the label changes only when the reads agree. */
export function submitRead(ws: Workspace, taskId: number, caseId: number, reader: string, value: LabelValue | null): LabelChangeT {
  if (value === null) throw new ApiFailure('conflict', 'A submitted read is final; a reviewer settles the case');
  ws.reads.submit({ taskId, caseId, reader, value });
  return { event: null, label: ws.labels.current(caseId, taskId)?.valueText ?? null };
}

/**
 * The case record a reader may see on a task read k > 1 times: before their read, no label, no label
 * history (it names the consensus) and no model unless the task shows it; once submitted, the consensus
 * as the label when there is one, else their own read.
 */
export function blindCaseRecord(ws: Workspace, record: CaseRecordT, reader: string): CaseRecordT {
  if (record.taskId === null || !isMultiRead(ws, record.taskId)) return record;
  const seen = ws.reads.view(record.taskId, record.case.id, reader);
  const unblinded = seen.others !== null;
  return {
    ...record,
    label: (unblinded ? record.label : null) ?? seen.myRead?.valueText ?? null,
    history: unblinded ? record.history : [],
    prediction: seen.modelVisible ? record.prediction : null,
    suggestion: seen.modelVisible ? record.suggestion : null,
  };
}

/** Worklist rows on a task read k > 1 times: the model's class and the label only on cases this reader may see them. */
export function blindWorklist<T extends { items: CaseSummaryT[] }>(ws: Workspace, taskId: number | undefined, page: T, reader: string): T {
  const task = taskId ?? ws.tasks.list()[0]?.id;
  if (task === undefined || !isMultiRead(ws, task)) return page;
  const settings = readingSettings(ws.tasks.get(task));
  const reviewer = ['reviewer', 'admin'].includes(ws.readers.get(reader)?.role ?? '');
  const open = ws.reads.unblindedCaseIds(task, reader, page.items.map((c) => c.id));
  const items = page.items.map((c) => {
    if (open.has(c.id)) return c;
    const { predicted, confidence, uncertainty, label, ...rest } = c;
    const row: CaseSummaryT = { ...rest };
    if (settings.showModelInBlind) Object.assign(row, withoutUndefined({ predicted, confidence, uncertainty }));
    // A reviewer sees the consensus of complete cases; a reader only that of cases they have read.
    if (reviewer && label !== undefined) row.label = label;
    return row;
  });
  return { ...page, items };
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function readView(ws: Workspace, taskId: number, caseId: number, reader: string): ReadViewT {
  const seen = ws.reads.view(taskId, caseId, reader);
  const canReview = ['reviewer', 'admin'].includes(ws.readers.get(reader)?.role ?? '');
  return { ...seen, canReview, history: seen.others === null ? [] : ws.reads.history(taskId, caseId) };
}

function readersState(ws: Workspace, current: string): ReadersStateT {
  return { current: ws.readers.require(current), readers: ws.readers.list() };
}

/** The report with NaN (undefined statistics) as null, which JSON and the contract can carry. */
function agreementAnswer(ws: Workspace, taskId: number): AgreementReportT {
  const report: AgreementReport = ws.agreement(taskId);
  const json = JSON.parse(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as AgreementReportT;
  return { ...json, states: ws.reads.stateCounts(taskId) as Record<string, number> };
}
