import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DB_FILE, MIGRATIONS, SCHEMA_VERSION, Workspace, WorkspaceError } from '../../../core/store';
import { tempDir } from './helpers/fixtures';
import { databaseOf } from '../../../core/store/workspace';

function errorOf(fn: () => unknown): WorkspaceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WorkspaceError) return err;
    throw err;
  }
  throw new Error('expected a WorkspaceError');
}

describe('Workspace.create / open', () => {
  it('creates a workspace in an absent folder and reopens it', () => {
    const dir = path.join(tempDir(), 'ws');
    const ws = Workspace.create(dir, { name: 'Chest study' });
    const info = ws.info();
    expect(info).toMatchObject({ dir, name: 'Chest study', schemaVersion: SCHEMA_VERSION, caseCount: 0 });
    expect(Number.isNaN(Date.parse(info.createdAt))).toBe(false);
    expect(databaseOf(ws).pragma('journal_mode', { simple: true })).toBe('wal');
    expect(databaseOf(ws).pragma('foreign_keys', { simple: true })).toBe(1);
    ws.close();

    const again = Workspace.open(dir);
    expect(again.info().name).toBe('Chest study');
    expect(again.migrationBackup).toBeUndefined();
    expect(again.listCases({})).toEqual({ total: 0, items: [] });
    again.close();
  });

  it('accepts an empty existing folder and names the workspace after it', () => {
    const dir = tempDir();
    const ws = Workspace.create(dir);
    expect(ws.info().name).toBe(path.basename(dir));
    ws.close();
  });

  it('refuses to create in a folder that has files', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
    expect(errorOf(() => Workspace.create(dir)).code).toBe('not-empty');
  });

  it('refuses a folder that is not a workspace, and a foreign SQLite file', () => {
    const dir = tempDir();
    const e1 = errorOf(() => Workspace.open(dir));
    expect(e1.code).toBe('not-a-workspace');
    expect(e1.message).toContain(dir);

    const foreign = new BetterSqlite3(path.join(dir, DB_FILE));
    foreign.exec('CREATE TABLE t (x)');
    foreign.close();
    expect(errorOf(() => Workspace.open(dir)).code).toBe('not-a-workspace');

    fs.writeFileSync(path.join(dir, DB_FILE), 'this is not a database at all, just text'.repeat(50));
    expect(errorOf(() => Workspace.open(dir)).code).toBe('not-a-workspace');
  });

  it('refuses a workspace written by a newer schema, and leaves it untouched', () => {
    const dir = tempDir();
    Workspace.create(dir).close();
    const raw = new BetterSqlite3(path.join(dir, DB_FILE));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    const err = errorOf(() => Workspace.open(dir));
    expect(err.code).toBe('schema-too-new');
    expect(err.message).toMatch(/newer MedTune/);
    const check = new BetterSqlite3(path.join(dir, DB_FILE));
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 5);
    check.close();
    expect(fs.existsSync(path.join(dir, 'backups'))).toBe(false);
  });

  it('backs up with VACUUM INTO, then migrates an older workspace forward', () => {
    const dir = tempDir();
    const ws = Workspace.create(dir);
    ws.tasks.create({ name: 'grade', kind: 'multiclass', classes: ['a', 'b'] });
    ws.close();

    const addNotes = (db: BetterSqlite3.Database) => db.exec('ALTER TABLE tasks ADD COLUMN notes TEXT');
    const migrated = Workspace.open(dir, { migrations: [...MIGRATIONS, addNotes] });
    expect(migrated.info().schemaVersion).toBe(SCHEMA_VERSION + 1);
    const columns = (databaseOf(migrated).pragma('table_info(tasks)') as { name: string }[]).map((c) => c.name);
    expect(columns).toContain('notes');
    const backup = migrated.migrationBackup;
    expect(backup).toBeDefined();
    migrated.close();

    // The backup is the workspace as it was before the migration, with its data.
    const old = new BetterSqlite3(backup as string, { readonly: true });
    expect(old.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(old.prepare('SELECT name FROM tasks').all()).toEqual([{ name: 'grade' }]);
    expect((old.pragma('table_info(tasks)') as { name: string }[]).map((c) => c.name)).not.toContain('notes');
    old.close();
  });

  it('rolls back a failing migration entirely and keeps the old version', () => {
    const dir = tempDir();
    Workspace.create(dir).close();
    const broken = (db: BetterSqlite3.Database) => {
      db.exec('ALTER TABLE tasks ADD COLUMN half TEXT');
      throw new Error('boom');
    };
    expect(() => Workspace.open(dir, { migrations: [...MIGRATIONS, broken] })).toThrow('boom');
    const ws = Workspace.open(dir);
    expect(ws.info().schemaVersion).toBe(SCHEMA_VERSION);
    expect((databaseOf(ws).pragma('table_info(tasks)') as { name: string }[]).map((c) => c.name)).not.toContain('half');
    ws.close();
  });
});
