import { defineStore } from 'pinia';
import { ref, shallowReactive } from 'vue';
import { call } from './api';

const SIZE = 64;
/** Decodes for thumbnails share the pool with the viewer: keep few in flight so the viewer never waits long. */
const MAX_IN_FLIGHT = 2;
const MAX_KEPT = 2000;

/**
 * Worklist thumbnails, requested lazily by visible rows. Newest requests go first (the rows just
 * scrolled into view) and rows that leave the screen withdraw theirs; while the viewer loads an
 * image the queue waits.
 */
export const useThumbnailsStore = defineStore('thumbnails', () => {
  const images = shallowReactive(new Map<number, ImageData>());
  const failed = shallowReactive(new Set<number>());
  const paused = ref(false);
  const queue: number[] = [];
  const running = new Set<number>();

  function pump(): void {
    while (!paused.value && running.size < MAX_IN_FLIGHT && queue.length) {
      const id = queue.pop()!;
      running.add(id);
      call('cases.thumbnail', { id, size: SIZE })
        .then((t) => {
          images.set(id, new ImageData(new Uint8ClampedArray(t.rgba), t.width, t.height));
          if (images.size > MAX_KEPT) images.delete(images.keys().next().value as number);
        })
        .catch(() => failed.add(id))
        .finally(() => {
          running.delete(id);
          pump();
        });
    }
  }

  function request(id: number): void {
    if (images.has(id) || failed.has(id) || running.has(id) || queue.includes(id)) return;
    queue.push(id);
    pump();
  }

  function withdraw(id: number): void {
    const at = queue.indexOf(id);
    if (at >= 0) queue.splice(at, 1);
  }

  function setPaused(value: boolean): void {
    paused.value = value;
    pump();
  }

  function reset(): void {
    queue.length = 0;
    images.clear();
    failed.clear();
  }

  return { images, failed, request, withdraw, setPaused, reset };
});
