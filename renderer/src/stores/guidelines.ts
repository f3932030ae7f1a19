import { defineStore } from 'pinia';
import { ref } from 'vue';
import { call, useGuardedActions } from './api';

/** The current task's guidelines (Markdown) and the side panel that shows them. */
export const useGuidelinesStore = defineStore('guidelines', () => {
  const open = ref(false);
  const taskId = ref<number | null>(null);
  const markdown = ref('');
  const { busy, error, guard } = useGuardedActions();

  const load = (id: number) =>
    guard(async () => {
      const r = await call('tasks.guidelines', { taskId: id });
      taskId.value = r.taskId;
      markdown.value = r.markdown;
    });

  const save = (text: string) =>
    guard(async () => {
      if (taskId.value === null) throw new Error('no task to write guidelines for');
      markdown.value = (await call('tasks.setGuidelines', { taskId: taskId.value, markdown: text })).markdown;
    });

  function reset(): void {
    taskId.value = null;
    markdown.value = '';
    error.value = null;
  }

  return { open, taskId, markdown, busy, error, load, save, reset };
});
