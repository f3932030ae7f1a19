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
}

const FINAL: readonly RunStatus[] = ['done', 'failed', 'cancelled'];

/** Training runs: queued → running → done | failed | cancelled (queued may also be cancelled). */
export class RunService {
  constructor(private readonly db: Database) {}

  create(input: { taskId: number; method?: string; config?: Record<string, unknown>; parentVersionId?: number }): TrainRun {
    if (!this.db.prepare('SELECT 1 FROM tasks WHERE id = ?').get(input.taskId)) {
      throw new WorkspaceError('not-found', `No label task with id ${input.taskId}`);
    }
    const id = Number(
      this.db
        .prepare(`INSERT INTO train_runs (task_id, status, method, config, parent_version_id, queued_at) VALUES (?, 'queued', ?, ?, ?, ?)`)
        .run(input.taskId, input.method ?? null, JSON.stringify(input.config ?? {}), input.parentVersionId ?? null, now())
        .lastInsertRowid,
    );
    return this.get(id);
  }

  start(id: number, backend: string): TrainRun {
    return this.transition(id, ['queued'], `status = 'running', backend = @backend, started_at = @now`, { backend });
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

  /** Marks runs left 'running' by a process that died as failed (call when no trainer is alive). */
  failInterrupted(): number {
    return this.db
      .prepare(`UPDATE train_runs SET status = 'failed', error = 'interrupted (the app stopped during training)', finished_at = ? WHERE status = 'running'`)
      .run(now()).changes;
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
  return run;
}
