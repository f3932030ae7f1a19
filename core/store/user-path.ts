import os from 'node:os';
import path from 'node:path';
import { WorkspaceError } from './errors';

/** `~` alone or followed by a separator; `~user` is not expanded (the shell's job, and ambiguous). */
const HOME_PREFIX = /^~(?=$|[\\/])/;

export interface UserPathOptions {
  /** The user's home folder (default: os.homedir()). */
  home?: string;
  /**
   * Folder a relative path resolves against. Give it only where a relative path has a meaning the
   * person expects (the CLI: the shell's working directory); without it a relative path is refused,
   * because a server's working directory means nothing to someone typing into a browser.
   */
  base?: string;
}

/**
 * A folder path typed by a person, made absolute: `~` and `~/…` become the home folder, an absolute
 * path is normalised, and a relative one resolves against `base` or is refused with a clear message.
 */
export function resolveUserPath(input: string, opts: UserPathOptions = {}): string {
  const typed = input.trim();
  if (typed === '') throw new WorkspaceError('invalid', 'A folder path is required.');
  if (HOME_PREFIX.test(typed)) return path.resolve(opts.home ?? os.homedir(), '.' + typed.slice(1));
  if (path.isAbsolute(typed)) return path.resolve(typed);
  if (opts.base !== undefined) return path.resolve(opts.base, typed);
  const example = path.join(opts.home ?? os.homedir(), typed);
  throw new WorkspaceError('invalid', `"${typed}" is a relative path; give the full path of the folder, e.g. ${example} (or ~/${typed}).`);
}
