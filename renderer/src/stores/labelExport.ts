import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { LabelExportResultT } from '../../../core/api/contract';
import { call, useGuardedActions } from './api';

/** Writes the current task's labels (CSV or JSON, optionally de-identified) into a folder and says where. */
export const useLabelExportStore = defineStore('labelExport', () => {
  const result = ref<LabelExportResultT | null>(null);
  const { busy, error, guard } = useGuardedActions();

  const run = (input: { taskId: number; format: 'csv' | 'json'; deidentify: boolean; dir: string }) =>
    guard(async () => {
      result.value = null;
      result.value = await call('labels.export', input);
    });

  return { result, busy, error, run };
});
