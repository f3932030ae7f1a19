import { defineStore } from 'pinia';
import { useCasesStore } from './cases';
import { useLabelsStore } from './labels';
import { useThumbnailsStore } from './thumbnails';
import { useViewerStore } from './viewer';
import { useWorklistGroupsStore, type GroupRow } from './worklistGroups';

/** Cases of the worklist loaded ahead of the one opened, in worklist order. */
const PREFETCH_AHEAD = 2;

/**
 * The reading workflow across stores: opening the selected case in the viewer (image first, then its
 * record), prefetching the next one, and moving through the worklist.
 */
export const useReadingStore = defineStore('reading', () => {
  async function openIndex(index: number): Promise<boolean> {
    const cases = useCasesStore();
    const viewer = useViewerStore();
    const labels = useLabelsStore();
    const thumbnails = useThumbnailsStore();
    if (!(await cases.select(index))) return false;
    const row = cases.rowAt(index)!;
    labels.notice = null;
    // The image is asked for first and thumbnails wait, so nothing queues in front of it.
    thumbnails.setPaused(true);
    const shown = viewer.open(row.id).finally(() => thumbnails.setPaused(false));
    void labels.load(row.id);
    await shown;
    void prefetchAfter(index);
    return true;
  }

  async function prefetchAfter(index: number): Promise<void> {
    const cases = useCasesStore();
    const last = Math.min(cases.total - 1, index + PREFETCH_AHEAD);
    if (last <= index) return;
    await cases.ensure(index + 1, last);
    for (let i = index + 1; i <= last; i++) {
      const row = cases.rowAt(i);
      if (row) useViewerStore().prefetch(row.id);
    }
  }

  /** Grouped worklist: opens a series at its middle case (the viewer then scrolls the whole series). */
  async function openSeriesRow(row: Extract<GroupRow, { type: 'series' }>): Promise<boolean> {
    const groups = useWorklistGroupsStore();
    const viewer = useViewerStore();
    const labels = useLabelsStore();
    groups.selectedKey = row.key;
    useCasesStore().selectCase(row.caseId);
    labels.notice = null;
    void labels.load(row.caseId);
    await viewer.open(row.caseId);
    for (let d = 1; d <= PREFETCH_AHEAD; d++) {
      const ahead = groups.neighbour(d);
      if (ahead) viewer.prefetch(ahead.caseId);
    }
    return true;
  }

  function stepGroups(delta: number): Promise<boolean> {
    const row = useWorklistGroupsStore().neighbour(delta);
    return row ? openSeriesRow(row) : Promise.resolve(false);
  }

  const grouped = () => useWorklistGroupsStore().enabled;
  const next = () => (grouped() ? stepGroups(1) : openIndex(useCasesStore().selectedIndex + 1));
  const previous = () => (grouped() ? stepGroups(-1) : openIndex(Math.max(0, useCasesStore().selectedIndex - 1)));

  /** Enter: the label is already saved when a class key is pressed; submitting moves on. */
  const submitAndNext = () => next();

  async function skipAndNext(): Promise<void> {
    if (await useLabelsStore().skip()) await next();
  }

  return { openIndex, openSeriesRow, next, previous, submitAndNext, skipAndNext };
});
