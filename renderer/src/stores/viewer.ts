import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { ViewerImageT } from '../../../core/api/contract';
import { defaultWindow, type WindowLevel } from '../../../core/imaging/display';
import { asDecodedImage, isGrey } from '../viewer/decoded';
import { WL_PRESETS } from '../input/keymap';
import { call, friendlyMessage } from './api';

/** Images kept in the renderer: the current one, the prefetched next one and the one just left. */
const CACHE_SIZE = 3;
const CINE_FPS = 15;

export interface ViewState {
  /** null: the image's own window (file preset or min–max); colour: full range. */
  window: WindowLevel | null;
  invert: boolean;
  /** 1 = fit to the viewport. */
  zoom: number;
  panX: number;
  panY: number;
  /** Quarter turns clockwise. */
  rotation: 0 | 1 | 2 | 3;
  flipH: boolean;
  flipV: boolean;
  redFree: boolean;
}

const initialView = (): ViewState => ({ window: null, invert: false, zoom: 1, panX: 0, panY: 0, rotation: 0, flipH: false, flipV: false, redFree: false });

/** The image on screen, how it is shown (W/L, zoom, pan, rotation…), its frame, cine, and the prefetch cache. */
export const useViewerStore = defineStore('viewer', () => {
  const caseId = ref<number | null>(null);
  const image = shallowRef<ViewerImageT | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const frame = ref(0);
  const view = reactive<ViewState>(initialView());
  const deidentified = ref(false);
  const cinePlaying = ref(false);
  /** When the current case was asked for; the canvas reports its first paint against it (bench, tests). */
  const requestedAt = ref(0);
  const cache = new Map<number, Promise<ViewerImageT>>();
  let cineTimer: ReturnType<typeof setInterval> | null = null;

  const decoded = computed(() => (image.value ? asDecodedImage(image.value) : null));
  const grey = computed(() => (image.value ? isGrey(image.value) : false));
  /** The window in effect: the user's, or the image's own. Colour images without a user window: full range. */
  const effectiveWindow = computed<WindowLevel | null>(() => {
    if (view.window) return view.window;
    if (!decoded.value || !grey.value) return null;
    return defaultWindow(decoded.value, frame.value);
  });
  const frameCount = computed(() => image.value?.numberOfFrames ?? 0);

  function fetchImage(id: number): Promise<ViewerImageT> {
    let pending = cache.get(id);
    if (!pending) {
      pending = call('cases.image', { id });
      pending.catch(() => cache.delete(id));
      cache.set(id, pending);
      while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as number);
    } else {
      cache.delete(id);
      cache.set(id, pending);
    }
    return pending;
  }

  /** Shows a case: its image comes from the prefetch cache when it is there, else straight from the pool. */
  async function open(id: number): Promise<void> {
    if (caseId.value === id && (image.value || loading.value)) return;
    stopCine();
    caseId.value = id;
    requestedAt.value = performance.now();
    loading.value = true;
    error.value = null;
    try {
      const next = await fetchImage(id);
      if (caseId.value !== id) return;
      image.value = next;
      frame.value = 0;
      Object.assign(view, initialView());
    } catch (err) {
      if (caseId.value !== id) return;
      image.value = null;
      error.value = friendlyMessage(err);
    } finally {
      if (caseId.value === id) loading.value = false;
    }
  }

  /** Starts loading a case the user is likely to open next (errors wait until it is opened). */
  function prefetch(id: number): void {
    if (id !== caseId.value) fetchImage(id).catch(() => undefined);
  }

  function close(): void {
    stopCine();
    caseId.value = null;
    image.value = null;
    error.value = null;
    loading.value = false;
    cache.clear();
  }

  function setWindow(w: WindowLevel): void {
    view.window = { center: Math.round(w.center), width: Math.max(1, Math.round(w.width)) };
  }

  function applyPreset(index: number): void {
    const preset = WL_PRESETS[index];
    if (preset && grey.value) setWindow(preset);
  }

  const zoomBy = (factor: number) => {
    view.zoom = Math.min(32, Math.max(0.1, view.zoom * factor));
  };
  function fit(): void {
    view.zoom = 1;
    view.panX = 0;
    view.panY = 0;
  }
  const rotate = (quarterTurns: number) => {
    view.rotation = ((((view.rotation + quarterTurns) % 4) + 4) % 4) as ViewState['rotation'];
  };
  function reset(): void {
    const redFree = view.redFree;
    Object.assign(view, initialView(), { redFree });
  }

  function step(delta: number): void {
    const n = frameCount.value;
    if (n > 1) frame.value = (frame.value + delta + n) % n;
  }

  function stopCine(): void {
    if (cineTimer) clearInterval(cineTimer);
    cineTimer = null;
    cinePlaying.value = false;
  }
  function toggleCine(): void {
    if (cinePlaying.value) return stopCine();
    if (frameCount.value < 2) return;
    cinePlaying.value = true;
    cineTimer = setInterval(() => step(1), 1000 / CINE_FPS);
  }

  return {
    caseId, image, loading, error, frame, view, deidentified, cinePlaying, requestedAt,
    decoded, grey, effectiveWindow, frameCount,
    open, prefetch, close, setWindow, applyPreset, zoomBy, fit, rotate, reset, step, toggleCine, stopCine,
  };
});
