import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { LabelTaskT, RequestOf, ScopeOptionsT } from '../../../core/api/contract';
import { call, friendlyMessage, useGuardedActions } from './api';

/** The workspace's label tasks; the first one is the task being labelled. */
export const useTasksStore = defineStore('tasks', () => {
  const tasks = ref<LabelTaskT[]>([]);
  /** What a task scope can choose from in this workspace (modalities, body parts… with counts). */
  const scopeOptions = ref<ScopeOptionsT | null>(null);
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

  async function loadScopeOptions(): Promise<void> {
    try {
      scopeOptions.value = await call('tasks.scopeOptions', {});
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  const create = (input: RequestOf<'tasks.create'>): Promise<boolean> =>
    guard(async () => {
      const task = await call('tasks.create', input);
      tasks.value = [...tasks.value, task];
    });

  /** Changes a task's scope (and, while it has no labels, its case unit). */
  const update = (input: RequestOf<'tasks.update'>): Promise<boolean> =>
    guard(async () => {
      const task = await call('tasks.update', input);
      tasks.value = tasks.value.map((t) => (t.id === task.id ? task : t));
    });

  function reset(): void {
    tasks.value = [];
    scopeOptions.value = null;
    error.value = null;
  }

  return { tasks, current, scopeOptions, error, busy, load, loadScopeOptions, create, update, reset };
});
