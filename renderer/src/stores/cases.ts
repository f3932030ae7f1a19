import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CaseSummaryT } from '../../../core/api/contract';
import { call, friendlyMessage } from './api';

export type CaseFilter = 'all' | 'unlabeled' | 'labeled' | 'suggested' | 'disagree' | 'quarantined';

/** The worklist: one page of cases for the current filter and search. */
export const useCasesStore = defineStore('cases', () => {
  const items = ref<CaseSummaryT[]>([]);
  const total = ref(0);
  const filter = ref<CaseFilter>('all');
  const search = ref('');
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      const page = await call('cases.list', {
        filter: filter.value,
        limit: 200,
        ...(search.value.trim() ? { search: search.value.trim() } : {}),
      });
      items.value = page.items;
      total.value = page.total;
      loaded.value = true;
    } catch (err) {
      error.value = friendlyMessage(err);
    } finally {
      loading.value = false;
    }
  }

  function setFilter(next: CaseFilter): Promise<void> {
    filter.value = next;
    return load();
  }

  function reset(): void {
    items.value = [];
    total.value = 0;
    loaded.value = false;
  }

  return { items, total, filter, search, loading, loaded, error, load, setFilter, reset };
});
