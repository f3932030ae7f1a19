import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { ViewerImageT } from '../../../core/api/contract';
import { defaultWindow, frameRange, wlDragSensitivity, type WindowLevel } from '../../../core/imaging/display';
import { asDecodedImage, isGrey } from '../viewer/decoded';
import { WL_PRESETS } from '../input/keymap';
import { call, friendlyMessage } from './api';

/** Images kept in the renderer: the current one, the prefetched next one and the one just left. */
const CACHE_SIZE = 3;
const DEFAULT_CINE_FPS = 15;
export const CINE_FPS_RANGE = { min: 1, max: 60 } as const;

/** What a left drag does: window/level (default) or draw a measurement. */
export type ViewerTool = 'wl' | 'length' | 'angle' | 'ellipse' | 'rectangle';

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
  const cineFps = ref(DEFAULT_CINE_FPS);
  const tool = ref<ViewerTool>('wl');
  const magnifier = ref(false);
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
  /** How the window in effect came about, for the overlay: a named preset, the file's own window, or the data range. */
  const windowName = computed<string>(() => {
    if (!grey.value) return view.window ? 'custom' : 'full range';
    const w = view.window;
    if (w) return WL_PRESETS.find((p) => p.width === w.width && p.center === w.center)?.name ?? 'custom';
    const filePreset = image.value?.voi.windows[0];
    if (filePreset && filePreset.width > 0) return filePreset.explanation?.trim() || 'file preset';
    if (image.value && image.value.voi.windows.length === 0 && image.value.voi.luts.length > 0) return 'file VOI LUT';
    return 'min–max';
  });
  /** Modality units per screen pixel of a W/L drag: the frame's value range over 1024 px, as OHIF does. */
  const dragSensitivity = computed(() => {
    if (!decoded.value) return 1;
    return wlDragSensitivity(grey.value ? frameRange(decoded.value, frame.value) : { min: 0, max: 2 ** Math.min(decoded.value.bitsStored, 16) - 1 });
  });

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

  /**
   * Steps through the stack on screen: the frames of a multi-frame image (wrapping round, as cine does). When
   * the worklist groups a series into one stack, this is where the step moves to the next instance.
   */
  function step(delta: number): void {
    const n = frameCount.value;
    if (n > 1) frame.value = (((frame.value + delta) % n) + n) % n;
  }

  function stopCine(): void {
    if (cineTimer) clearInterval(cineTimer);
    cineTimer = null;
    cinePlaying.value = false;
  }
  function startCine(): void {
    if (cineTimer) clearInterval(cineTimer);
    cinePlaying.value = true;
    cineTimer = setInterval(() => step(1), 1000 / cineFps.value);
  }
  function toggleCine(): void {
    if (cinePlaying.value) return stopCine();
    if (frameCount.value < 2) return;
    startCine();
  }
  /** Frames per second of cine (1–60); a running cine picks up the new speed at once. */
  function setCineFps(fps: number): void {
    if (!Number.isFinite(fps)) return;
    cineFps.value = Math.round(Math.min(CINE_FPS_RANGE.max, Math.max(CINE_FPS_RANGE.min, fps)));
    if (cinePlaying.value) startCine();
  }

  return {
    caseId, image, loading, error, frame, view, deidentified, cinePlaying, cineFps, tool, magnifier, requestedAt,
    decoded, grey, effectiveWindow, frameCount, windowName, dragSensitivity,
    open, prefetch, close, setWindow, applyPreset, zoomBy, fit, rotate, reset, step, toggleCine, stopCine, setCineFps,
  };
});
