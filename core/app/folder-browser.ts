import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiFailure } from '../api/errors';
import type { FolderListingT } from '../api/contract';
import { DB_FILE } from '../store';

/** Most entries one listing returns; a folder of 100,000 DICOM files must not flood the page. */
export const MAX_ENTRIES = 2000;

/**
 * The folders browser mode may show: the user's home and every folder in MEDTUNE_ALLOWED_ROOTS
 * (separated like PATH), each with symlinks resolved. Folders that do not exist are left out.
 */
export function allowedRoots(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string[] {
  const listed = (env.MEDTUNE_ALLOWED_ROOTS ?? '').split(path.delimiter).filter((p) => path.isAbsolute(p.trim()));
  const roots: string[] = [];
  for (const candidate of [home, ...listed.map((p) => p.trim())]) {
    try {
      const real = fs.realpathSync(candidate);
      if (fs.statSync(real).isDirectory() && !roots.includes(real)) roots.push(real);
    } catch {
      // A root that does not exist (yet) cannot be browsed.
    }
  }
  return roots;
}

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/**
 * Lists one folder for the browser-mode folder picker. The folder's real path (symlinks resolved)
 * must lie inside an allowed root; so must every entry, so a link cannot lead the picker outside.
 */
export function browseFolder(dir: string | undefined, options: { files?: boolean; roots?: string[] } = {}): FolderListingT {
  const roots = options.roots ?? allowedRoots();
  if (roots.length === 0) throw new ApiFailure('not-found', 'No folder may be browsed: the home folder is missing and MEDTUNE_ALLOWED_ROOTS names none.');
  const typed = dir?.trim() ? dir.trim().replace(/^~(?=$|[\\/])/, os.homedir()) : roots[0];
  if (!path.isAbsolute(typed)) throw new ApiFailure('invalid', `"${typed}" is not a full path.`);
  let real: string;
  try {
    real = fs.realpathSync(typed);
  } catch {
    throw new ApiFailure('not-found', `The folder ${typed} does not exist.`);
  }
  if (!roots.some((r) => inside(r, real))) {
    throw new ApiFailure('invalid', `${typed} is outside the folders MedTune may browse (${roots.join(', ')}); set MEDTUNE_ALLOWED_ROOTS to allow more.`);
  }
  if (!fs.statSync(real).isDirectory()) throw new ApiFailure('invalid', `${typed} is a file, not a folder.`);
  const entries: FolderListingT['entries'] = [];
  let truncated = false;
  for (const dirent of fs.readdirSync(real, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (dirent.name.startsWith('.')) continue;
    const full = path.join(real, dirent.name);
    let kind: 'folder' | 'file' | null = dirent.isDirectory() ? 'folder' : dirent.isFile() ? 'file' : null;
    if (dirent.isSymbolicLink()) {
      try {
        const target = fs.realpathSync(full);
        if (!roots.some((r) => inside(r, target))) continue; // a link out of the allowed roots is not shown
        const stat = fs.statSync(target);
        kind = stat.isDirectory() ? 'folder' : stat.isFile() ? 'file' : null;
      } catch {
        continue; // a dangling link
      }
    }
    if (kind === null || (kind === 'file' && !options.files)) continue;
    if (entries.length >= MAX_ENTRIES) {
      truncated = true;
      break;
    }
    entries.push({ name: dirent.name, path: full, kind });
  }
  entries.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'folder' ? -1 : 1));
  const up = path.dirname(real);
  return {
    dir: real,
    parent: up !== real && roots.some((r) => inside(r, up)) ? up : null,
    roots,
    entries,
    isWorkspace: fs.existsSync(path.join(real, DB_FILE)),
    truncated,
  };
}
