import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { MaskEventInfoT, MaskPredictionT } from '../../../core/api/mask-contract';
import { fillHoles as fillHolesOp, type Plane } from '../viewer/mask-ops';
import { call, friendlyMessage } from './api';
import { useCasesStore } from './cases';
import { useLabelsStore } from './labels';
import { useTasksStore } from './tasks';

/** What a left drag does on a segmentation task: nothing (view tools), paint, erase, flood fill, or a lasso/polygon. */
export type PaintTool = 'view' | 'brush' | 'eraser' | 'fill' | 'lasso';

/** Strokes within this long of each other are saved as one mask event. */
const SAVE_DELAY_MS = 600;
/** Undo steps kept per case (each a copy of the mask: 330 kB for a DRIVE photograph). */
const UNDO_LIMIT = 50;
export const BRUSH_SIZES = { min: 1, max: 200 } as const;

interface Target {
  taskId: number;
  caseId: number;
  frame: number;
}

const sameTarget = (a: Target | null, b: Target | null) => !!a && !!b && a.taskId === b.taskId && a.caseId === b.caseId && a.frame === b.frame;

/**
 * The mask of the case on screen for the segmentation task: one byte per image pixel, painted in place, with
 * per-stroke undo/redo, the paint settings and the display settings. Saving is debounced: the strokes of one
 * pause become one mask event (so a save holds one or more strokes; undo and redo save like a stroke).
 */
export const useMasksStore = defineStore('masks', () => {
  const tasks = useTasksStore();
  const target = ref<Target | null>(null);
  /** Mutated in place while painting; `revision` says when it changed. */
  const plane = shallowRef<Plane | null>(null);
  const revision = ref(0);
  const tool = ref<PaintTool>('brush');
  /** The class painted: 1-based index into the task's classes. */
  const classIndex = ref(1);
  /** Brush diameter in image pixels. */
  const brushSize = ref(8);
  /** Flood fill: how far from the seed's value a pixel may be, in % of the frame's value range. */
  const tolerance = ref(10);
  const opacity = ref(0.5);
  const outline = ref(false);
  /** Class indices hidden from view (still painted and saved). */
  const hidden = ref<number[]>([]);
  const undoStack: Uint8Array[] = [];
  const redoStack: Uint8Array[] = [];
  const undoDepth = ref(0);
  const redoDepth = ref(0);
  /** The latest saved (or loaded) event of this mask. */
  const saved = ref<MaskEventInfoT | null>(null);
  const saveState = ref<'saved' | 'pending' | 'saving' | 'error'>('saved');
  /** The active version's predicted mask of this frame, shown as an outline overlay naming the version. */
  const prediction = shallowRef<MaskPredictionT | null>(null);
  const showPrediction = ref(true);
  /** Set by Edit: the version whose prediction is being edited; the saves record `edited-prediction` with it. */
  const editingVersion = ref<number | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  let saving: Promise<void> | null = null;
  let dirty = false;

  const task = computed(() => (tasks.current?.kind === 'segmentation' ? tasks.current : null));
  const classes = computed(() => task.value?.classes ?? []);
  const foreground = computed(() => {
    void revision.value;
    const p = plane.value;
    if (!p) return 0;
    let n = 0;
    for (let i = 0; i < p.labels.length; i++) if (p.labels[i]) n++;
    return n;
  });

  /** Shows the mask of (task, case, frame), saving the previous one's pending strokes first. */
  async function open(next: Target, rows: number, columns: number): Promise<void> {
    if (sameTarget(target.value, next) && plane.value) return;
    await flush();
    target.value = next;
    plane.value = null;
    saved.value = null;
    prediction.value = null;
    editingVersion.value = null;
    undoStack.length = redoStack.length = 0;
    undoDepth.value = redoDepth.value = 0;
    error.value = null;
    loading.value = true;
    try {
      const { mask, prediction: predicted } = await call('masks.get', next);
      if (!sameTarget(target.value, next)) return;
      prediction.value = predicted && predicted.rows === rows && predicted.columns === columns ? predicted : null;
      const labels = mask && mask.rows === rows && mask.columns === columns ? mask.labels.slice() : new Uint8Array(rows * columns);
      plane.value = { width: columns, height: rows, labels };
      if (mask) {
        const { labels: _pixels, ...info } = mask;
        saved.value = info;
      }
      saveState.value = 'saved';
      revision.value++;
    } catch (err) {
      if (sameTarget(target.value, next)) error.value = friendlyMessage(err);
    } finally {
      if (sameTarget(target.value, next)) loading.value = false;
    }
  }

  function close(): void {
    void flush();
    target.value = null;
    plane.value = null;
  }

  /** Before a stroke changes the mask: keep its state for undo. */
  function beginStroke(): void {
    if (!plane.value) return;
    undoStack.push(plane.value.labels.slice());
    if (undoStack.length > UNDO_LIMIT) undoStack.shift();
    redoStack.length = 0;
    undoDepth.value = undoStack.length;
    redoDepth.value = 0;
  }

  /** After a stroke: a stroke that changed nothing leaves no undo step and no save. */
  function endStroke(changed: number): void {
    if (changed === 0) {
      undoStack.pop();
      undoDepth.value = undoStack.length;
      return;
    }
    markChanged();
  }

  function markChanged(): void {
    revision.value++;
    scheduleSave();
  }

  function undo(): void {
    const p = plane.value;
    const previous = undoStack.pop();
    if (!p || !previous) return;
    redoStack.push(p.labels.slice());
    p.labels.set(previous);
    undoDepth.value = undoStack.length;
    redoDepth.value = redoStack.length;
    markChanged();
  }

  function redo(): void {
    const p = plane.value;
    const next = redoStack.pop();
    if (!p || !next) return;
    undoStack.push(p.labels.slice());
    p.labels.set(next);
    undoDepth.value = undoStack.length;
    redoDepth.value = redoStack.length;
    markChanged();
  }

  /** Fills the holes of the class being painted (one undo step). */
  function fillHoles(): void {
    const p = plane.value;
    if (!p) return;
    beginStroke();
    endStroke(fillHolesOp(p, classIndex.value));
  }

  function setBrushSize(size: number): void {
    brushSize.value = Math.min(BRUSH_SIZES.max, Math.max(BRUSH_SIZES.min, Math.round(size)));
  }
  /** `[` and `]`: about 20 % smaller or larger, at least one pixel. */
  const smallerBrush = () => setBrushSize(Math.min(brushSize.value - 1, brushSize.value / 1.25));
  const largerBrush = () => setBrushSize(Math.max(brushSize.value + 1, brushSize.value * 1.25));

  function toggleVisible(index: number): void {
    hidden.value = hidden.value.includes(index) ? hidden.value.filter((i) => i !== index) : [...hidden.value, index];
  }

  function scheduleSave(): void {
    dirty = true;
    saveState.value = 'pending';
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => void flush(), SAVE_DELAY_MS);
  }

  /** Saves pending strokes now (one mask event); resolves when they are stored. */
  async function flush(): Promise<void> {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    if (saving) await saving;
    if (!dirty || !target.value || !plane.value) return;
    dirty = false;
    const t = target.value;
    const p = plane.value;
    // Editing a model's mask keeps naming the version it came from.
    const base = saved.value;
    const predictedBy =
      editingVersion.value ??
      (base && (base.source === 'accepted-prediction' || base.source === 'edited-prediction') ? (base.adapterVersionId ?? null) : null);
    saveState.value = 'saving';
    saving = (async () => {
      try {
        const event = await call('masks.save', {
          ...t,
          rows: p.height,
          columns: p.width,
          labels: p.labels.slice(),
          ...(predictedBy !== null ? { source: 'edited-prediction' as const, adapterVersionId: predictedBy } : {}),
        });
        if (sameTarget(target.value, t)) {
          saved.value = event;
          error.value = null;
          if (!dirty) saveState.value = 'saved';
        }
        await showLabel(t);
      } catch (err) {
        // The strokes stay on screen and are tried again with the next save.
        dirty = true;
        if (sameTarget(target.value, t)) {
          error.value = `The mask was not saved: ${friendlyMessage(err)}`;
          saveState.value = 'error';
        }
      } finally {
        saving = null;
      }
    })();
    await saving;
  }

  /** Takes the model's predicted mask as it is: stored as the current mask (accepted-prediction), one undo step. */
  async function acceptPrediction(): Promise<void> {
    const p = plane.value;
    const t = target.value;
    const predicted = prediction.value;
    if (!p || !t || !predicted) return;
    await flush();
    try {
      const event = await call('masks.accept', t);
      if (!sameTarget(target.value, t)) return;
      beginStroke();
      p.labels.set(predicted.labels);
      revision.value++;
      saved.value = event;
      editingVersion.value = null;
      error.value = null;
      await showLabel(t);
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  /**
   * A reviewer settles a k-read case with another reader's mask: it becomes the plane and is saved as the
   * reviewer's (the save adjudicates the case; further strokes refine it).
   */
  async function adoptMaskOf(author: string): Promise<void> {
    const t = target.value;
    const p = plane.value;
    if (!t || !p) return;
    try {
      const { mask } = await call('masks.get', { ...t, author });
      if (!mask || !sameTarget(target.value, t) || mask.rows !== p.height || mask.columns !== p.width) return;
      beginStroke();
      p.labels.set(mask.labels);
      revision.value++;
      dirty = true;
      await flush();
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  /** Starts from the model's predicted mask to correct it: the strokes then save as edited-prediction of that version. */
  function editPrediction(): void {
    const p = plane.value;
    const predicted = prediction.value;
    if (!p || !predicted) return;
    beginStroke();
    p.labels.set(predicted.labels);
    editingVersion.value = predicted.versionId;
    if (tool.value === 'view') tool.value = 'brush';
    // Nothing is stored until the first correction: an unchanged prediction is accepted, not edited.
    revision.value++;
  }

  /**
   * On a task read by several readers: saves pending strokes, then submits the saved mask as this reader's
   * read of the case (final; the others' masks become visible). Resolves true when submitted.
   */
  async function submit(): Promise<boolean> {
    await flush();
    const t = target.value;
    const s = saved.value;
    if (!t || !s || dirty) {
      error.value = 'Paint and save a mask before submitting it';
      return false;
    }
    try {
      await call('labels.set', { caseId: t.caseId, taskId: t.taskId, value: { maskSha256: s.sha256, rows: s.rows, columns: s.columns } });
      await showLabel(t);
      return true;
    } catch (err) {
      error.value = `The mask was not submitted: ${friendlyMessage(err)}`;
      return false;
    }
  }

  /** A painted case counts as labelled (the store keeps its label in step with its masks): show that in the row and label bar. */
  async function showLabel(t: Target): Promise<void> {
    try {
      const fresh = await call('cases.get', { id: t.caseId, taskId: t.taskId });
      useCasesStore().patchRow(t.caseId, { label: fresh.label ?? undefined });
      void useLabelsStore().refresh();
    } catch {
      // Only the display lags; the mask is stored.
    }
  }

  return {
    target,
    plane,
    revision,
    tool,
    classIndex,
    brushSize,
    tolerance,
    opacity,
    outline,
    hidden,
    undoDepth,
    redoDepth,
    saved,
    saveState,
    prediction,
    showPrediction,
    editingVersion,
    acceptPrediction,
    editPrediction,
    error,
    loading,
    task,
    classes,
    foreground,
    open,
    close,
    beginStroke,
    endStroke,
    undo,
    redo,
    fillHoles,
    setBrushSize,
    smallerBrush,
    largerBrush,
    toggleVisible,
    flush,
    submit,
    adoptMaskOf,
  };
});
