import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CaseCommentT } from '../../../core/api/contract';
import { call, useGuardedActions } from './api';

/** The open case's comments, oldest first. */
export const useCommentsStore = defineStore('comments', () => {
  const caseId = ref<number | null>(null);
  const items = ref<CaseCommentT[]>([]);
  const { busy, error, guard } = useGuardedActions();

  const load = (id: number) =>
    guard(async () => {
      caseId.value = id;
      const list = await call('comments.list', { caseId: id });
      if (caseId.value === id) items.value = list;
    });

  const add = (body: string) =>
    guard(async () => {
      const id = caseId.value;
      if (id === null) throw new Error('no case open');
      const comment = await call('comments.add', { caseId: id, body });
      if (caseId.value === id) items.value = [...items.value, comment];
    });

  const remove = (id: number) =>
    guard(async () => {
      await call('comments.delete', { id });
      items.value = items.value.filter((c) => c.id !== id);
    });

  function clear(): void {
    caseId.value = null;
    items.value = [];
    error.value = null;
  }

  return { caseId, items, busy, error, load, add, remove, clear };
});
