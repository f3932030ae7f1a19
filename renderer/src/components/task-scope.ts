import type { LabelTaskT, TaskScopeT } from '../../../core/api/contract';
import type { ScopeDraft } from './TaskScopeFields.vue';

/** An empty draft: every case, one per image. */
export function emptyDraft(): ScopeDraft {
  return { modalities: [], kind: '', colour: '', laterality: [], bodyParts: [], search: '', caseUnit: 'image' };
}

export function draftOf(task: LabelTaskT): ScopeDraft {
  const s = task.settings.scope;
  return {
    modalities: [...(s.modalities ?? [])],
    kind: s.kinds?.length === 1 ? s.kinds[0] : '',
    colour: s.colour ?? '',
    laterality: [...(s.laterality ?? [])],
    bodyParts: [...(s.bodyParts ?? [])],
    search: s.search ?? '',
    caseUnit: task.settings.caseUnit,
  };
}

/** The scope a draft stands for; chosen studies and series (set through the API) are kept from `previous`. */
export function scopeOf(draft: ScopeDraft, previous: TaskScopeT = {}): TaskScopeT {
  const scope: TaskScopeT = {};
  if (draft.modalities.length) scope.modalities = [...draft.modalities];
  if (draft.kind) scope.kinds = [draft.kind];
  if (draft.colour) scope.colour = draft.colour;
  if (draft.laterality.length) scope.laterality = [...draft.laterality];
  if (draft.bodyParts.length) scope.bodyParts = [...draft.bodyParts];
  if (draft.search.trim()) scope.search = draft.search.trim();
  if (previous.studyUids) scope.studyUids = previous.studyUids;
  if (previous.seriesUids) scope.seriesUids = previous.seriesUids;
  return scope;
}

/** One line saying what a task covers, for its summary. */
export function describeTask(task: LabelTaskT): string {
  const s = task.settings.scope;
  const parts: string[] = [];
  if (s.kinds) parts.push(s.kinds.map((k) => (k === 'photo' ? 'photographs' : 'DICOM')).join(' or '));
  if (s.colour) parts.push(s.colour);
  if (s.modalities) parts.push(s.modalities.join('/'));
  if (s.laterality) parts.push(`laterality ${s.laterality.join('/')}`);
  if (s.bodyParts) parts.push(s.bodyParts.join('/'));
  if (s.studyUids) parts.push(`${s.studyUids.length} studies`);
  if (s.seriesUids) parts.push(`${s.seriesUids.length} series`);
  if (s.search) parts.push(`matching '${s.search}'`);
  return `${parts.length ? parts.join(', ') : 'all images'} · one case per ${task.settings.caseUnit}`;
}
