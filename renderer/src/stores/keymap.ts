import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { applyOverrides, type Action, type InputMode, type KeyChord, type KeymapOverrides } from '../input/keymap';
import { useTasksStore } from './tasks';
import { useWorkspaceStore } from './workspace';

/** What is kept per reader: rebound keys and the input mode last chosen. */
interface ReaderKeymap {
  overrides: KeymapOverrides;
  mode: InputMode;
}

const storageKey = (reader: string) => `medtune.keymap.${reader}`;

function loadFor(reader: string): ReaderKeymap {
  try {
    const raw = localStorage.getItem(storageKey(reader));
    const parsed = raw ? (JSON.parse(raw) as Partial<ReaderKeymap>) : {};
    return {
      overrides: parsed.overrides && typeof parsed.overrides === 'object' ? parsed.overrides : {},
      mode: parsed.mode === 'view' ? 'view' : 'label',
    };
  } catch {
    // A damaged entry must not lock the reader out of the keyboard: start from the defaults.
    return { overrides: {}, mode: 'label' };
  }
}

/**
 * The keymap in effect for the reader of this session (app.info's reader): their rebound keys and input mode,
 * stored in localStorage under their name. View mode: 1–5 are W/L presets; label mode: number keys are classes.
 */
export const useKeymapStore = defineStore('keymap', () => {
  const workspace = useWorkspaceStore();
  const tasks = useTasksStore();
  const reader = computed(() => workspace.app?.reader || 'reader');
  const overrides = ref<KeymapOverrides>({});
  const chosenMode = ref<InputMode>('label');
  /** Without a task there is nothing to label: view mode. */
  const mode = computed<InputMode>(() => (tasks.current ? chosenMode.value : 'view'));
  const bindings = computed(() => applyOverrides(overrides.value));
  const context = computed(() => ({ hasTask: tasks.current !== null, mode: mode.value }));

  watch(
    reader,
    (name) => {
      const saved = loadFor(name);
      overrides.value = saved.overrides;
      chosenMode.value = saved.mode;
    },
    { immediate: true },
  );

  function save(): void {
    const value: ReaderKeymap = { overrides: overrides.value, mode: chosenMode.value };
    localStorage.setItem(storageKey(reader.value), JSON.stringify(value));
  }

  function setMode(next: InputMode): void {
    chosenMode.value = next;
    save();
  }
  const toggleMode = () => setMode(mode.value === 'label' ? 'view' : 'label');

  function rebind(action: Action, chord: KeyChord): void {
    overrides.value = { ...overrides.value, [action]: chord };
    save();
  }

  function resetAll(): void {
    overrides.value = {};
    save();
  }

  return { reader, overrides, mode, bindings, context, setMode, toggleMode, rebind, resetAll };
});
