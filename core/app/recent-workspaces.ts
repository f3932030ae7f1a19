import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RecentWorkspaceT } from '../api/contract';

/** How many workspaces the list keeps. */
export const MAX_RECENT = 10;

/** ~/.config/medtune/recent.json (XDG_CONFIG_HOME when set): per user, outside any workspace. */
export function recentFile(env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(config, 'medtune', 'recent.json');
}

/** The recently opened workspaces, newest first; a missing or unreadable file is an empty list. */
export function readRecent(file = recentFile()): RecentWorkspaceT[] {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (r): r is RecentWorkspaceT =>
        !!r && typeof r === 'object' && typeof r.dir === 'string' && typeof r.name === 'string' && typeof r.openedAt === 'string',
    );
  } catch {
    return [];
  }
}

/** Puts a workspace at the top of the list; written to a temporary file and renamed, so a crash never leaves half a file. */
export function rememberWorkspace(entry: { dir: string; name: string }, file = recentFile()): void {
  const list = [{ ...entry, openedAt: new Date().toISOString() }, ...readRecent(file).filter((r) => r.dir !== entry.dir)].slice(0, MAX_RECENT);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(list, null, 2) + '\n');
  fs.renameSync(tmp, file);
}
