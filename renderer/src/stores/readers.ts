import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AgreementReportT, LabelTaskT, ReadersStateT, ReadViewT } from '../../../core/api/contract';
import type { ReaderRole } from '../../../core/vocabulary';
import { call, friendlyMessage, useGuardedActions } from './api';
import { useCasesStore } from './cases';
import { useLabelsStore } from './labels';
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

  /** A reviewer's decision on the open case; the label bar and the worklist row follow. */
  const decide = (action: 'adjudicate' | 'accept' | 'reject', value?: string) =>
    guard(async () => {
      const v = view.value;
      if (!v) return;
      const target = { taskId: v.taskId, caseId: v.caseId };
      view.value =
        action === 'adjudicate' ? await call('reads.adjudicate', { ...target, value: value! }) : await call(`reads.${action}`, target);
      const labels = useLabelsStore();
      await labels.refresh();
      useCasesStore().patchRow(v.caseId, { label: labels.record?.label ?? undefined });
    });

  /**
   * A class key or button on the open case: a reviewer on a case in disagreement adjudicates it with that
   * class (and is told so); everyone else labels or submits a read as usual.
   */
  async function applyClass(name: string): Promise<void> {
    const labels = useLabelsStore();
    const v = view.value;
    const record = labels.record;
    const here = !!v && !!record && v.caseId === record.case.id && v.taskId === record.taskId;
    if (!here || !v.canReview || v.others === null || v.state !== 'disagreement') {
      await labels.applyClass(name);
      return;
    }
    await decide('adjudicate', name);
    if (!error.value) {
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
