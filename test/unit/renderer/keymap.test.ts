import { describe, expect, it } from 'vitest';
import { BINDINGS, keyLabel, matchBinding, type KeyLike } from '../../../renderer/src/input/keymap';
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

describe('keymap', () => {
  it('puts W/L presets on 1–5 without a task and on Shift+1–5 with one', () => {
    expect(matchBinding(key('1'), false)?.action).toBe('preset-1');
    expect(matchBinding(key('1'), true)).toBeUndefined();
    expect(matchBinding({ ...key('!'), code: 'Digit1', shiftKey: true }, true)?.action).toBe('preset-1');
    expect(matchBinding({ ...key('%'), code: 'Digit5', shiftKey: true }, true)?.action).toBe('preset-5');
  });

  it('tells Ctrl+Z (undo) from z (zoom) and Enter from Shift+Enter', () => {
    expect(matchBinding(key('z'), true)?.action).toBe('zoom-in');
    expect(matchBinding(key('z', { ctrlKey: true }), true)?.action).toBe('undo');
    expect(matchBinding(key('Enter'), true)?.action).toBe('submit-next');
    expect(matchBinding(key('Enter', { shiftKey: true }), true)?.action).toBe('previous-case');
  });

  it('offers labeling actions only when a task exists', () => {
    expect(matchBinding(key('a'), true)?.action).toBe('accept');
    expect(matchBinding(key('a'), false)).toBeUndefined();
  });

  it('binds each key combination to one action per task state', () => {
    for (const hasTask of [true, false]) {
      const seen = new Map<string, string>();
      for (const b of BINDINGS.filter((b) => !b.when || (b.when === 'task') === hasTask)) {
        for (const k of b.keys) {
          const id = `${b.ctrl ? 'C' : ''}${b.shift ? 'S' : ''}${k}`;
          expect(seen.get(id) ?? b.action, `${id} bound twice`).toBe(b.action);
          seen.set(id, b.action);
        }
      }
    }
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
