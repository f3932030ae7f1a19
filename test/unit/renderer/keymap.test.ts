import { describe, expect, it } from 'vitest';
import {
  applyOverrides,
  BINDINGS,
  chordFromEvent,
  conflictFor,
  isActive,
  keyLabel,
  matchBinding,
  type KeyContext,
  type KeyLike,
} from '../../../renderer/src/input/keymap';
import { shrink } from '../../../core/app/viewer-images';

const key = (k: string, extra: Partial<KeyLike> = {}): KeyLike => ({
  key: k,
  code: /^\d$/.test(k) ? `Digit${k}` : '',
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...extra,
});

const NO_TASK: KeyContext = { hasTask: false, mode: 'label' };
const LABEL: KeyContext = { hasTask: true, mode: 'label' };
const VIEW: KeyContext = { hasTask: true, mode: 'view' };

describe('keymap', () => {
  it('puts W/L presets on 1–5 in view mode (and without a task) and on Shift+1–5 in label mode', () => {
    expect(matchBinding(key('1'), NO_TASK)?.action).toBe('preset-1');
    expect(matchBinding(key('1'), VIEW)?.action).toBe('preset-1');
    expect(matchBinding(key('1'), LABEL)).toBeUndefined();
    expect(matchBinding({ ...key('!'), code: 'Digit1', shiftKey: true }, LABEL)?.action).toBe('preset-1');
    expect(matchBinding({ ...key('%'), code: 'Digit5', shiftKey: true }, LABEL)?.action).toBe('preset-5');
    expect(matchBinding({ ...key('%'), code: 'Digit5', shiftKey: true }, VIEW)).toBeUndefined();
  });

  it('holds a case out for test with T (Shift+t) while t stays the tag browser', () => {
    expect(matchBinding(key('T', { shiftKey: true }), LABEL)?.action).toBe('hold-out');
    expect(matchBinding(key('T', { shiftKey: true }), NO_TASK)).toBeUndefined();
    expect(matchBinding(key('t'), LABEL)?.action).toBe('tags');
  });

  it('toggles the mode with m only when there is a task to label', () => {
    expect(matchBinding(key('m'), LABEL)?.action).toBe('toggle-mode');
    expect(matchBinding(key('m'), NO_TASK)).toBeUndefined();
  });

  it('tells Ctrl+Z (undo) from z (zoom) and Enter from Shift+Enter', () => {
    expect(matchBinding(key('z'), LABEL)?.action).toBe('zoom-in');
    expect(matchBinding(key('z', { ctrlKey: true }), LABEL)?.action).toBe('undo');
    expect(matchBinding(key('Enter'), LABEL)?.action).toBe('submit-next');
    expect(matchBinding(key('Enter', { shiftKey: true }), LABEL)?.action).toBe('previous-case');
  });

  it('offers labeling actions only when a task exists', () => {
    expect(matchBinding(key('a'), LABEL)?.action).toBe('accept');
    expect(matchBinding(key('a'), NO_TASK)).toBeUndefined();
  });

  it('binds each key combination to one action per context', () => {
    for (const ctx of [NO_TASK, LABEL, VIEW]) {
      const seen = new Map<string, string>();
      for (const b of BINDINGS.filter((b) => isActive(b, ctx))) {
        for (const k of b.keys) {
          const id = `${b.ctrl ? 'C' : ''}${b.shift ? 'S' : ''}${k}`;
          expect(seen.get(id) ?? b.action, `${id} bound twice`).toBe(b.action);
          seen.set(id, b.action);
        }
      }
    }
  });

  it("applies a reader's rebound key in place of the default, in every mode for presets", () => {
    const bindings = applyOverrides({ invert: { key: 'k' }, 'preset-2': { key: 'F2' } });
    expect(matchBinding(key('k'), LABEL, bindings)?.action).toBe('invert');
    expect(matchBinding(key('i'), LABEL, bindings)).toBeUndefined();
    expect(matchBinding(key('F2'), LABEL, bindings)?.action).toBe('preset-2');
    expect(matchBinding(key('F2'), VIEW, bindings)?.action).toBe('preset-2');
    expect(matchBinding(key('2'), VIEW, bindings)).toBeUndefined();
    // Help and close stay where they are whatever is stored.
    expect(matchBinding(key('?'), LABEL, applyOverrides({ help: { key: 'k' } }))?.action).toBe('help');
  });

  it('records digits as physical keys and reports clashes, class hotkeys included', () => {
    expect(chordFromEvent({ ...key('!'), code: 'Digit1', shiftKey: true })).toEqual({ key: 'code:Digit1', shift: true, ctrl: undefined });
    expect(chordFromEvent(key('Shift'))).toBeUndefined();
    expect(conflictFor('invert', { key: 'r' }, BINDINGS)).toMatch(/Rotate/);
    expect(conflictFor('invert', { key: 'code:Digit1' }, BINDINGS)).toMatch(/W\/L preset/);
    expect(conflictFor('invert', { key: 'k' }, BINDINGS, ['k'])).toMatch(/class hotkey k/);
    expect(conflictFor('invert', { key: 'k' }, BINDINGS)).toBeUndefined();
  });

  it('writes keys for people', () => {
    expect(keyLabel(BINDINGS.find((b) => b.action === 'undo')!)).toBe('Ctrl+z');
    expect(keyLabel(BINDINGS.find((b) => b.action === 'reset')!)).toBe('Space');
  });
});

describe('thumbnail shrink', () => {
  it('box-averages to the longer side and never enlarges', () => {
    const rgba = new Uint8ClampedArray(4 * 4 * 4);
    for (let i = 0; i < 16; i++) rgba.set([i < 8 ? 0 : 200, 10, 20, 255], i * 4); // top half black, bottom half red
    const half = shrink(rgba, 4, 4, 2);
    expect([half.width, half.height]).toEqual([2, 2]);
    expect(Array.from(half.rgba.slice(0, 4))).toEqual([0, 10, 20, 255]);
    expect(Array.from(half.rgba.slice(8, 12))).toEqual([200, 10, 20, 255]);
    expect(shrink(rgba, 4, 4, 64).width).toBe(4);
  });
});
