import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { ViewerImageT } from '../../../core/api/contract';
import type { SeriesStackT } from '../../../core/api/contract';
import { defaultWindow, frameRange, wlDragSensitivity, type WindowLevel } from '../../../core/imaging/display';
import { asDecodedImage, isGrey } from '../viewer/decoded';
import { ImageCache } from '../viewer/image-cache';
import { WL_PRESETS } from '../input/keymap';
import { call, friendlyMessage } from './api';
import { useTasksStore } from './tasks';

/**
 * Decoded images kept in the renderer, by the bytes of their pixels: the series on screen (prefetched slice by
 * slice), the next cases of the worklist and the ones just left. 512 MB holds a 1000-slice 512² CT series.
 */
export const IMAGE_CACHE_BYTES = 512 * 2 ** 20;
/** Slices of the series on screen loaded ahead at once (the decode pool serves the worklist's cases too). */
const STACK_PREFETCH_PARALLEL = 2;
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
  const cache = new ImageCache(IMAGE_CACHE_BYTES);
  /** The series of the case on screen as one stack (null until known, or for a case outside any series). */
  const stack = shallowRef<SeriesStackT | null>(null);
  /** Index into stack.slices of the slice on screen. */
  const slice = ref(0);
  let prefetchToken = 0;
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
  const stackSize = computed(() => stack.value?.slices.length ?? 0);
  /** Wheel, arrows and cine step through the series' slices when it has several, else through the image's frames. */
  const scrollsSlices = computed(() => stackSize.value > 1);
  const stepCount = computed(() => (scrollsSlices.value ? stackSize.value : frameCount.value));
  /** Where the model's input sits in the stack (series and study tasks), or -1. */
  const modelInputSlice = computed(() => {
    const input = stack.value?.modelInput;
    return input ? (stack.value?.slices.findIndex((s) => s.caseId === input.caseId) ?? -1) : -1;
  });
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

  const fetchImage = (id: number): Promise<ViewerImageT> => cache.get(id, (key) => call('cases.image', { id: key }));

  async function fetchStack(id: number): Promise<SeriesStackT | null> {
    const taskId = useTasksStore().current?.id;
    try {
      return await call('series.stack', { id, ...(taskId ? { taskId } : {}) });
    } catch {
      // Without its stack the case still shows as a single image.
      return null;
    }
  }

  /** Loads the stack's slices outward from the one on screen, a few at a time, while the cache has room. */
  async function prefetchStack(): Promise<void> {
    const s = stack.value;
    if (!s || s.slices.length < 2) return;
    const token = ++prefetchToken;
    const order: number[] = [];
    for (let d = 1; order.length < s.slices.length - 1; d++) {
      if (s.index + d < s.slices.length) order.push(s.index + d);
      if (s.index - d >= 0) order.push(s.index - d);
    }
    let next = 0;
    const worker = async () => {
      while (token === prefetchToken && next < order.length && cache.bytes < IMAGE_CACHE_BYTES * 0.75) {
        await fetchImage(s.slices[order[next++]].caseId).catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: STACK_PREFETCH_PARALLEL }, worker));
  }

  /** Shows a case's series from its stack (found after the image, so the first pixels never wait for it). */
  async function attachStack(id: number): Promise<void> {
    const found = await fetchStack(id);
    if (caseId.value !== id || image.value?.caseId !== id) return;
    stack.value = found;
    slice.value = found?.index ?? 0;
    void prefetchStack();
  }

  /** Shows a case: its image comes from the prefetch cache when it is there, else straight from the pool. */
  async function open(id: number): Promise<void> {
    if (caseId.value === id && (image.value || loading.value)) return;
    stopCine();
    prefetchToken++;
    caseId.value = id;
    requestedAt.value = performance.now();
    loading.value = true;
    error.value = null;
    stack.value = null;
    slice.value = 0;
    // JPEG 2000 not yet decoded: ask for the quick reduced first view before the full image, so the pool does it first.
    if (!cache.has(id)) void showPreview(id, call('cases.preview', { id }).catch(() => null));
    try {
      const next = await fetchImage(id);
      if (caseId.value !== id) return;
      image.value = next;
      frame.value = 0;
      Object.assign(view, initialView());
      void attachStack(id);
    } catch (err) {
      if (caseId.value !== id) return;
      image.value = null;
      error.value = friendlyMessage(err);
    } finally {
      if (caseId.value === id) loading.value = false;
    }
  }

  /** Shows a reduced-resolution first view until the full image is there (never over it). */
  async function showPreview(id: number, pending: Promise<ViewerImageT | null>): Promise<void> {
    const preview = await pending;
    if (!preview || caseId.value !== id || image.value?.caseId === id) return;
    image.value = preview;
    frame.value = 0;
    Object.assign(view, initialView());
  }

  /** Starts loading a case the user is likely to open next (errors wait until it is opened). */
  function prefetch(id: number): void {
    if (id !== caseId.value) fetchImage(id).catch(() => undefined);
  }

  function close(): void {
    stopCine();
    prefetchToken++;
    caseId.value = null;
    image.value = null;
    stack.value = null;
    slice.value = 0;
    error.value = null;
    loading.value = false;
    cache.clear();
  }

  /** Shows slice `index` of the stack, keeping W/L, zoom and pan; an undecodable slice says so and keeps the last. */
  function showSlice(index: number): void {
    const s = stack.value;
    if (!s || index < 0 || index >= s.slices.length || index === slice.value) return;
    slice.value = index;
    fetchImage(s.slices[index].caseId).then(
      (next) => {
        if (stack.value !== s || slice.value !== index) return;
        image.value = next;
        frame.value = 0;
        error.value = null;
      },
      (err: unknown) => {
        if (stack.value === s && slice.value === index) error.value = `Slice ${index + 1}: ${friendlyMessage(err)}`;
      },
    );
  }

  /** PgUp/PgDn: the previous or next series of the study, from its middle slice, with a fresh view. */
  async function stepSeries(delta: number): Promise<void> {
    const s = stack.value;
    const target = s?.study[s.seriesIndex + delta];
    if (!s || !target) return;
    stopCine();
    prefetchToken++;
    const id = caseId.value;
    try {
      const [next, nextStack] = await Promise.all([fetchImage(target.caseId), fetchStack(target.caseId)]);
      if (caseId.value !== id || stack.value !== s) return;
      image.value = next;
      stack.value = nextStack;
      slice.value = nextStack?.index ?? 0;
      frame.value = 0;
      error.value = null;
      Object.assign(view, initialView(), { redFree: view.redFree });
      void prefetchStack();
    } catch (err) {
      if (caseId.value === id) error.value = friendlyMessage(err);
    }
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
   * Steps through the stack on screen: the series' slices when it has several (stopping at either end, as OHIF
   * does, or wrapping round for cine), else the frames of a multi-frame image (wrapping round).
   */
  function step(delta: number, wrap = false): void {
    if (scrollsSlices.value) {
      const n = stackSize.value;
      showSlice(wrap ? (((slice.value + delta) % n) + n) % n : Math.min(n - 1, Math.max(0, slice.value + delta)));
      return;
    }
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
    cineTimer = setInterval(() => step(1, true), 1000 / cineFps.value);
  }
  function toggleCine(): void {
    if (cinePlaying.value) return stopCine();
    if (stepCount.value < 2) return;
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
    stack, slice, stackSize, scrollsSlices, stepCount, modelInputSlice,
    decoded, grey, effectiveWindow, frameCount, windowName, dragSensitivity,
    open, prefetch, close, setWindow, applyPreset, zoomBy, fit, rotate, reset, step, showSlice, stepSeries, toggleCine, stopCine, setCineFps,
    cachedBytes: () => cache.bytes,
    /** An image through the same cache (side-by-side viewports). */
    imageFor: fetchImage,
  };
});
