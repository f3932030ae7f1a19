import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { MaskExportReportT, MaskFileFormatT, MaskImportReportT } from '../../../core/api/mask-contract';
import { call, useGuardedActions } from './api';
import { useCasesStore } from './cases';
import { useProgressStore } from './progress';

/** Mask files of a segmentation task in bulk: import (matched to cases, with a report) and export of every mask. */
export const useMaskFilesStore = defineStore('maskFiles', () => {
  const imported = ref<MaskImportReportT | null>(null);
  const exported = ref<MaskExportReportT | null>(null);
  const { busy, error, guard } = useGuardedActions();

  const importFiles = (input: { taskId: number; format: MaskFileFormatT; paths: string[] }) =>
    guard(async () => {
      imported.value = null;
      imported.value = await call('masks.importFiles', input);
      // Imported masks label their cases: the header's count and the worklist change.
      if (imported.value.matched.length) await Promise.all([useProgressStore().load(input.taskId), useCasesStore().reload()]);
    });
  const exportAll = (input: { taskId: number; format: Exclude<MaskFileFormatT, 'png-binary'>; dir: string }) =>
    guard(async () => {
      exported.value = null;
      exported.value = await call('masks.exportAll', input);
    });

  return { imported, exported, busy, error, importFiles, exportAll };
});
