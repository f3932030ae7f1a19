import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CaseRecordT, LabelChangeT } from '../../../core/api/contract';
import { call, friendlyMessage } from './api';
import { useCasesStore } from './cases';
import { useTasksStore } from './tasks';

/** The open case's label, history, model suggestion and review marks, and the actions that change them. */
export const useLabelsStore = defineStore('labels', () => {
  const record = ref<CaseRecordT | null>(null);
  const error = ref<string | null>(null);
  /** A short confirmation shown in the label bar ("Labelled normal", "Flagged for review"). */
  const notice = ref<string | null>(null);
  let loadingId: number | null = null;

  async function load(caseId: number): Promise<void> {
    loadingId = caseId;
    try {
      const next = await call('cases.get', { id: caseId });
      if (loadingId === caseId) {
        record.value = next;
        error.value = null;
      }
    } catch (err) {
      if (loadingId === caseId) error.value = friendlyMessage(err);
    }
  }

  /** Runs a change for the open case and task, then refreshes the record and the worklist row. */
  async function change(action: (caseId: number, taskId: number) => Promise<unknown>, done: string): Promise<boolean> {
    const tasks = useTasksStore();
    const caseId = record.value?.case.id;
    if (caseId === undefined) return false;
    if (!tasks.current) {
      error.value = 'Define a label task in Settings before labelling.';
      return false;
    }
    try {
      await action(caseId, tasks.current.id);
      error.value = null;
      notice.value = done;
      await load(caseId);
      const r = record.value;
      if (r && r.case.id === caseId) {
        useCasesStore().patchRow(caseId, { label: r.label ?? undefined, flagged: r.review.flagged });
      }
      return true;
    } catch (err) {
      error.value = friendlyMessage(err);
      notice.value = null;
      return false;
    }
  }

  const labelText = (c: LabelChangeT) => c.label ?? 'no label';

  /** Applies a class: multiclass/ordinal replace the label, multilabel toggles the class in the set. */
  function applyClass(name: string): Promise<boolean> {
    const task = useTasksStore().current;
    if (task?.kind === 'multilabel') {
      const present = (record.value?.label ?? '').split(', ').filter(Boolean);
      const value = present.includes(name) ? present.filter((n) => n !== name) : [...present, name];
      return change((caseId, taskId) => call('labels.set', { caseId, taskId, value }), `Labels: ${value.join(', ') || 'none'}`);
    }
    return change((caseId, taskId) => call('labels.set', { caseId, taskId, value: name }), `Labelled ${name}`);
  }

  const undo = () =>
    change(async (caseId, taskId) => {
      const c = await call('labels.undo', { caseId, taskId });
      if (!c.event) throw new Error('there is nothing to undo for this case');
      notice.value = `Undone: now ${labelText(c)}`;
    }, 'Undone');

  const accept = () => change((caseId, taskId) => call('labels.accept', { caseId, taskId }), 'Accepted the suggestion');
  const skip = () => change((caseId, taskId) => call('labels.skip', { caseId, taskId }), 'Skipped');
  const toggleFlag = () => {
    const flagged = !record.value?.review.flagged;
    return change((caseId, taskId) => call('labels.flag', { caseId, taskId, flagged }), flagged ? 'Flagged for review' : 'Flag removed');
  };

  function clear(): void {
    record.value = null;
    error.value = null;
    notice.value = null;
    loadingId = null;
  }

  return { record, error, notice, load, applyClass, undo, accept, skip, toggleFlag, clear };
});
