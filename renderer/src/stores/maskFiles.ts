import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { MaskExportReportT, MaskFileFormatT, MaskImportReportT } from '../../../core/api/mask-contract';
import { call, useGuardedActions } from './api';

/** Mask files of a segmentation task in bulk: import (matched to cases, with a report) and export of every mask. */
export const useMaskFilesStore = defineStore('maskFiles', () => {
  const imported = ref<MaskImportReportT | null>(null);
  const exported = ref<MaskExportReportT | null>(null);
  const { busy, error, guard } = useGuardedActions();

  const importFiles = (input: { taskId: number; format: MaskFileFormatT; paths: string[] }) =>
    guard(async () => {
      imported.value = null;
      imported.value = await call('masks.importFiles', input);
    });
  const exportAll = (input: { taskId: number; format: Exclude<MaskFileFormatT, 'png-binary'>; dir: string }) =>
    guard(async () => {
      exported.value = null;
      exported.value = await call('masks.exportAll', input);
    });

  return { imported, exported, busy, error, importFiles, exportAll };
});
