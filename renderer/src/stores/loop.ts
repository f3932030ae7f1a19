import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { LoopStateT } from '../../../core/api/training-contract';
import { call } from './api';
import { useCasesStore } from './cases';
import { useLabelsStore } from './labels';
import { useTasksStore } from './tasks';
import { useTrainingStore } from './training';

/**
 * The learning loop as the reader sees it: one status line (what runs now, which version the
 * suggestions come from), and live refreshes — when a version's predictions or suggestions land, the
 * worklist rows, the viewer's model line and the versions table update without a click.
 */
export const useLoopStore = defineStore('loop', () => {
  const state = ref<LoopStateT | null>(null);
  let subscribed = false;

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    window.medtune.on('loop.state', (s) => {
      // The loop runs for every task; the status line shows the current one's.
      const taskId = useTasksStore().current?.id;
      if (taskId === undefined || s.taskId === taskId) state.value = s;
    });
    window.medtune.on('worklist.changed', () => {
      void useCasesStore().refreshInPlace();
      void useLabelsStore().refresh();
      void useTrainingStore().refresh();
    });
  }

  /** The loop's state for the current task, when a workspace opens (events keep it current after). */
  async function load(): Promise<void> {
    subscribe();
    try {
      state.value = await call('loop.status', useTasksStore().taskParam);
    } catch {
      state.value = null; // no task yet
    }
  }

  const reset = () => {
    state.value = null;
  };

  return { state, load, reset, subscribe };
});
