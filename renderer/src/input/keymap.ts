/**
 * Every keyboard shortcut in one table: the global key handler dispatches from it and the help
 * overlay lists it, so the two cannot disagree. Class hotkeys come from the label task and are
 * added at run time (see useShortcuts). A reader may rebind any action; the changes are kept per
 * reader (see stores/keymap) and applied here with applyOverrides.
 *
 * Decision (OHIF users expect W/L presets on 1–5, Label Studio users classes on number keys): two
 * visible input modes, toggled with m. View mode: 1…5 are the W/L presets and class hotkeys are
 * off. Label mode (only while a label task exists): number keys apply the task's classes and the
 * presets move to Shift+1…5. The viewer shows which mode is on; the reader's choice is remembered.
 */
export type Action =
  | 'preset-1' | 'preset-2' | 'preset-3' | 'preset-4' | 'preset-5'
  | 'zoom-in' | 'zoom-out' | 'fit' | 'invert' | 'rotate-right' | 'rotate-left' | 'flip-h' | 'flip-v'
  | 'reset' | 'cine' | 'cine-faster' | 'cine-slower' | 'frame-next' | 'frame-previous' | 'series-next' | 'series-previous' | 'red-free' | 'deidentify'
  | 'tool-wl' | 'tool-length' | 'tool-angle' | 'tool-ellipse' | 'tool-rectangle' | 'delete-measurement'
  | 'magnifier' | 'tags' | 'toggle-mode'
  | 'submit-next' | 'previous-case' | 'next-case' | 'undo' | 'accept' | 'skip' | 'flag' | 'hold-out'
  | 'help' | 'close' | 'search';

export type InputMode = 'view' | 'label';

export interface Binding {
  action: Action;
  /** KeyboardEvent.key (case-sensitive for letters), or a `code:` prefix for physical keys. */
  keys: string[];
  shift?: boolean;
  ctrl?: boolean;
  /** Shown in the help overlay. */
  label: string;
  group: 'Viewer' | 'Measure' | 'Labeling' | 'General';
  /** Only while a label task exists / only in view mode / only in label mode. */
  when?: 'task' | 'view-mode' | 'label-mode';
}

/** Where a shortcut is pressed: whether a label task exists and the input mode (always view without a task). */
export interface KeyContext {
  hasTask: boolean;
  mode: InputMode;
}

export const WL_PRESETS = [
  { name: 'Soft tissue', width: 400, center: 40 },
  { name: 'Lung', width: 1500, center: -600 },
  { name: 'Liver', width: 150, center: 90 },
  { name: 'Bone', width: 2500, center: 480 },
  { name: 'Brain', width: 80, center: 40 },
] as const;

const presetBindings = (when: 'view-mode' | 'label-mode'): Binding[] =>
  WL_PRESETS.map((p, i) => ({
    action: `preset-${i + 1}` as Action,
    keys: [`code:Digit${i + 1}`],
    shift: when === 'label-mode',
    label: `W/L preset: ${p.name} ${p.width}/${p.center}`,
    group: 'Viewer',
    when,
  }));

export const BINDINGS: Binding[] = [
  ...presetBindings('view-mode'),
  ...presetBindings('label-mode'),
  { action: 'toggle-mode', keys: ['m'], label: 'Switch view mode (1–5 = W/L) / label mode (number keys = classes)', group: 'General', when: 'task' },
  { action: 'frame-next', keys: ['ArrowDown', 'ArrowRight'], label: 'Next slice of the series / frame (also the mouse wheel)', group: 'Viewer' },
  { action: 'frame-previous', keys: ['ArrowUp', 'ArrowLeft'], label: 'Previous slice / frame', group: 'Viewer' },
  { action: 'series-next', keys: ['PageDown'], label: 'Next series of the study', group: 'Viewer' },
  { action: 'series-previous', keys: ['PageUp'], label: 'Previous series of the study', group: 'Viewer' },
  { action: 'cine', keys: ['c'], label: 'Cine: play / stop the frames', group: 'Viewer' },
  { action: 'cine-faster', keys: [']'], label: 'Cine faster (frames per second)', group: 'Viewer' },
  { action: 'cine-slower', keys: ['['], label: 'Cine slower', group: 'Viewer' },
  { action: 'zoom-in', keys: ['z', '+', '='], label: 'Zoom in (also Ctrl+wheel, or right-drag)', group: 'Viewer' },
  { action: 'zoom-out', keys: ['Z', '-'], label: 'Zoom out', group: 'Viewer' },
  { action: 'fit', keys: ['x'], label: 'Fit the image to the viewport', group: 'Viewer' },
  { action: 'invert', keys: ['i'], label: 'Invert', group: 'Viewer' },
  { action: 'rotate-right', keys: ['r'], label: 'Rotate 90° clockwise', group: 'Viewer' },
  { action: 'rotate-left', keys: ['l'], label: 'Rotate 90° counter-clockwise', group: 'Viewer' },
  { action: 'flip-h', keys: ['h'], label: 'Flip horizontally', group: 'Viewer' },
  { action: 'flip-v', keys: ['v'], label: 'Flip vertically', group: 'Viewer' },
  { action: 'reset', keys: [' '], label: 'Reset the view (W/L, zoom, pan, rotation)', group: 'Viewer' },
  { action: 'red-free', keys: ['g'], label: 'Red-free (green channel) for fundus photos', group: 'Viewer' },
  { action: 'deidentify', keys: ['d'], label: 'Hide / show patient identity in the overlay', group: 'Viewer' },
  { action: 'magnifier', keys: ['o'], label: 'Magnifier (loupe) under the pointer', group: 'Viewer' },
  { action: 'tags', keys: ['t'], label: 'DICOM tag browser', group: 'Viewer' },
  { action: 'tool-wl', keys: ['w'], label: 'Left drag: window/level (the default tool)', group: 'Measure' },
  { action: 'tool-length', keys: ['u'], label: 'Left drag: length ruler (mm)', group: 'Measure' },
  { action: 'tool-angle', keys: ['q'], label: 'Angle: drag one arm, then click the end of the other', group: 'Measure' },
  { action: 'tool-ellipse', keys: ['e'], label: 'Left drag: ellipse ROI (mean, sd, min, max, area)', group: 'Measure' },
  { action: 'tool-rectangle', keys: ['b'], label: 'Left drag: rectangle ROI', group: 'Measure' },
  { action: 'delete-measurement', keys: ['Delete', 'Backspace'], label: 'Delete the last measurement of this case', group: 'Measure' },
  { action: 'submit-next', keys: ['Enter'], label: 'Submit and go to the next case', group: 'Labeling' },
  { action: 'previous-case', keys: ['Enter'], shift: true, label: 'Previous case', group: 'Labeling' },
  { action: 'previous-case', keys: ['p'], label: 'Previous case', group: 'Labeling' },
  { action: 'next-case', keys: ['n'], label: 'Next case without labeling', group: 'Labeling' },
  { action: 'undo', keys: ['z', 'Z'], ctrl: true, label: 'Undo the last label change of this case', group: 'Labeling' },
  { action: 'accept', keys: ['a'], label: "Accept the model's suggestion", group: 'Labeling', when: 'task' },
  { action: 'skip', keys: ['s'], label: 'Skip this case (and go to the next)', group: 'Labeling', when: 'task' },
  { action: 'flag', keys: ['f'], label: 'Flag / unflag for review', group: 'Labeling', when: 'task' },
  { action: 'hold-out', keys: ['T'], label: 'Hold out for test / back to the pool (this case, or the Ctrl+clicked ones)', group: 'Labeling', when: 'task' },
  { action: 'search', keys: ['/'], label: 'Search the worklist', group: 'General' },
  { action: 'help', keys: ['?'], label: 'Show / hide this help (the keymap in effect; click a key to change it)', group: 'General' },
  { action: 'close', keys: ['Escape'], label: 'Close help and dialogs / leave the search box', group: 'General' },
];

export interface KeyLike {
  key: string;
  code: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

/** One key combination as a reader binds it: a key (or `code:DigitN`), with Shift / Ctrl. */
export interface KeyChord {
  key: string;
  shift?: boolean;
  ctrl?: boolean;
}

/** A reader's changes to the table: the new key of each rebound action (it replaces all of the action's keys). */
export type KeymapOverrides = Partial<Record<Action, KeyChord>>;

/** Keys that cannot be rebound: they stay reachable whatever a reader does. */
export const FIXED_ACTIONS: readonly Action[] = ['help', 'close'];

/** The table with a reader's overrides applied (an overridden action keeps its label, group and condition). */
export function applyOverrides(overrides: KeymapOverrides, base: readonly Binding[] = BINDINGS): Binding[] {
  const out: Binding[] = [];
  const done = new Set<Action>();
  for (const b of base) {
    const chord = FIXED_ACTIONS.includes(b.action) ? undefined : overrides[b.action];
    if (!chord) {
      out.push(b);
      continue;
    }
    // One binding per rebound action; presets (which differ by mode only in Shift) then apply in both modes.
    if (done.has(b.action)) continue;
    done.add(b.action);
    const when = b.when === 'task' ? 'task' : undefined;
    out.push({ action: b.action, label: b.label, group: b.group, keys: [chord.key], shift: chord.shift, ctrl: chord.ctrl, when });
  }
  return out;
}

/** Whether a binding applies in this context. */
export function isActive(b: Binding, ctx: KeyContext): boolean {
  if (b.when === 'task') return ctx.hasTask;
  const mode: InputMode = ctx.hasTask ? ctx.mode : 'view';
  if (b.when === 'view-mode') return mode === 'view';
  if (b.when === 'label-mode') return mode === 'label';
  return true;
}

/** Whether a key event presses a binding's keys (with its modifiers). */
export function pressesBinding(e: KeyLike, b: Pick<Binding, 'keys' | 'shift' | 'ctrl'>): boolean {
  const ctrl = e.ctrlKey || e.metaKey;
  if (e.altKey) return false;
  if (Boolean(b.ctrl) !== ctrl) return false;
  const byCode = b.keys.some((k) => k.startsWith('code:') && k.slice(5) === e.code);
  if (byCode) return Boolean(b.shift) === e.shiftKey;
  if (!b.keys.includes(e.key)) return false;
  // Letters and symbols already encode shift in `key` ('Z', '?', '+'); only named keys check it.
  return e.key.length > 1 ? Boolean(b.shift) === e.shiftKey : true;
}

/** The binding a key press triggers in this context. */
export function matchBinding(e: KeyLike, ctx: KeyContext, bindings: readonly Binding[] = BINDINGS): Binding | undefined {
  return bindings.find((b) => isActive(b, ctx) && pressesBinding(e, b));
}

/**
 * The chord a key press records when a reader rebinds an action. Digits are kept as physical keys so Shift+1
 * means the same on every layout; plain modifier presses record nothing.
 */
export function chordFromEvent(e: KeyLike): KeyChord | undefined {
  if (['Shift', 'Control', 'Alt', 'Meta', 'CapsLock', 'Tab'].includes(e.key)) return undefined;
  const ctrl = e.ctrlKey || e.metaKey || undefined;
  if (/^Digit\d$/.test(e.code)) return { key: `code:${e.code}`, shift: e.shiftKey || undefined, ctrl };
  return { key: e.key, shift: e.key.length > 1 ? e.shiftKey || undefined : undefined, ctrl };
}

/** Another action already on `chord` in a context where both apply (a class hotkey counts too), or undefined. */
export function conflictFor(
  action: Action,
  chord: KeyChord,
  bindings: readonly Binding[],
  classHotkeys: readonly string[] = [],
): string | undefined {
  const event: KeyLike = {
    key: chord.key.startsWith('code:Digit') ? chord.key.slice(10) : chord.key,
    code: chord.key.startsWith('code:') ? chord.key.slice(5) : '',
    shiftKey: Boolean(chord.shift),
    ctrlKey: Boolean(chord.ctrl),
    metaKey: false,
    altKey: false,
  };
  for (const ctx of [
    { hasTask: false, mode: 'view' },
    { hasTask: true, mode: 'view' },
    { hasTask: true, mode: 'label' },
  ] as KeyContext[]) {
    const other = bindings.find((b) => b.action !== action && isActive(b, ctx) && pressesBinding(event, b));
    if (other) return other.label;
    if (ctx.mode === 'label' && !chord.ctrl && !chord.shift && classHotkeys.includes(event.key)) return `the class hotkey ${event.key}`;
  }
  return undefined;
}

/** How a binding (or a chord) is written in the help overlay. */
export function keyLabel(b: Pick<Binding, 'keys' | 'shift' | 'ctrl'>): string {
  const names: Record<string, string> = { ' ': 'Space', ArrowDown: '↓', ArrowUp: '↑', ArrowLeft: '←', ArrowRight: '→' };
  const keys = b.keys.map((k) => (k.startsWith('code:Digit') ? k.slice(10) : (names[k] ?? k)));
  const unique = b.ctrl ? [...new Set(keys.map((k) => k.toLowerCase()))] : keys;
  const prefix = `${b.ctrl ? 'Ctrl+' : ''}${b.shift ? 'Shift+' : ''}`;
  return unique.map((k) => prefix + k).join(' / ');
}
