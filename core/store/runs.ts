import os from 'node:os';
import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface TrainRun {
  id: number;
  taskId: number;
  status: RunStatus;
  method?: string;
  backend?: string;
  config: Record<string, unknown>;
  parentVersionId?: number;
  resultVersionId?: number;
  /** Progress entries as reported, oldest first (each gets `at`, an ISO time). */
  progress: Record<string, unknown>[];
  error?: string;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** The process that queued the run and drives it (absent on runs recorded before owners were). */
  owner?: RunOwner;
  /** When the owner last said it is alive (ISO time). */
  heartbeatAt?: string;
  /** The owner's latest progress, for other processes to show. */
  live?: RunLive;
}

export interface RunOwner {
  pid: number;
  host: string;
}

/** What another process needs to show a run's progress: the latest event, without the step detail. */
export interface RunLive {
  phase: string;
  fraction: number;
  epoch?: number;
  epochs?: number;
  metric?: { name: string; value: number | null };
  message?: string;
}

/** Runs of other processes are failed only when their owner is gone or silent this long. */
export const HEARTBEAT_LIMIT_MS = 60_000;

/** This process, as a run owner. */
export function thisProcess(): RunOwner {
  return { pid: process.pid, host: os.hostname() };
}

/** Whether a process with this PID exists on this host (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

interface RunRow {
  id: number;
  task_id: number;
  status: RunStatus;
  method: string | null;
  backend: string | null;
  config: string;
  parent_version_id: number | null;
  result_version_id: number | null;
  progress: string;
  error: string | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  owner_pid: number | null;
  owner_host: string | null;
  heartbeat_at: string | null;
  live: string | null;
}

const FINAL: readonly RunStatus[] = ['done', 'failed', 'cancelled'];

/** Training runs: queued → running → done | failed | cancelled (queued may also be cancelled). */
export class RunService {
  constructor(private readonly db: Database) {}

  /** Records a queued run owned by `owner` (default: this process), which must keep its heartbeat fresh. */
  create(input: { taskId: number; method?: string; config?: Record<string, unknown>; parentVersionId?: number; owner?: RunOwner }): TrainRun {
    if (!this.db.prepare('SELECT 1 FROM tasks WHERE id = ?').get(input.taskId)) {
      throw new WorkspaceError('not-found', `No label task with id ${input.taskId}`);
    }
    const owner = input.owner ?? thisProcess();
    const at = now();
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO train_runs (task_id, status, method, config, parent_version_id, queued_at, owner_pid, owner_host, heartbeat_at)
           VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(input.taskId, input.method ?? null, JSON.stringify(input.config ?? {}), input.parentVersionId ?? null, at, owner.pid, owner.host, at)
        .lastInsertRowid,
    );
    return this.get(id);
  }

  start(id: number, backend: string): TrainRun {
    return this.transition(id, ['queued'], `status = 'running', backend = @backend, started_at = @now, heartbeat_at = @now`, { backend });
  }

  /** The owner's "still alive" for its queued and running runs. */
  heartbeat(ids: readonly number[]): void {
    const stmt = this.db.prepare(`UPDATE train_runs SET heartbeat_at = ? WHERE id = ? AND status IN ('queued', 'running')`);
    const at = now();
    this.db.transaction(() => {
      for (const id of ids) stmt.run(at, id);
    })();
  }

  /** The owner's latest progress (also a heartbeat); ignored once the run has ended. */
  setLive(id: number, live: RunLive): void {
    this.db
      .prepare(`UPDATE train_runs SET live = ?, heartbeat_at = ? WHERE id = ? AND status IN ('queued', 'running')`)
      .run(JSON.stringify(live), now(), id);
  }

  /**
   * Fails queued and running runs whose owner is gone: on this host, a PID that no longer exists; on any
   * host, a heartbeat older than `heartbeatLimitMs`. Runs of live owners are left alone. Returns the
   * runs it failed.
   */
  failOrphaned(options: { heartbeatLimitMs?: number; nowMs?: number; isAlive?: (pid: number) => boolean } = {}): TrainRun[] {
    const { heartbeatLimitMs = HEARTBEAT_LIMIT_MS, nowMs = Date.now(), isAlive = processAlive } = options;
    const here = os.hostname();
    const rows = this.db.prepare(`SELECT * FROM train_runs WHERE status IN ('queued', 'running')`).all() as RunRow[];
    const failed: TrainRun[] = [];
    for (const r of rows) {
      const verb = r.status === 'running' ? 'ran' : 'queued';
      let reason: string | null = null;
      if (r.owner_pid === null) {
        // Recorded before runs had owners: the queue lived in that app's memory and died with it.
        reason = 'interrupted (the app stopped during training)';
      } else if (r.owner_host === here && !isAlive(r.owner_pid)) {
        reason = `the process that ${verb} it (pid ${r.owner_pid}) stopped`;
      } else {
        const silentMs = nowMs - Date.parse(r.heartbeat_at ?? r.queued_at);
        if (silentMs > heartbeatLimitMs) {
          reason = `the process that ${verb} it (pid ${r.owner_pid} on ${r.owner_host}) stopped responding: no heartbeat for ${Math.round(silentMs / 1000)} s`;
        }
      }
      if (reason === null) continue;
      try {
        failed.push(this.fail(r.id, reason));
      } catch (err) {
        // The owner ended it in the meantime.
        if (!(err instanceof WorkspaceError && err.code === 'conflict')) throw err;
      }
    }
    return failed;
  }

  /** Changes whenever another connection (another process, the trainer thread) commits to this database. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** Queued and running runs plus the newest `recent` runs, newest first: what a watcher compares. */
  watched(recent = 20): TrainRun[] {
    const rows = this.db
      .prepare(`SELECT * FROM train_runs WHERE status IN ('queued', 'running') OR id > (SELECT ifnull(max(id), 0) FROM train_runs) - ? ORDER BY id DESC`)
      .all(recent) as RunRow[];
    return rows.map(toRun);
  }

  /** Appends one progress entry (epoch, loss, metric…) without rewriting the others. */
  progress(id: number, entry: Record<string, unknown>): void {
    const changed = this.db
      .prepare(`UPDATE train_runs SET progress = json_insert(progress, '$[#]', json(?)) WHERE id = ? AND status = 'running'`)
      .run(JSON.stringify({ at: now(), ...entry }), id).changes;
    if (changed === 0) this.requireStatus(id, ['running']);
  }

  finish(id: number, resultVersionId?: number): TrainRun {
    return this.transition(id, ['running'], `status = 'done', result_version_id = @version, finished_at = @now`, {
      version: resultVersionId ?? null,
    });
  }

  fail(id: number, error: string): TrainRun {
    return this.transition(id, ['queued', 'running'], `status = 'failed', error = @error, finished_at = @now`, { error });
  }

  cancel(id: number): TrainRun {
    return this.transition(id, ['queued', 'running'], `status = 'cancelled', finished_at = @now`, {});
  }

  get(id: number): TrainRun {
    const row = this.db.prepare('SELECT * FROM train_runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) throw new WorkspaceError('not-found', `No training run with id ${id}`);
    return toRun(row);
  }

  list(taskId?: number, limit = 100): TrainRun[] {
    const rows = (
      taskId === undefined
        ? this.db.prepare('SELECT * FROM train_runs ORDER BY id DESC LIMIT ?').all(limit)
        : this.db.prepare('SELECT * FROM train_runs WHERE task_id = ? ORDER BY id DESC LIMIT ?').all(taskId, limit)
    ) as RunRow[];
    return rows.map(toRun);
  }

  private transition(id: number, from: RunStatus[], set: string, params: Record<string, unknown>): TrainRun {
    return this.db.transaction(() => {
      this.requireStatus(id, from);
      this.db.prepare(`UPDATE train_runs SET ${set} WHERE id = @id`).run({ ...params, id, now: now() });
      return this.get(id);
    })();
  }

  private requireStatus(id: number, allowed: RunStatus[]): void {
    const run = this.get(id);
    if (!allowed.includes(run.status)) {
      const what = FINAL.includes(run.status) ? 'has already ended' : 'is in the wrong state';
      throw new WorkspaceError('conflict', `Training run ${id} ${what} (status ${run.status}; expected ${allowed.join(' or ')})`);
    }
  }
}

function now(): string {
  return new Date().toISOString();
}

function toRun(r: RunRow): TrainRun {
  const run: TrainRun = {
    id: r.id,
    taskId: r.task_id,
    status: r.status,
    config: JSON.parse(r.config),
    progress: JSON.parse(r.progress),
    queuedAt: r.queued_at,
  };
  if (r.method !== null) run.method = r.method;
  if (r.backend !== null) run.backend = r.backend;
  if (r.parent_version_id !== null) run.parentVersionId = r.parent_version_id;
  if (r.result_version_id !== null) run.resultVersionId = r.result_version_id;
  if (r.error !== null) run.error = r.error;
  if (r.started_at !== null) run.startedAt = r.started_at;
  if (r.finished_at !== null) run.finishedAt = r.finished_at;
  if (r.owner_pid !== null) run.owner = { pid: r.owner_pid, host: r.owner_host ?? '' };
  if (r.heartbeat_at !== null) run.heartbeatAt = r.heartbeat_at;
  if (r.live !== null) run.live = JSON.parse(r.live) as RunLive;
  return run;
}
