import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';

export const BLOBS_DIR = 'blobs';
export const TMP_DIR = 'tmp';

export interface BlobRecord {
  sha256: string;
  size: number;
  location: 'workspace' | 'external';
  externalPath?: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Content-addressed files under `blobs/ab/cdef…`. Bytes are written to `tmp/`, fsynced, then renamed
 * into place, so a blob file either is complete or does not exist; the database row is written by
 * the caller's transaction only after the file is durable.
 */
export class BlobStore {
  constructor(
    readonly workspaceDir: string,
    private readonly db: Database,
  ) {}

  pathFor(sha256: string): string {
    return path.join(this.workspaceDir, BLOBS_DIR, sha256.slice(0, 2), sha256.slice(2));
  }

  /**
   * Writes the file for `bytes` if absent (no database row); returns its SHA-256. Batch writers pass
   * `pendingDirs` to fsync each touched folder once (with `syncDirs`) before committing their rows.
   */
  writeFile(bytes: Uint8Array, sha256 = sha256Hex(bytes), pendingDirs?: Set<string>): string {
    const finalPath = this.pathFor(sha256);
    if (fs.existsSync(finalPath) && fs.statSync(finalPath).size === bytes.byteLength) return sha256;
    const tmpDir = path.join(this.workspaceDir, TMP_DIR);
    fs.mkdirSync(tmpDir, { recursive: true });
    const tmpPath = path.join(tmpDir, `${sha256.slice(0, 16)}-${randomBytes(6).toString('hex')}.part`);
    const fd = fs.openSync(tmpPath, 'w');
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const dir = path.dirname(finalPath);
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(tmpPath, finalPath);
    if (pendingDirs) pendingDirs.add(dir);
    else fsyncDir(dir);
    return sha256;
  }

  /**
   * `writeFile` through the thread pool: many blob files can be flushed to disk at once, which on an
   * SSD is several times faster than one fsync after another. Same temp-then-rename protocol.
   */
  async writeFileAsync(bytes: Uint8Array, sha256: string, pendingDirs: Set<string>): Promise<string> {
    const finalPath = this.pathFor(sha256);
    const existing = await fs.promises.stat(finalPath).catch(() => undefined);
    if (existing && existing.size === bytes.byteLength) return sha256;
    const tmpDir = path.join(this.workspaceDir, TMP_DIR);
    await fs.promises.mkdir(tmpDir, { recursive: true });
    const tmpPath = path.join(tmpDir, `${sha256.slice(0, 16)}-${randomBytes(6).toString('hex')}.part`);
    const handle = await fs.promises.open(tmpPath, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    const dir = path.dirname(finalPath);
    await fs.promises.mkdir(dir, { recursive: true });
    await fs.promises.rename(tmpPath, finalPath);
    pendingDirs.add(dir);
    return sha256;
  }

  /** Makes the renames into these folders durable (see `writeFile`). */
  syncDirs(dirs: Set<string>): void {
    for (const dir of dirs) fsyncDir(dir);
    dirs.clear();
  }

  /** Stores bytes as a workspace blob and records it (idempotent). */
  put(bytes: Uint8Array): string {
    const sha256 = this.writeFile(bytes);
    this.record({ sha256, size: bytes.byteLength, location: 'workspace' });
    return sha256;
  }

  /** Inserts the blob row if absent. Call inside the transaction that first refers to the blob. */
  record(blob: BlobRecord): void {
    this.db
      .prepare(
        `INSERT INTO blobs (sha256, size, location, external_path, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (sha256) DO NOTHING`,
      )
      .run(blob.sha256, blob.size, blob.location, blob.externalPath ?? null, new Date().toISOString());
  }

  get(sha256: string): BlobRecord | undefined {
    const row = this.db
      .prepare('SELECT sha256, size, location, external_path AS externalPath FROM blobs WHERE sha256 = ?')
      .get(sha256) as (BlobRecord & { externalPath: string | null }) | undefined;
    if (!row) return undefined;
    return { ...row, externalPath: row.externalPath ?? undefined };
  }

  /** Where the bytes of a recorded blob live (the workspace copy, or the referenced original). */
  locate(sha256: string): string {
    const blob = this.get(sha256);
    if (!blob) throw new WorkspaceError('blob-missing', `No blob ${sha256} in this workspace`);
    return blob.location === 'external' && blob.externalPath ? blob.externalPath : this.pathFor(sha256);
  }

  /** Reads a blob, checking that a referenced file still has the bytes it had when imported. */
  read(sha256: string): Buffer {
    const blob = this.get(sha256);
    if (!blob) throw new WorkspaceError('blob-missing', `No blob ${sha256} in this workspace`);
    return this.readRecorded(blob);
  }

  /** Many blobs with one lookup of their records (e.g. every embedding of a pool); a missing one throws as `read` does. */
  readMany(sha256s: readonly string[]): Map<string, Buffer> {
    const rows = this.db
      .prepare('SELECT sha256, size, location, external_path AS externalPath FROM blobs WHERE sha256 IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify([...new Set(sha256s)])) as (BlobRecord & { externalPath: string | null })[];
    const records = new Map(rows.map((r) => [r.sha256, { ...r, externalPath: r.externalPath ?? undefined }]));
    const out = new Map<string, Buffer>();
    for (const sha of sha256s) {
      if (out.has(sha)) continue;
      const blob = records.get(sha);
      if (!blob) throw new WorkspaceError('blob-missing', `No blob ${sha} in this workspace`);
      out.set(sha, this.readRecorded(blob));
    }
    return out;
  }

  private readRecorded(blob: BlobRecord): Buffer {
    const file = blob.location === 'external' && blob.externalPath ? blob.externalPath : this.pathFor(blob.sha256);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      throw new WorkspaceError('blob-missing', `${file}: cannot read blob ${blob.sha256} (${(err as Error).message})`);
    }
    if (blob.location === 'external' && sha256Hex(bytes) !== blob.sha256) {
      throw new WorkspaceError('blob-missing', `${file}: the referenced file changed since it was imported`);
    }
    return bytes;
  }

  exists(sha256: string): boolean {
    try {
      return fs.statSync(this.locate(sha256)).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Removes temp files left by an interrupted write (never renamed into place, so nothing refers to
   * them). Only old ones: another process (the trainer) may be writing one right now.
   */
  cleanTemp(olderThanMs = 60 * 60 * 1000): void {
    const tmpDir = path.join(this.workspaceDir, TMP_DIR);
    if (!fs.existsSync(tmpDir)) return;
    const cutoff = Date.now() - olderThanMs;
    for (const name of fs.readdirSync(tmpDir)) {
      const file = path.join(tmpDir, name);
      try {
        if (name.endsWith('.part') && fs.statSync(file).mtimeMs <= cutoff) fs.rmSync(file, { force: true });
      } catch {
        // Already gone (another process cleaned it): nothing to do.
      }
    }
  }
}

/** Makes a rename durable; directories cannot be fsynced on Windows, where rename is already durable. */
function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
