import type { Database } from 'better-sqlite3';
import { BlobStore, sha256Hex } from './blobs';
import { WorkspaceError } from './errors';

export type VersionStatus = 'active' | 'candidate' | 'archived';

export interface Backbone {
  id: number;
  name: string;
  arch: string;
  config: Record<string, unknown>;
  weightsSha256?: string;
  createdAt: string;
}

export interface LabelSnapshot {
  /** Labelled cases of the task when the version was trained. */
  labelCount: number;
  /** The newest label event included: labels after it were not seen by this version. */
  lastLabelEventId: number;
  byClass: Record<string, number>;
}

export interface AdapterVersion {
  id: number;
  taskId: number;
  backboneId?: number;
  parentId?: number;
  method: string;
  config: Record<string, unknown>;
  weightsSha256: string;
  metrics: Record<string, unknown>;
  labelSnapshot: LabelSnapshot | Record<string, unknown>;
  status: VersionStatus;
  trainRunId?: number;
  note?: string;
  createdAt: string;
}

export interface NewVersion {
  taskId: number;
  backboneId?: number;
  parentId?: number;
  method: string;
  config?: Record<string, unknown>;
  /** The adapter file's bytes (stored as a blob), or a blob already in the workspace. */
  weights: Uint8Array | { sha256: string };
  metrics?: Record<string, unknown>;
  /** Default: a snapshot of the task's current labels. */
  labelSnapshot?: LabelSnapshot;
  trainRunId?: number;
  note?: string;
  /**
   * Default 'candidate', except that a task's first version becomes active. Given, it is kept: a
   * training run that decided against promotion (at chance, promote: never) leaves even a first
   * version a candidate.
   */
  status?: 'active' | 'candidate';
}

interface VersionRow {
  id: number;
  task_id: number;
  backbone_id: number | null;
  parent_id: number | null;
  method: string;
  config: string;
  weights_sha256: string;
  metrics: string;
  label_snapshot: string;
  status: VersionStatus;
  train_run_id: number | null;
  note: string | null;
  created_at: string;
}

/**
 * Adapter versions of each task. At most one is active per task (a partial unique index enforces it),
 * and once a task has a version, exactly one is: promote and rollback swap in one transaction.
 */
export class VersionService {
  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
  ) {}

  addBackbone(input: { name: string; arch: string; config?: Record<string, unknown>; weights?: Uint8Array }): Backbone {
    if (!input.name?.trim()) throw new WorkspaceError('invalid', 'A backbone needs a name');
    if (this.db.prepare('SELECT 1 FROM backbones WHERE name = ?').get(input.name)) {
      throw new WorkspaceError('conflict', `A backbone named '${input.name}' already exists`);
    }
    const sha = input.weights ? this.blobs.writeFile(input.weights) : null;
    const id = this.db.transaction(() => {
      if (sha && input.weights) this.blobs.record({ sha256: sha, size: input.weights.byteLength, location: 'workspace' });
      return Number(
        this.db
          .prepare('INSERT INTO backbones (name, arch, config, weights_sha256, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(input.name, input.arch, JSON.stringify(input.config ?? {}), sha, new Date().toISOString()).lastInsertRowid,
      );
    })();
    return this.backbone(id);
  }

  backbone(id: number): Backbone {
    const r = this.db.prepare('SELECT * FROM backbones WHERE id = ?').get(id) as
      | { id: number; name: string; arch: string; config: string; weights_sha256: string | null; created_at: string }
      | undefined;
    if (!r) throw new WorkspaceError('not-found', `No backbone with id ${id}`);
    const b: Backbone = { id: r.id, name: r.name, arch: r.arch, config: JSON.parse(r.config), createdAt: r.created_at };
    if (r.weights_sha256) b.weightsSha256 = r.weights_sha256;
    return b;
  }

  backbones(): Backbone[] {
    return (this.db.prepare('SELECT id FROM backbones ORDER BY id').all() as { id: number }[]).map((r) => this.backbone(r.id));
  }

  add(input: NewVersion): AdapterVersion {
    if (!input.method?.trim()) throw new WorkspaceError('invalid', 'An adapter version needs a method');
    // The file is made durable before the row that refers to it is committed.
    let sha: string;
    let size: number | undefined;
    if (input.weights instanceof Uint8Array) {
      sha = this.blobs.writeFile(input.weights);
      size = input.weights.byteLength;
    } else {
      sha = input.weights.sha256;
      if (!this.blobs.get(sha)) throw new WorkspaceError('blob-missing', `Weights blob ${sha} is not in this workspace`);
    }
    return this.db.transaction(() => {
      this.requireTask(input.taskId);
      if (input.parentId !== undefined) this.get(input.parentId);
      if (size !== undefined) this.blobs.record({ sha256: sha, size, location: 'workspace' });
      const hasActive = this.active(input.taskId) !== undefined;
      const status = input.status ?? (hasActive ? 'candidate' : 'active');
      if (status === 'active' && hasActive) this.demoteActive(input.taskId);
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO adapter_versions (task_id, backbone_id, parent_id, method, config, weights_sha256, metrics,
               label_snapshot, status, train_run_id, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            input.taskId,
            input.backboneId ?? null,
            input.parentId ?? null,
            input.method,
            JSON.stringify(input.config ?? {}),
            sha,
            JSON.stringify(input.metrics ?? {}),
            JSON.stringify(input.labelSnapshot ?? this.snapshot(input.taskId)),
            status,
            input.trainRunId ?? null,
            input.note ?? null,
            new Date().toISOString(),
          ).lastInsertRowid,
      );
      if (status === 'active') this.logActivation(input.taskId, id, hasActive ? 'promote' : 'first');
      return this.get(id);
    })();
  }

  get(id: number): AdapterVersion {
    const row = this.db.prepare('SELECT * FROM adapter_versions WHERE id = ?').get(id) as VersionRow | undefined;
    if (!row) throw new WorkspaceError('not-found', `No adapter version with id ${id}`);
    return toVersion(row);
  }

  list(taskId: number): AdapterVersion[] {
    return (this.db.prepare('SELECT * FROM adapter_versions WHERE task_id = ? ORDER BY id').all(taskId) as VersionRow[]).map(toVersion);
  }

  active(taskId: number): AdapterVersion | undefined {
    const row = this.db.prepare(`SELECT * FROM adapter_versions WHERE task_id = ? AND status = 'active'`).get(taskId) as
      | VersionRow
      | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** Makes a version the active one of its task; the previously active one is archived. */
  promote(id: number): AdapterVersion {
    return this.db.transaction(() => this.activate(id, 'promote'))();
  }

  /** Goes back to the version that was active before the current one. */
  rollback(taskId: number): AdapterVersion {
    return this.db.transaction(() => {
      const current = this.active(taskId);
      if (!current) throw new WorkspaceError('not-found', `Task ${taskId} has no active adapter version`);
      // Activations form a stack: promotions push, rollbacks pop; roll back to the entry below the top.
      const stack: number[] = [];
      for (const a of this.db
        .prepare('SELECT version_id AS versionId, reason FROM adapter_activations WHERE task_id = ? ORDER BY adapter_activations.id')
        .all(taskId) as { versionId: number; reason: string }[]) {
        if (a.reason === 'rollback') stack.pop();
        else stack.push(a.versionId);
      }
      const previous = stack.length >= 2 ? { id: stack[stack.length - 2] } : undefined;
      if (!previous) throw new WorkspaceError('not-found', `Task ${taskId} has no earlier active version to roll back to`);
      return this.activate(previous.id, 'rollback');
    })();
  }

  /** Archives a candidate; the active version cannot be archived (promote another first). */
  archive(id: number): AdapterVersion {
    const v = this.get(id);
    if (v.status === 'active') throw new WorkspaceError('conflict', `Version ${id} is active; promote another version first`);
    this.db.prepare(`UPDATE adapter_versions SET status = 'archived' WHERE id = ?`).run(id);
    return this.get(id);
  }

  /** Records metrics measured after the version was added (e.g. validation on new labels). */
  updateMetrics(id: number, metrics: Record<string, unknown>): AdapterVersion {
    this.get(id);
    this.db.prepare('UPDATE adapter_versions SET metrics = ? WHERE id = ?').run(JSON.stringify(metrics), id);
    return this.get(id);
  }

  /** Activation history, newest first. */
  activations(taskId: number): { versionId: number; reason: string; createdAt: string }[] {
    return this.db
      .prepare(
        `SELECT version_id AS versionId, reason, created_at AS createdAt FROM adapter_activations WHERE task_id = ? ORDER BY id DESC`,
      )
      .all(taskId) as { versionId: number; reason: string; createdAt: string }[];
  }

  /** The version's weights, checked against their SHA-256. */
  weights(id: number): Buffer {
    const v = this.get(id);
    const bytes = this.blobs.read(v.weightsSha256);
    if (sha256Hex(bytes) !== v.weightsSha256) {
      throw new WorkspaceError('blob-missing', `Weights of version ${id} are damaged (SHA-256 mismatch)`);
    }
    return bytes;
  }

  /** Current labels of a task in summary, as stored with each version. */
  snapshot(taskId: number): LabelSnapshot {
    const byClass: Record<string, number> = {};
    let labelCount = 0;
    let lastLabelEventId = 0;
    for (const r of this.db.prepare('SELECT value, event_id FROM current_labels WHERE task_id = ?').all(taskId) as {
      value: string;
      event_id: number;
    }[]) {
      labelCount++;
      lastLabelEventId = Math.max(lastLabelEventId, r.event_id);
      const v = JSON.parse(r.value) as unknown;
      for (const name of typeof v === 'string' ? [v] : Array.isArray(v) ? (v as string[]) : []) byClass[name] = (byClass[name] ?? 0) + 1;
    }
    const last = this.db.prepare('SELECT max(id) AS id FROM label_events WHERE task_id = ?').get(taskId) as { id: number | null };
    return { labelCount, lastLabelEventId: Math.max(lastLabelEventId, last.id ?? 0), byClass };
  }

  private activate(id: number, reason: 'promote' | 'rollback'): AdapterVersion {
    const v = this.get(id);
    if (v.status === 'active') return v;
    this.demoteActive(v.taskId);
    this.db.prepare(`UPDATE adapter_versions SET status = 'active' WHERE id = ?`).run(id);
    this.logActivation(v.taskId, id, reason);
    return this.get(id);
  }

  private demoteActive(taskId: number): void {
    this.db.prepare(`UPDATE adapter_versions SET status = 'archived' WHERE task_id = ? AND status = 'active'`).run(taskId);
  }

  private logActivation(taskId: number, versionId: number, reason: string): void {
    this.db
      .prepare('INSERT INTO adapter_activations (task_id, version_id, reason, created_at) VALUES (?, ?, ?, ?)')
      .run(taskId, versionId, reason, new Date().toISOString());
  }

  private requireTask(taskId: number): void {
    if (!this.db.prepare('SELECT 1 FROM tasks WHERE id = ?').get(taskId)) throw new WorkspaceError('not-found', `No label task with id ${taskId}`);
  }
}

function toVersion(r: VersionRow): AdapterVersion {
  const v: AdapterVersion = {
    id: r.id,
    taskId: r.task_id,
    method: r.method,
    config: JSON.parse(r.config),
    weightsSha256: r.weights_sha256,
    metrics: JSON.parse(r.metrics),
    labelSnapshot: JSON.parse(r.label_snapshot),
    status: r.status,
    createdAt: r.created_at,
  };
  if (r.backbone_id !== null) v.backboneId = r.backbone_id;
  if (r.parent_id !== null) v.parentId = r.parent_id;
  if (r.train_run_id !== null) v.trainRunId = r.train_run_id;
  if (r.note !== null) v.note = r.note;
  return v;
}
