import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkspaceError, resolveUserPath } from '../../../core/store';

const home = path.resolve('/home/rad');

describe('resolveUserPath', () => {
  it('expands ~ and ~/… to the home folder', () => {
    expect(resolveUserPath('~', { home })).toBe(home);
    expect(resolveUserPath('~/', { home })).toBe(home);
    expect(resolveUserPath('~/medtune/test', { home })).toBe(path.join(home, 'medtune', 'test'));
    expect(resolveUserPath('  ~/medtune/test/  ', { home })).toBe(path.join(home, 'medtune', 'test'));
  });

  it('keeps absolute paths, normalised', () => {
    expect(resolveUserPath('/data/ws/../ws2/', { home })).toBe(path.resolve('/data/ws2'));
  });

  it('refuses a relative path without a base, naming it and suggesting a full path', () => {
    for (const typed of ['medtune/test', './ws', '~bob/ws', '~~/ws', 'ws~']) {
      let error: unknown;
      try {
        resolveUserPath(typed, { home });
      } catch (err) {
        error = err;
      }
      expect(error, typed).toBeInstanceOf(WorkspaceError);
      expect((error as WorkspaceError).code).toBe('invalid');
      expect((error as WorkspaceError).message).toContain(`"${typed}" is a relative path`);
      expect((error as WorkspaceError).message).toContain(path.join(home, typed));
    }
  });

  it('resolves a relative path against the given base (the CLI passes the shell’s cwd)', () => {
    const base = path.resolve('/work/here');
    expect(resolveUserPath('ws', { home, base })).toBe(path.join(base, 'ws'));
    expect(resolveUserPath('../ws', { home, base })).toBe(path.resolve('/work/ws'));
    expect(resolveUserPath('~/ws', { home, base })).toBe(path.join(home, 'ws'));
  });

  it('refuses an empty path', () => {
    expect(() => resolveUserPath('   ', { home, base: '/x' })).toThrow(/path is required/);
  });
});
