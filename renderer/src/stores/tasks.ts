import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { LabelTaskT, RequestOf } from '../../../core/api/contract';
import { call, friendlyMessage, useGuardedActions } from './api';

/** The workspace's label tasks; the first one is the task being labelled. */
export const useTasksStore = defineStore('tasks', () => {
  const tasks = ref<LabelTaskT[]>([]);
  const { busy, error, guard } = useGuardedActions();
  const current = computed<LabelTaskT | null>(() => tasks.value[0] ?? null);

  async function load(): Promise<void> {
    try {
      tasks.value = await call('tasks.list', {});
      error.value = null;
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  const create = (input: RequestOf<'tasks.create'>): Promise<boolean> =>
    guard(async () => {
      const task = await call('tasks.create', input);
      tasks.value = [...tasks.value, task];
    });

  function reset(): void {
    tasks.value = [];
    error.value = null;
  }

  return { tasks, current, error, busy, load, create, reset };
});
