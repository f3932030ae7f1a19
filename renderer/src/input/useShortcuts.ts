import { onBeforeUnmount, onMounted } from 'vue';
import { useKeymapStore } from '../stores/keymap';
import { useLabelsStore } from '../stores/labels';
import { useMeasurementsStore } from '../stores/measurements';
import { useReadersStore } from '../stores/readers';
import { useReadingStore } from '../stores/reading';
import { useTasksStore } from '../stores/tasks';
import { useUiStore } from '../stores/ui';
import { useTagsStore } from '../stores/tags';
import { useViewerStore } from '../stores/viewer';
import { matchBinding, type Action } from './keymap';

/** Inputs that take no typing (a slider such as cine speed, a checkbox): shortcuts still work while they have focus. */
const NON_TEXT_INPUTS = new Set(['range', 'checkbox', 'radio', 'button', 'color', 'submit', 'reset']);

export function typingInField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  if (el.tagName === 'INPUT') return !NON_TEXT_INPUTS.has((el as HTMLInputElement).type);
  return el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable;
}

/**
 * The one keyboard handler of the reading screen: class hotkeys from the task (label mode only), then the
 * reader's keymap (the table with their changes) for the current mode.
 */
export function useShortcuts(): void {
  const ui = useUiStore();
  const tasks = useTasksStore();
  const viewer = useViewerStore();
  const labels = useLabelsStore();
  const readers = useReadersStore();
  const reading = useReadingStore();
  const keymap = useKeymapStore();
  const measurements = useMeasurementsStore();
  const tags = useTagsStore();

  const actions: Record<Action, () => unknown> = {
    'preset-1': () => viewer.applyPreset(0),
    'preset-2': () => viewer.applyPreset(1),
    'preset-3': () => viewer.applyPreset(2),
    'preset-4': () => viewer.applyPreset(3),
    'preset-5': () => viewer.applyPreset(4),
    'zoom-in': () => viewer.zoomBy(1.25),
    'zoom-out': () => viewer.zoomBy(1 / 1.25),
    fit: () => viewer.fit(),
    invert: () => (viewer.view.invert = !viewer.view.invert),
    'rotate-right': () => viewer.rotate(1),
    'rotate-left': () => viewer.rotate(-1),
    'flip-h': () => (viewer.view.flipH = !viewer.view.flipH),
    'flip-v': () => (viewer.view.flipV = !viewer.view.flipV),
    reset: () => viewer.reset(),
    cine: () => viewer.toggleCine(),
    'cine-faster': () => viewer.setCineFps(viewer.cineFps + 5),
    'cine-slower': () => viewer.setCineFps(viewer.cineFps - 5),
    'tool-wl': () => (viewer.tool = 'wl'),
    'tool-length': () => (viewer.tool = 'length'),
    'tool-angle': () => (viewer.tool = 'angle'),
    'tool-ellipse': () => (viewer.tool = 'ellipse'),
    'tool-rectangle': () => (viewer.tool = 'rectangle'),
    'delete-measurement': () => measurements.removeLast(),
    magnifier: () => (viewer.magnifier = !viewer.magnifier),
    tags: () => (tags.open = !tags.open),
    'toggle-mode': () => keymap.toggleMode(),
    'frame-next': () => viewer.step(1),
    'frame-previous': () => viewer.step(-1),
    'series-next': () => viewer.stepSeries(1),
    'series-previous': () => viewer.stepSeries(-1),
    'red-free': () => (viewer.view.redFree = !viewer.view.redFree),
    deidentify: () => (viewer.deidentified = !viewer.deidentified),
    'submit-next': () => reading.submitAndNext(),
    'previous-case': () => reading.previous(),
    'next-case': () => reading.next(),
    undo: () => labels.undo(),
    accept: () => labels.accept(),
    skip: () => reading.skipAndNext(),
    flag: () => labels.toggleFlag(),
    'hold-out': () => labels.toggleHoldOut(),
    search: () => document.getElementById('worklist-search')?.focus(),
    help: () => (ui.helpOpen = !ui.helpOpen),
    close: () => {
      ui.helpOpen = false;
      tags.open = false;
    },
  };

  function onKeyDown(e: KeyboardEvent): void {
    if (typingInField(e.target)) {
      if (e.key === 'Escape') (e.target as HTMLElement).blur();
      return;
    }
    if (ui.mode !== 'reading') {
      if (e.key === 'Escape' || e.key === '?') ui.helpOpen = e.key === '?' ? !ui.helpOpen : false;
      return;
    }
    // A key being recorded for the keymap editor is not a shortcut.
    if (ui.recordingKey) return;
    const task = tasks.current;
    if (task && keymap.mode === 'label' && !e.ctrlKey && !e.metaKey && !e.altKey) {
      const cls = task.classes.find((c) => c.hotkey !== undefined && c.hotkey === e.key);
      if (cls) {
        e.preventDefault();
        void readers.applyClass(cls.name);
        return;
      }
    }
    const binding = matchBinding(e, keymap.context, keymap.bindings);
    if (!binding) return;
    // Buttons keep focus after a click; Space/Enter must still mean the shortcut, not "press the button again".
    e.preventDefault();
    if (ui.helpOpen && binding.action !== 'help' && binding.action !== 'close') ui.helpOpen = false;
    void actions[binding.action]();
  }

  onMounted(() => window.addEventListener('keydown', onKeyDown));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKeyDown));
}
