import { defineStore } from 'pinia';
import { useCasesStore } from './cases';
import { useLabelsStore } from './labels';
import { useThumbnailsStore } from './thumbnails';
import { useViewerStore } from './viewer';

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
    if (index + 1 >= cases.total) return;
    await cases.ensure(index + 1, index + 1);
    const next = cases.rowAt(index + 1);
    if (next) useViewerStore().prefetch(next.id);
  }

  const next = () => openIndex(useCasesStore().selectedIndex + 1);
  const previous = () => openIndex(Math.max(0, useCasesStore().selectedIndex - 1));

  /** Enter: the label is already saved when a class key is pressed; submitting moves on. */
  const submitAndNext = () => next();

  async function skipAndNext(): Promise<void> {
    if (await useLabelsStore().skip()) await next();
  }

  return { openIndex, next, previous, submitAndNext, skipAndNext };
});
