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
  /** The case on screen: its record may still be on the way (the image is asked for first). */
  let loadingId: number | null = null;
  let loading: Promise<void> = Promise.resolve();

  function load(caseId: number): Promise<void> {
    loadingId = caseId;
    loading = (async () => {
      try {
        const next = await call('cases.get', { id: caseId, ...useTasksStore().taskParam });
        if (loadingId === caseId) {
          record.value = next;
          error.value = null;
        }
      } catch (err) {
        if (loadingId === caseId) error.value = friendlyMessage(err);
      }
    })();
    return loading;
  }

  /**
   * The record of `caseId`, the case that was on screen when a key was pressed: the one shown, the one on its
   * way, or (when the reader has already moved on) asked for again. A key never goes to another case.
   */
  async function recordOf(caseId: number, pending: Promise<void>): Promise<CaseRecordT> {
    if (record.value?.case.id === caseId) return record.value;
    await pending;
    if (record.value?.case.id === caseId) return record.value;
    return call('cases.get', { id: caseId, ...useTasksStore().taskParam });
  }

  /**
   * Runs a change for the case on screen and task, then refreshes the record and the worklist row. A key
   * pressed before the newly opened case's record arrived belongs to that case, never to the one before,
   * and is kept when the reader moves on (Enter) before the record arrives.
   */
  async function change(action: (caseId: number, taskId: number, current: CaseRecordT) => Promise<string>): Promise<boolean> {
    const tasks = useTasksStore();
    const caseId = loadingId;
    if (caseId === null) return false;
    if (!tasks.current) {
      error.value = 'Define a label task in Settings before labelling.';
      return false;
    }
    const taskId = tasks.current.id;
    try {
      const current = await recordOf(caseId, loading);
      const done = await action(caseId, taskId, current);
      // The reader may have moved on meanwhile: the row is patched, the record only if still on screen.
      const fresh = await call('cases.get', { id: caseId, ...useTasksStore().taskParam });
      useCasesStore().patchRow(caseId, { label: fresh.label ?? undefined, flagged: fresh.review.flagged, skipped: fresh.review.skipped });
      if (loadingId === caseId) {
        record.value = fresh;
        error.value = null;
        notice.value = done;
      }
      return true;
    } catch (err) {
      if (loadingId === caseId) {
        error.value = friendlyMessage(err);
        notice.value = null;
      }
      return false;
    }
  }

  const labelText = (c: LabelChangeT) => c.label ?? 'no label';

  /** Applies a class: multiclass/ordinal replace the label, multilabel toggles the class in the set. */
  function applyClass(name: string): Promise<boolean> {
    return change(async (caseId, taskId, current) => {
      if (useTasksStore().current?.kind === 'multilabel') {
        const present = (current.label ?? '').split(', ').filter(Boolean);
        const value = present.includes(name) ? present.filter((n) => n !== name) : [...present, name];
        await call('labels.set', { caseId, taskId, value });
        return `Labels: ${value.join(', ') || 'none'}`;
      }
      await call('labels.set', { caseId, taskId, value: name });
      return `Labelled ${name}`;
    });
  }

  const undo = () =>
    change(async (caseId, taskId) => {
      const c = await call('labels.undo', { caseId, taskId });
      if (!c.event) throw new Error('there is nothing to undo for this case');
      return `Undone: now ${labelText(c)}`;
    });

  const accept = () =>
    change(async (caseId, taskId) => {
      // Same rule as the disabled button: on a k-read task the model's suggestion is never a read.
      const k = useTasksStore().current?.settings.readsPerCase ?? 1;
      if (k > 1) throw new Error(`accepting the model's suggestion is off: this task is read ${k} times per case`);
      await call('labels.accept', { caseId, taskId });
      return 'Accepted the suggestion';
    });
  const skip = () =>
    change(async (caseId, taskId) => {
      await call('labels.skip', { caseId, taskId });
      return 'Skipped';
    });
  const toggleFlag = () =>
    change(async (caseId, taskId, current) => {
      const flagged = !current.review.flagged;
      await call('labels.flag', { caseId, taskId, flagged });
      return flagged ? 'Flagged for review' : 'Flag removed';
    });

  /**
   * Holds the Ctrl/⌘-clicked cases (or else the case on screen) out for the task's test split, or
   * returns them to the pool when all of them are held out already.
   */
  const toggleHoldOut = () =>
    change(async (caseId, taskId) => {
      const cases = useCasesStore();
      const ids = cases.marked.size > 0 ? [...cases.marked] : [caseId];
      const rows = ids.map((id) => [...cases.pages.values()].flat().find((r) => r.id === id));
      const split = rows.every((r) => r?.taskSplit === 'test') ? 'pool' : 'test';
      const { changed } = await call('splits.set', { taskId, caseIds: ids, split });
      cases.clearMarks();
      await cases.refreshInPlace();
      const n = ids.length === 1 ? 'case' : `${ids.length} cases`;
      return split === 'test' ? `Held out ${n} for test (${changed.length} moved)` : `Returned ${n} to the pool (${changed.length} moved)`;
    });

  function clear(): void {
    record.value = null;
    error.value = null;
    notice.value = null;
    loadingId = null;
  }

  /** The case on screen, whose record may still be on the way (keys go to it). */
  const onScreenId = (): number | null => loadingId;

  /** Re-reads the record on screen (the model's prediction for it changed). */
  const refresh = () => (loadingId !== null ? load(loadingId) : Promise.resolve());

  return { record, error, notice, load, onScreenId, refresh, applyClass, undo, accept, skip, toggleFlag, toggleHoldOut, clear };
});
