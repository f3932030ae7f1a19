import type { CaseRecordT, LabelEventT } from '../api/contract';
import type { AdapterVersion, LabelEvent, Workspace } from '../store';
import type { ReviewMark } from '../store';

/** Suggestions beyond this rank are not looked up for one case (the worklist shows ranks anyway). */
const SUGGESTION_LOOKUP = 5000;

export const versionName = (v: Pick<AdapterVersion, 'id' | 'method'>) => `v${v.id} · ${v.method.toUpperCase()}`;

/** Label events with the name of the adapter version that suggested an accepted label. */
export function describeEvents(ws: Workspace, events: LabelEvent[]): LabelEventT[] {
  const names = new Map<number, string>();
  return events.map((e) => {
    if (e.adapterVersionId === undefined) return e;
    let name = names.get(e.adapterVersionId);
    if (name === undefined) {
      try {
        name = versionName(ws.versions.get(e.adapterVersionId));
      } catch {
        name = `v${e.adapterVersionId}`;
      }
      names.set(e.adapterVersionId, name);
    }
    return { ...e, adapterVersionName: name };
  });
}

/** Everything the viewer and label bar show about one case, for one task (or none). */
export function caseRecord(ws: Workspace, caseId: number, taskId: number | null, mark: ReviewMark): CaseRecordT {
  const detail = ws.cases.get(caseId);
  const quarantined = ws.cases.quarantined(100_000).find((q) => q.caseId === caseId);
  const record: CaseRecordT = {
    case: detail,
    taskId,
    label: null,
    history: [],
    prediction: null,
    suggestion: null,
    quarantine: quarantined ? { code: quarantined.code, reason: quarantined.reason } : null,
    review: mark,
    pacsOrigin: ws.pacsOrigins.get(caseId),
  };
  if (taskId === null) return record;
  record.label = ws.labels.current(caseId, taskId)?.valueText ?? null;
  record.history = describeEvents(ws, ws.labels.history(caseId, taskId));
  const active = ws.versions.active(taskId);
  const prediction = active ? ws.predictions.get(active.id, caseId) : undefined;
  if (active && prediction) {
    record.prediction = {
      versionId: active.id,
      versionName: versionName(active),
      probabilities: prediction.probabilities,
      ...(prediction.predicted !== undefined ? { predicted: prediction.predicted } : {}),
      ...(prediction.confidence !== undefined ? { confidence: prediction.confidence } : {}),
    };
  }
  const suggestion = ws.suggestions.list(taskId, SUGGESTION_LOOKUP).find((s) => s.caseId === caseId);
  if (suggestion) {
    record.suggestion = {
      rank: suggestion.rank,
      score: suggestion.score,
      strategy: suggestion.strategy,
      ...(suggestion.reason ? { reason: suggestion.reason } : {}),
    };
  }
  return record;
}
