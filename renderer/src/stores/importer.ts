import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ImportProgressT, ImportReportT } from '../../../core/api/contract';
import { call, friendlyMessage } from './api';

/** Paths from a text box or a drop: one per line; file:// URIs (what file managers drag) become paths. */
export function parsePaths(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => (line.startsWith('file://') ? decodeURIComponent(new URL(line).pathname) : line));
}

/** An import by path: progress from `import.progress` events, cancel, and the final report. */
export const useImporterStore = defineStore('importer', () => {
  const running = ref(false);
  const progress = ref<ImportProgressT | null>(null);
  const report = ref<ImportReportT | null>(null);
  const error = ref<string | null>(null);
  let subscribed = false;

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    window.medtune.on('import.progress', (p) => {
      if (running.value) progress.value = p;
    });
  }

  async function start(paths: string[], reference = false): Promise<boolean> {
    subscribe();
    if (paths.length === 0) {
      error.value = 'Type or drop at least one file or folder path.';
      return false;
    }
    running.value = true;
    progress.value = null;
    report.value = null;
    error.value = null;
    try {
      report.value = await call('import.start', { paths, reference });
      return true;
    } catch (err) {
      error.value = friendlyMessage(err);
      return false;
    } finally {
      running.value = false;
    }
  }

  async function cancel(): Promise<void> {
    try {
      await call('import.cancel', {});
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  return { running, progress, report, error, subscribe, start, cancel };
});
