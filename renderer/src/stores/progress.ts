import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ProgressT } from '../../../core/api/contract';
import { call, friendlyMessage } from './api';

/** Labelled / total for the current task, per reader; refreshed after each label change. */
export const useProgressStore = defineStore('progress', () => {
  const progress = ref<ProgressT | null>(null);
  const error = ref<string | null>(null);
  let asked = 0;

  async function load(taskId: number | undefined): Promise<void> {
    const ticket = ++asked;
    if (taskId === undefined) {
      progress.value = null;
      return;
    }
    try {
      const next = await call('work.progress', { taskId });
      if (ticket === asked) {
        progress.value = next;
        error.value = null;
      }
    } catch (err) {
      if (ticket === asked) error.value = friendlyMessage(err);
    }
  }

  return { progress, error, load };
});
