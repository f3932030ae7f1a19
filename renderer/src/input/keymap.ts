/**
 * Every keyboard shortcut in one table: the global key handler dispatches from it and the help
 * overlay lists it, so the two cannot disagree. Class hotkeys come from the label task and are
 * added at run time (see useShortcuts).
 *
 * Decision: when a label task exists, the number keys belong to its classes (one hand labels
 * without looking) and the W/L presets move to Shift+1…5; without a task, 1…5 are the presets.
 */
export type Action =
  | 'preset-1' | 'preset-2' | 'preset-3' | 'preset-4' | 'preset-5'
  | 'zoom-in' | 'zoom-out' | 'fit' | 'invert' | 'rotate-right' | 'rotate-left' | 'flip-h' | 'flip-v'
  | 'reset' | 'cine' | 'frame-next' | 'frame-previous' | 'red-free' | 'deidentify'
  | 'submit-next' | 'previous-case' | 'next-case' | 'undo' | 'accept' | 'skip' | 'flag'
  | 'help' | 'close' | 'search';

export interface Binding {
  action: Action;
  /** KeyboardEvent.key (case-sensitive for letters), or a `code:` prefix for physical keys. */
  keys: string[];
  shift?: boolean;
  ctrl?: boolean;
  /** Shown in the help overlay. */
  label: string;
  group: 'Viewer' | 'Labeling' | 'General';
  /** Only while a label task exists / only while none does. */
  when?: 'task' | 'no-task';
}

export const WL_PRESETS = [
  { name: 'Soft tissue', width: 400, center: 40 },
  { name: 'Lung', width: 1500, center: -600 },
  { name: 'Liver', width: 150, center: 90 },
  { name: 'Bone', width: 2500, center: 480 },
  { name: 'Brain', width: 80, center: 40 },
] as const;

const presetBindings = (when: 'task' | 'no-task'): Binding[] =>
  WL_PRESETS.map((p, i) => ({
    action: `preset-${i + 1}` as Action,
    keys: [`code:Digit${i + 1}`],
    shift: when === 'task',
    label: `W/L preset: ${p.name} ${p.width}/${p.center}`,
    group: 'Viewer',
    when,
  }));

export const BINDINGS: Binding[] = [
  ...presetBindings('no-task'),
  ...presetBindings('task'),
  { action: 'zoom-in', keys: ['z', '+', '='], label: 'Zoom in (also the mouse wheel, or right-drag)', group: 'Viewer' },
  { action: 'zoom-out', keys: ['Z', '-'], label: 'Zoom out', group: 'Viewer' },
  { action: 'fit', keys: ['x'], label: 'Fit the image to the viewport', group: 'Viewer' },
  { action: 'invert', keys: ['i'], label: 'Invert', group: 'Viewer' },
  { action: 'rotate-right', keys: ['r'], label: 'Rotate 90° clockwise', group: 'Viewer' },
  { action: 'rotate-left', keys: ['l'], label: 'Rotate 90° counter-clockwise', group: 'Viewer' },
  { action: 'flip-h', keys: ['h'], label: 'Flip horizontally', group: 'Viewer' },
  { action: 'flip-v', keys: ['v'], label: 'Flip vertically', group: 'Viewer' },
  { action: 'reset', keys: [' '], label: 'Reset the view (W/L, zoom, pan, rotation)', group: 'Viewer' },
  { action: 'cine', keys: ['c'], label: 'Cine: play / stop the frames', group: 'Viewer' },
  { action: 'frame-next', keys: ['ArrowDown', 'ArrowRight', 'PageDown'], label: 'Next frame / slice', group: 'Viewer' },
  { action: 'frame-previous', keys: ['ArrowUp', 'ArrowLeft', 'PageUp'], label: 'Previous frame / slice', group: 'Viewer' },
  { action: 'red-free', keys: ['g'], label: 'Red-free (green channel) for fundus photos', group: 'Viewer' },
  { action: 'deidentify', keys: ['d'], label: 'Hide / show patient identity in the overlay', group: 'Viewer' },
  { action: 'submit-next', keys: ['Enter'], label: 'Submit and go to the next case', group: 'Labeling' },
  { action: 'previous-case', keys: ['Enter'], shift: true, label: 'Previous case', group: 'Labeling' },
  { action: 'previous-case', keys: ['p'], label: 'Previous case', group: 'Labeling' },
  { action: 'next-case', keys: ['n'], label: 'Next case without labeling', group: 'Labeling' },
  { action: 'undo', keys: ['z', 'Z'], ctrl: true, label: 'Undo the last label change of this case', group: 'Labeling' },
  { action: 'accept', keys: ['a'], label: "Accept the model's suggestion", group: 'Labeling', when: 'task' },
  { action: 'skip', keys: ['s'], label: 'Skip this case (and go to the next)', group: 'Labeling', when: 'task' },
  { action: 'flag', keys: ['f'], label: 'Flag / unflag for review', group: 'Labeling', when: 'task' },
  { action: 'search', keys: ['/'], label: 'Search the worklist', group: 'General' },
  { action: 'help', keys: ['?'], label: 'Show / hide this help', group: 'General' },
  { action: 'close', keys: ['Escape'], label: 'Close help / leave the search box', group: 'General' },
];

export interface KeyLike {
  key: string;
  code: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

/** The binding a key press triggers, given whether a label task exists. */
export function matchBinding(e: KeyLike, hasTask: boolean): Binding | undefined {
  const ctrl = e.ctrlKey || e.metaKey;
  if (e.altKey) return undefined;
  return BINDINGS.find((b) => {
    if (b.when === 'task' && !hasTask) return false;
    if (b.when === 'no-task' && hasTask) return false;
    if (Boolean(b.ctrl) !== ctrl) return false;
    const byCode = b.keys.some((k) => k.startsWith('code:') && k.slice(5) === e.code);
    if (byCode) return Boolean(b.shift) === e.shiftKey;
    if (!b.keys.includes(e.key)) return false;
    // Letters and symbols already encode shift in `key` ('Z', '?', '+'); only named keys check it.
    return e.key.length > 1 ? Boolean(b.shift) === e.shiftKey : true;
  });
}

/** How a binding is written in the help overlay. */
export function keyLabel(b: Binding): string {
  const names: Record<string, string> = { ' ': 'Space', ArrowDown: '↓', ArrowUp: '↑', ArrowLeft: '←', ArrowRight: '→' };
  const keys = b.keys.map((k) => (k.startsWith('code:Digit') ? k.slice(10) : (names[k] ?? k)));
  const unique = b.ctrl ? [...new Set(keys.map((k) => k.toLowerCase()))] : keys;
  const prefix = `${b.ctrl ? 'Ctrl+' : ''}${b.shift ? 'Shift+' : ''}`;
  return unique.map((k) => prefix + k).join(' / ');
}
