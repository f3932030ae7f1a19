import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { BlobStore } from './blobs';
import { WorkspaceError } from './errors';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './schema';
import { listCases, worklistGroups, type CaseSummary, type WorklistPatientGroup, type WorklistQuery } from './worklist';
import { CaseService } from './cases';
import { importFiles, insertImportRecords, type ImportOptions, type ImportRecord, type ImportReport } from './import';
import { LabelService } from './labels';
import { PacsConnectionService } from './pacs-connections';
import { PacsOriginService } from './pacs-origins';
import { PredictionService } from './predictions';
import { MaskService } from './masks';
import { MeasurementService } from './measurements';
import { CommentService } from './comments';
import { ReviewMarkService } from './review-marks';
import { ReaderService } from './readers';
import { ReadService } from './reads';
import { agreementReport, type AgreementReport } from './agreement';
import type { BootstrapOptions } from '../util/agreement';
import { RunService } from './runs';
import { SeriesService } from './series';
import { SplitService } from './splits';
import { SuggestionService } from './suggestions';
import { TaskService } from './tasks';
import { VersionService } from './versions';

export const DB_FILE = 'medtune.sqlite';
export const BACKUPS_DIR = 'backups';
const APP_MARKER = 'medtune-workspace';

export interface WorkspaceInfo {
  dir: string;
  name: string;
  schemaVersion: number;
  caseCount: number;
  createdAt: string;
}

export interface OpenOptions {
  /** Replaces the built-in migrations (tests of the migration machinery only). */
  migrations?: readonly Migration[];
  /** Open read-only: no migrations, no writes (inspection tools). */
  readonly?: boolean;
}

/**
 * An open workspace folder: `medtune.sqlite` (WAL, foreign keys on) plus content-addressed blobs.
 * One connection per process; other processes (the trainer) open their own.
 */
export class Workspace {
  readonly blobs: BlobStore;
  readonly cases: CaseService;
  readonly tasks: TaskService;
  readonly labels: LabelService;
  readonly versions: VersionService;
  readonly runs: RunService;
  readonly predictions: PredictionService;
  readonly suggestions: SuggestionService;
  /** Skip and flag-for-review marks per (task, case). */
  readonly reviewMarks: ReviewMarkService;
  readonly measurements: MeasurementService;
  /** Segmentation masks per (task, case, frame), an append-only event log. */
  readonly masks: MaskService;
  readonly comments: CommentService;
  /** Per-task train / validation / test assignment of labelled cases. */
  readonly splits: SplitService;
  /** Series and studies: stacks, the model's case of a series task, hanging partners. */
  readonly series: SeriesService;
  /** Named PACS connections (configuration only; secrets are references). */
  readonly pacsConnections: PacsConnectionService;
  /** Reader profiles (name, role, PIN). */
  readonly readers: ReaderService;
  /** Blind reads, case states and adjudication of tasks read k > 1 times. */
  readonly reads: ReadService;
  /** Where retrieved cases came from (connection, study, series). */
  readonly pacsOrigins: PacsOriginService;
  /** The backup written before migrating this workspace on open, if one was. */
  readonly migrationBackup?: string;

  private constructor(
    readonly dir: string,
    private readonly db: Database,
    migrationBackup?: string,
  ) {
    databases.set(this, db);
    this.blobs = new BlobStore(dir, db);
    this.cases = new CaseService(db, this.blobs);
    this.tasks = new TaskService(db);
    this.labels = new LabelService(db);
    this.versions = new VersionService(db, this.blobs);
    this.runs = new RunService(db);
    this.predictions = new PredictionService(db, this.blobs);
    this.suggestions = new SuggestionService(db);
    this.reviewMarks = new ReviewMarkService(db);
    this.measurements = new MeasurementService(db);
    this.masks = new MaskService(db);
    this.comments = new CommentService(db);
    this.splits = new SplitService(db);
    this.series = new SeriesService(db, this.blobs);
    this.pacsConnections = new PacsConnectionService(db);
    this.readers = new ReaderService(db);
    this.reads = new ReadService(db);
    this.pacsOrigins = new PacsOriginService(db);
    this.migrationBackup = migrationBackup;
  }

  /** Makes the folder (which must be empty or absent) and a fresh schema; returns it open. */
  static create(dir: string, opts: { name?: string } & OpenOptions = {}): Workspace {
    const abs = path.resolve(dir);
    if (fs.existsSync(abs)) {
      if (!fs.statSync(abs).isDirectory()) throw new WorkspaceError('not-empty', `${abs} exists and is not a folder`);
      if (fs.readdirSync(abs).length > 0) {
        throw new WorkspaceError('not-empty', `${abs} is not empty; a new workspace needs an empty or absent folder`);
      }
    }
    fs.mkdirSync(abs, { recursive: true });
    const db = openDatabase(path.join(abs, DB_FILE), false);
    try {
      const migrations = opts.migrations ?? MIGRATIONS;
      migrate(db, 0, migrations);
      const now = new Date().toISOString();
      const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        setMeta.run('app', APP_MARKER);
        setMeta.run('name', opts.name ?? path.basename(abs));
        setMeta.run('created_at', now);
      })();
    } catch (err) {
      db.close();
      throw err;
    }
    return new Workspace(abs, db);
  }

  /** Opens an existing workspace, migrating it forward (after a backup) when it is older. */
  static open(dir: string, opts: OpenOptions = {}): Workspace {
    const abs = path.resolve(dir);
    const dbPath = path.join(abs, DB_FILE);
    if (!fs.existsSync(dbPath)) {
      throw new WorkspaceError('not-a-workspace', `${abs} is not a MedTune workspace (no ${DB_FILE})`);
    }
    let db: Database;
    try {
      db = openDatabase(dbPath, opts.readonly ?? false);
    } catch (err) {
      throw new WorkspaceError('not-a-workspace', `${dbPath} cannot be opened: ${(err as Error).message}`);
    }
    try {
      const migrations = opts.migrations ?? MIGRATIONS;
      let version: number;
      let marker: string | undefined;
      try {
        version = db.pragma('user_version', { simple: true }) as number;
        marker = (db.prepare(`SELECT value FROM meta WHERE key = 'app'`).get() as { value: string } | undefined)?.value;
      } catch (err) {
        throw new WorkspaceError('not-a-workspace', `${dbPath} is not a MedTune workspace database (${(err as Error).message})`);
      }
      if (marker !== APP_MARKER) throw new WorkspaceError('not-a-workspace', `${dbPath} is not a MedTune workspace database`);
      if (version > migrations.length) {
        throw new WorkspaceError(
          'schema-too-new',
          `${abs} was written by a newer MedTune (workspace schema ${version}; this version reads up to ${migrations.length}). Update MedTune to open it.`,
        );
      }
      let backup: string | undefined;
      if (version < migrations.length) {
        if (opts.readonly) {
          throw new WorkspaceError('schema-too-old', `${abs} needs a schema upgrade (${version} → ${migrations.length}); open it writable`);
        }
        backup = backupDatabase(db, abs, version);
        migrate(db, version, migrations);
      }
      const ws = new Workspace(abs, db, backup);
      if (!opts.readonly) ws.blobs.cleanTemp();
      return ws;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  info(): WorkspaceInfo {
    const meta = new Map(
      (this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]),
    );
    // Cases to work on: quarantined ones (files that cannot be decoded) are counted by the quarantine, not here.
    const caseCount = (
      this.db.prepare('SELECT count(*) AS n FROM cases WHERE id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL)').get() as {
        n: number;
      }
    ).n;
    return {
      dir: this.dir,
      name: meta.get('name') ?? path.basename(this.dir),
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      caseCount,
      createdAt: meta.get('created_at') ?? '',
    };
  }

  listCases(q: WorklistQuery = {}): { total: number; items: CaseSummary[] } {
    return listCases(this.db, q);
  }

  /** The worklist's cases grouped patient → study → series (see worklist.ts). */
  worklistGroups(q: Pick<WorklistQuery, 'filter' | 'search' | 'taskId' | 'reader' | 'sort'> = {}): { total: number; patients: WorklistPatientGroup[]; truncated: boolean } {
    return worklistGroups(this.db, q);
  }

  /** Every case id a worklist filter selects for a task, in worklist order (paged internally). */
  worklistIds(filter: 'all' | 'unlabeled' | 'labeled', taskId: number): number[] {
    const ids: number[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = this.listCases({ filter, taskId, offset, limit: 1000 });
      ids.push(...page.items.map((c) => c.id));
      if (page.items.length < 1000) return ids;
    }
  }

  /** Imports files, folders, zips and DICOMDIRs (see core/store/import.ts). */
  import(inputs: string[], opts?: ImportOptions): Promise<ImportReport> {
    return importFiles({ dir: this.dir, db: this.db, blobs: this.blobs }, inputs, opts);
  }

  /**
   * Writes case rows for records whose blob files are already durable (or referenced), in one
   * transaction. For tools and benchmarks that synthesise cases; files go through `import`.
   */
  insertImportRecords(records: ImportRecord[]): number[] {
    return insertImportRecords({ dir: this.dir, db: this.db, blobs: this.blobs }, records);
  }

  /** Reader–reader, reader–model and intra-reader agreement of a task read by several readers (core/store/agreement.ts). */
  agreement(taskId: number, options?: BootstrapOptions): AgreementReport {
    return agreementReport(this.db, taskId, options);
  }

  /** Runs `fn` in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Each open workspace's connection, for the store's own modules (see databaseOf). */
const databases = new WeakMap<Workspace, Database>();

/**
 * The SQLite connection of a workspace. Store-internal: modules of core/store (and their white-box
 * tests) use it; every other layer calls the services' methods (enforced by .dependency-cruiser.cjs,
 * which lets only core/store/index.ts be imported from outside the store).
 */
export function databaseOf(ws: Workspace): Database {
  const db = databases.get(ws);
  if (!db) throw new Error('not an open workspace');
  return db;
}

function openDatabase(file: string, readonly: boolean): Database {
  const db = new BetterSqlite3(file, { readonly, fileMustExist: readonly });
  if (!readonly) db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a killed process loses nothing committed; power loss may drop only the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // The trainer writes from its own connection: wait for its short transactions rather than fail.
  db.pragma('busy_timeout = 5000');
  // Several writers share a workspace (the app, its trainer thread, `medtune train` processes, each with
  // heartbeats). A deferred transaction that reads before it writes fails at once with SQLITE_BUSY when
  // another connection committed in between; BEGIN IMMEDIATE takes the write lock first and waits instead.
  const deferred = db.transaction.bind(db);
  db.transaction = ((fn: (...args: never[]) => unknown) => {
    // The variants keep their .deferred/.immediate/.exclusive siblings.
    return deferred(fn).immediate;
  }) as Database['transaction'];
  return db;
}

function migrate(db: Database, from: number, migrations: readonly Migration[]): void {
  for (let v = from; v < migrations.length; v++) {
    const step = migrations[v];
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  const problems = db.pragma('foreign_key_check') as unknown[];
  if (problems.length > 0) {
    throw new WorkspaceError('invalid', `Schema migration left ${problems.length} broken references; restore from ${BACKUPS_DIR}/`);
  }
}

/** `VACUUM INTO` a consistent copy before changing the schema of a workspace that holds data. */
function backupDatabase(db: Database, dir: string, version: number): string {
  const backups = path.join(dir, BACKUPS_DIR);
  fs.mkdirSync(backups, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(backups, `medtune-v${version}-${stamp}.sqlite`);
  db.prepare('VACUUM INTO ?').run(file);
  return file;
}

export { SCHEMA_VERSION };
