import { defineStore } from 'pinia';
import { computed, ref, shallowReactive } from 'vue';
import type { CaseSummaryT } from '../../../core/api/contract';
import { call, friendlyMessage } from './api';
import { useTasksStore } from './tasks';

export type { CaseFilter } from '../../../core/vocabulary';
import type { CaseFilter } from '../../../core/vocabulary';
export type { CaseSort } from '../../../core/vocabulary';
import type { CaseSort } from '../../../core/vocabulary';

/** Rows fetched per cases.list call; the worklist only ever asks for the pages it shows. */
export const PAGE_SIZE = 100;

/**
 * The worklist as a sparse array: the total for the current filter/sort/search plus the pages
 * loaded so far, so 50,000 cases cost no more than the rows on screen. The selection is an index
 * into this list.
 */
export const useCasesStore = defineStore('cases', () => {
  const filter = ref<CaseFilter>('all');
  const sort = ref<CaseSort>('imported');
  /** Counts changes to rows already listed (a label set here, predictions or labels from elsewhere): views built from the same cases watch it. */
  const revision = ref(0);
  const search = ref('');
  const total = ref(0);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const selectedIndex = ref(-1);
  /** Cases picked with Ctrl/⌘-click for an action on several at once (hold out for test). */
  const marked = ref<Set<number>>(new Set());
  /** page number → rows; shallow so a page swap re-renders without deep-watching every row. */
  const pages = shallowReactive(new Map<number, CaseSummaryT[]>());
  const inFlight = new Map<number, Promise<void>>();
  /** Bumped on every query change so answers to an older query are dropped. */
  let generation = 0;

  const selected = computed(() => rowAt(selectedIndex.value));

  function rowAt(index: number): CaseSummaryT | undefined {
    if (index < 0) return undefined;
    return pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  function fetchPage(page: number): Promise<void> {
    const existing = inFlight.get(page);
    if (existing) return existing;
    const gen = generation;
    const request = call('cases.list', {
      offset: page * PAGE_SIZE,
      limit: PAGE_SIZE,
      filter: filter.value,
      sort: sort.value,
      ...useTasksStore().taskParam,
      ...(search.value.trim() ? { search: search.value.trim() } : {}),
    })
      .then((result) => {
        if (gen !== generation) return;
        total.value = result.total;
        pages.set(page, result.items);
        loaded.value = true;
        error.value = null;
      })
      .catch((err: unknown) => {
        if (gen === generation) error.value = friendlyMessage(err);
      })
      .finally(() => {
        if (inFlight.get(page) === request) inFlight.delete(page);
      });
    inFlight.set(page, request);
    return request;
  }

  /** Makes sure the rows first…last are loaded (or loading). */
  async function ensure(first: number, last: number): Promise<void> {
    const from = Math.max(0, Math.floor(first / PAGE_SIZE));
    const to = Math.max(from, Math.floor(Math.max(first, last) / PAGE_SIZE));
    const waits: Promise<void>[] = [];
    for (let p = from; p <= to; p++) if (!pages.has(p)) waits.push(fetchPage(p));
    await Promise.all(waits);
  }

  /** Starts over for the current filter, sort and search (selection back to the top). */
  async function reload(): Promise<void> {
    generation++;
    pages.clear();
    inFlight.clear();
    selectedIndex.value = -1;
    await fetchPage(0);
  }

  const setFilter = (next: CaseFilter) => {
    filter.value = next;
    // The suggested view follows the suggestion rank, so Next is the next case worth labelling.
    if (next === 'suggested') sort.value = 'rank';
    return reload();
  };
  const setSort = (next: CaseSort) => {
    sort.value = next;
    return reload();
  };

  /** Selects a row, loading its page first when needed; false past either end. */
  async function select(index: number): Promise<boolean> {
    if (index < 0 || index >= total.value) return false;
    await ensure(index, index);
    if (!rowAt(index)) return false;
    selectedIndex.value = index;
    return true;
  }

  /**
   * Marks the case as the selected row when its page is loaded, else selects nothing: a case opened elsewhere (the
   * grouped list) must never leave another row highlighted, since labels go to the case on screen.
   */
  function selectCase(id: number): void {
    for (const [page, rows] of pages) {
      const at = rows.findIndex((r) => r.id === id);
      if (at >= 0) {
        selectedIndex.value = page * PAGE_SIZE + at;
        return;
      }
    }
    selectedIndex.value = -1;
  }

  /** Updates one row in place after a label change; the row keeps its place until the next reload. */
  function patchRow(id: number, change: Partial<CaseSummaryT>): void {
    revision.value++;
    for (const [page, rows] of pages) {
      const at = rows.findIndex((r) => r.id === id);
      if (at >= 0) {
        const next = rows.slice();
        next[at] = { ...rows[at], ...change };
        pages.set(page, next);
        return;
      }
    }
  }

  /**
   * Re-reads the pages on screen for the same query (new predictions or suggestion ranks arrived),
   * keeping the selected case selected: a live update, not a jump back to the top.
   */
  async function refreshInPlace(): Promise<void> {
    revision.value++;
    const keep = selected.value?.id;
    const loadedPages = [...pages.keys()];
    generation++;
    inFlight.clear();
    await Promise.all((loadedPages.length ? loadedPages : [0]).map((p) => fetchPage(p)));
    if (keep === undefined) return;
    for (const [page, rows] of pages) {
      const at = rows.findIndex((r) => r.id === keep);
      if (at >= 0) {
        selectedIndex.value = page * PAGE_SIZE + at;
        return;
      }
    }
  }

  function toggleMark(id: number): void {
    const next = new Set(marked.value);
    if (!next.delete(id)) next.add(id);
    marked.value = next;
  }
  const clearMarks = () => (marked.value = new Set());

  function reset(): void {
    marked.value = new Set();
    generation++;
    pages.clear();
    inFlight.clear();
    total.value = 0;
    loaded.value = false;
    selectedIndex.value = -1;
  }

  return {
    filter, sort, search, total, revision, loaded, error, selectedIndex, selected, pages, marked,
    rowAt, ensure, reload, refreshInPlace, setFilter, setSort, select, selectCase, patchRow, toggleMark, clearMarks, reset,
  };
});
