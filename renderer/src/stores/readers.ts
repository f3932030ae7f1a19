import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AgreementReportT, LabelTaskT, ReadersStateT, ReadViewT } from '../../../core/api/contract';
import type { ReaderRole } from '../../../core/vocabulary';
import { call, friendlyMessage, useGuardedActions } from './api';
import { useCasesStore } from './cases';
import { useLabelsStore } from './labels';
import { useTasksStore } from './tasks';
import { useWorkspaceStore } from './workspace';

/** Whether a task is read by several readers (blind reads, consensus, reviewer). */
export const isMultiRead = (task: LabelTaskT | null | undefined): boolean => (task?.settings.readsPerCase ?? 1) > 1;

/** Reader profiles and the current reader, the open case's reads as this reader may see them, and the agreement tables. */
export const useReadersStore = defineStore('readers', () => {
  const state = ref<ReadersStateT | null>(null);
  const view = ref<ReadViewT | null>(null);
  const agreement = ref<AgreementReportT | null>(null);
  const agreementError = ref<string | null>(null);
  const { busy, error, guard } = useGuardedActions();

  const load = () =>
    guard(async () => {
      state.value = await call('readers.list', {});
    });

  /** Becomes another reader: the worklist ("awaiting my read"), the open case and per-reader settings follow. */
  const switchTo = (name: string, pin?: string) =>
    guard(async () => {
      state.value = await call('readers.switch', { name, ...(pin ? { pin } : {}) });
      const workspace = useWorkspaceStore();
      workspace.app = await call('app.info', {});
      await useCasesStore().reload();
      await useLabelsStore().refresh();
    });

  const add = (name: string, role: ReaderRole, pin?: string) =>
    guard(async () => {
      state.value = await call('readers.add', { name, role, ...(pin ? { pin } : {}) });
    });

  async function loadView(taskId: number, caseId: number): Promise<void> {
    try {
      view.value = await call('reads.get', { taskId, caseId });
    } catch (err) {
      view.value = null;
      error.value = friendlyMessage(err);
    }
  }

  /** A reviewer's decision on a case (the open one unless named); the label bar and the worklist row follow. */
  const decide = (action: 'adjudicate' | 'accept' | 'reject', value?: string, on: ReadViewT | null = view.value) =>
    guard(async () => {
      if (!on) return;
      const target = { taskId: on.taskId, caseId: on.caseId };
      const next = action === 'adjudicate' ? await call('reads.adjudicate', { ...target, value: value! }) : await call(`reads.${action}`, target);
      const labels = useLabelsStore();
      if (labels.onScreenId() === on.caseId) view.value = next;
      await labels.refresh();
      const fresh = await call('cases.get', { id: on.caseId, taskId: on.taskId });
      useCasesStore().patchRow(on.caseId, { label: fresh.label ?? undefined });
    });

  /**
   * A class key or button on the case on screen: a reviewer on a case in disagreement adjudicates it with that
   * class (and is told so); everyone else labels or submits a read as usual. Just after Enter the reads shown
   * may still be the previous case's: the key is decided on the new case's own reads.
   */
  async function applyClass(name: string): Promise<void> {
    const labels = useLabelsStore();
    const caseId = labels.onScreenId();
    const task = useTasksStore().current;
    if (caseId === null || !task || !isMultiRead(task) || !state.value?.current || state.value.current.role === 'reader') {
      await labels.applyClass(name);
      return;
    }
    let v = view.value;
    if (!v || v.caseId !== caseId || v.taskId !== task.id) v = await call('reads.get', { taskId: task.id, caseId }).catch(() => null);
    if (!v || !v.canReview || v.others === null || v.state !== 'disagreement') {
      await labels.applyClass(name);
      return;
    }
    await decide('adjudicate', name, v);
    if (!error.value && labels.onScreenId() === caseId) {
      labels.error = null;
      labels.notice = `Adjudicated: ${name} (reviewer ${state.value?.current.name ?? ''})`;
    }
  }

  async function loadAgreement(taskId: number): Promise<void> {
    try {
      agreement.value = await call('agreement.get', { taskId });
      agreementError.value = null;
    } catch (err) {
      agreement.value = null;
      agreementError.value = friendlyMessage(err);
    }
  }

  function reset(): void {
    state.value = null;
    view.value = null;
    agreement.value = null;
    agreementError.value = null;
    error.value = null;
  }

  return { state, view, agreement, agreementError, busy, error, load, switchTo, add, loadView, decide, applyClass, loadAgreement, reset };
});
