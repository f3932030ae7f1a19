import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { LabelTaskT, RequestOf, ScopeOptionsT } from '../../../core/api/contract';
import { call, friendlyMessage, useGuardedActions } from './api';
import { useWorkspaceStore } from './workspace';

/** localStorage key of the task chosen in a workspace (per folder, so each workspace reopens on its own task). */
const chosenKey = (dir: string) => `medtune.task.${dir}`;

/** The workspace's label tasks and the one being labelled (chosen in the header, remembered per workspace). */
export const useTasksStore = defineStore('tasks', () => {
  const tasks = ref<LabelTaskT[]>([]);
  /** What a task scope can choose from in this workspace (modalities, body parts… with counts). */
  const scopeOptions = ref<ScopeOptionsT | null>(null);
  const { busy, error, guard } = useGuardedActions();
  const chosenId = ref<number | null>(null);
  // A chosen task that no longer exists falls back to the first.
  const current = computed<LabelTaskT | null>(() => tasks.value.find((t) => t.id === chosenId.value) ?? tasks.value[0] ?? null);
  /** `{ taskId }` of the current task for requests that otherwise default to the workspace's first task. */
  const taskParam = computed<{ taskId?: number }>(() => (current.value ? { taskId: current.value.id } : {}));

  function select(id: number): void {
    chosenId.value = id;
    const dir = useWorkspaceStore().info?.dir;
    if (dir) localStorage.setItem(chosenKey(dir), String(id));
  }

  async function load(): Promise<void> {
    try {
      tasks.value = await call('tasks.list', {});
      const dir = useWorkspaceStore().info?.dir;
      const remembered = dir ? Number(localStorage.getItem(chosenKey(dir))) : NaN;
      if (chosenId.value === null && Number.isInteger(remembered)) chosenId.value = remembered;
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

  /** Adds a task and makes it the current one (the one the editor and the reading screen show). */
  const create = (input: RequestOf<'tasks.create'>): Promise<boolean> =>
    guard(async () => {
      const task = await call('tasks.create', input);
      tasks.value = [...tasks.value, task];
      select(task.id);
    });

  /** Changes a task's scope (and, while it has no labels, its case unit). */
  const update = (input: RequestOf<'tasks.update'>): Promise<boolean> =>
    guard(async () => {
      const task = await call('tasks.update', input);
      tasks.value = tasks.value.map((t) => (t.id === task.id ? task : t));
    });

  function reset(): void {
    tasks.value = [];
    chosenId.value = null;
    scopeOptions.value = null;
    error.value = null;
  }

  return { tasks, current, taskParam, scopeOptions, error, busy, load, loadScopeOptions, select, create, update, reset };
});
