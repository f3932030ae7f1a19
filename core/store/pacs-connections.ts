import type { Database } from 'better-sqlite3';

/** One stored PACS connection: its name and its configuration as core/pacs wrote it (JSON, no secrets). */
export interface StoredPacsConnection {
  name: string;
  config: unknown;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  name: string;
  config: string;
  created_at: string;
  updated_at: string;
}

const fromRow = (r: Row): StoredPacsConnection => ({
  name: r.name,
  config: JSON.parse(r.config) as unknown,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * The workspace's named PACS connections. The store keeps the configuration opaque: core/pacs validates
 * it and keeps secrets out of it (only references to them), so an export or backup reveals no password.
 */
export class PacsConnectionService {
  constructor(private readonly db: Database) {}

  list(): StoredPacsConnection[] {
    return (this.db.prepare('SELECT * FROM pacs_connections ORDER BY name').all() as Row[]).map(fromRow);
  }

  get(name: string): StoredPacsConnection | undefined {
    const row = this.db.prepare('SELECT * FROM pacs_connections WHERE name = ?').get(name) as Row | undefined;
    return row && fromRow(row);
  }

  /** Adds or replaces the connection called `name`. */
  put(name: string, config: unknown): StoredPacsConnection {
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO pacs_connections (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
      )
      .run(name, JSON.stringify(config), now, now);
    return this.get(name)!;
  }

  /** Whether a connection by that name existed. */
  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM pacs_connections WHERE name = ?').run(name).changes > 0;
  }
}
