import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { LabelTaskT, RequestOf } from '../../../core/api/contract';
import { call, friendlyMessage } from './api';

/** The workspace's label tasks; the first one is the task being labelled. */
export const useTasksStore = defineStore('tasks', () => {
  const tasks = ref<LabelTaskT[]>([]);
  const error = ref<string | null>(null);
  const busy = ref(false);
  const current = computed<LabelTaskT | null>(() => tasks.value[0] ?? null);

  async function load(): Promise<void> {
    try {
      tasks.value = await call('tasks.list', {});
      error.value = null;
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  async function create(input: RequestOf<'tasks.create'>): Promise<boolean> {
    busy.value = true;
    error.value = null;
    try {
      const task = await call('tasks.create', input);
      tasks.value = [...tasks.value, task];
      return true;
    } catch (err) {
      error.value = friendlyMessage(err);
      return false;
    } finally {
      busy.value = false;
    }
  }

  function reset(): void {
    tasks.value = [];
    error.value = null;
  }

  return { tasks, current, error, busy, load, create, reset };
});
