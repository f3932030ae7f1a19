/**
 * The training queue of an open workspace, used by the app and by `medtune train` alike: it records
 * runs (queued → …) owned by this process, sends one job at a time to the trainer process, relays its
 * progress as events, cancels, and survives a trainer crash by marking the run failed and starting a
 * fresh trainer for the next job.
 *
 * Runs outlive a process's memory in the workspace database: the service keeps the heartbeat of its own
 * runs fresh and writes their latest progress there (about once a second), and watches the runs table
 * for runs of other processes, relaying their progress as the same events and failing those whose owner
 * is gone (PID no longer alive on this host, or heartbeat silent for HEARTBEAT_LIMIT_MS).
 */
import { Worker } from 'node:worker_threads';
import { HEARTBEAT_LIMIT_MS, thisProcess, type RunLive, type TrainRun, type Workspace } from '../store';
import { parseTrainJob, resolveAdapterChoice, type TrainJob, type TrainJobInput } from './job';
import type { PredictOutcome, PredictProgress, PredictRequest } from './predict-run';
import type { RunEvent, RunOutcome } from './training-run';
import type { TrainerMessage, TrainerProcess, TrainerRequest } from './worker-protocol';

/** A worker thread running core/train/trainer-worker (through tsx's loader when run from sources). */
export function workerThreadTrainer(script: URL = new URL('./trainer-worker.mjs', import.meta.url)): TrainerProcess {
  const worker = new Worker(script);
  let exited = false;
  const exitListeners: ((reason: string) => void)[] = [];
  const die = (reason: string) => {
    if (exited) return;
    exited = true;
    for (const l of exitListeners) l(reason);
  };
  worker.on('error', (err) => die(`the trainer crashed: ${err.message}`));
  worker.on('exit', (code) => die(`the trainer stopped (exit code ${code})`));
  return {
    post: (m) => worker.postMessage(m),
    onMessage: (l) => worker.on('message', l),
    onExit: (l) => exitListeners.push(l),
    terminate: async () => {
      exited = true;
      await worker.terminate();
    },
  };
}

type Job =
  | { kind: 'train'; jobId: string; run: TrainRun; job: TrainJob }
  | { kind: 'predict'; jobId: string; request: PredictRequest; resolve: (o: PredictOutcome) => void; reject: (e: Error) => void };

export interface TrainingServiceEvents {
  onRunEvent?(event: RunEvent): void;
  onPredictProgress?(taskId: number, progress: PredictProgress): void;
  onPredictDone?(taskId: number, outcome: PredictOutcome | { error: string }): void;
}

export interface TrainingServiceOptions {
  /** How often the runs table is checked for other processes' runs and orphans; 0 = never (default 1500 ms). */
  pollMs?: number;
  /** How often this service's runs say they are alive (default 3000 ms). */
  heartbeatMs?: number;
  /** Progress of a run is written to its row at most this often, phase changes excepted (default 1000 ms). */
  liveWriteMs?: number;
  /** A run of another process whose heartbeat is older than this is failed (default HEARTBEAT_LIMIT_MS). */
  heartbeatLimitMs?: number;
}

/** The event another process sees for a run, read from its row. */
export function runEventFromRow(run: TrainRun): RunEvent {
  const live: Partial<RunLive> = run.live ?? {};
  const base = { runId: run.id, taskId: run.taskId };
  if (run.status === 'queued') {
    const by = run.owner ? ` by pid ${run.owner.pid}${run.owner.host ? ` on ${run.owner.host}` : ''}` : '';
    return { ...base, status: 'running', phase: 'preparing', fraction: 0, message: `queued${by}` };
  }
  const phase = (live.phase ?? 'preparing') as RunEvent['phase'];
  const event: RunEvent = { ...base, status: run.status, phase: run.status === 'running' ? phase : 'finished', fraction: run.status === 'running' ? (live.fraction ?? 0) : 1 };
  if (live.epoch !== undefined) event.epoch = live.epoch;
  if (live.epochs !== undefined) event.epochs = live.epochs;
  if (live.metric !== undefined) event.metric = live.metric;
  if (live.message !== undefined && run.status === 'running') event.message = live.message;
  if (run.resultVersionId !== undefined) event.versionId = run.resultVersionId;
  if (run.error !== undefined) event.error = run.error;
  return event;
}

const liveOf = (e: RunEvent): RunLive => {
  const live: RunLive = { phase: e.phase, fraction: e.fraction };
  if (e.epoch !== undefined) live.epoch = e.epoch;
  if (e.epochs !== undefined) live.epochs = e.epochs;
  if (e.metric !== undefined) live.metric = e.metric;
  if (e.message !== undefined) live.message = e.message;
  return live;
};

export class TrainingService {
  private trainer: TrainerProcess | null = null;
  private backend: string | null = null;
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private nextJob = 1;
  private closed = false;
  private readonly runWaiters = new Map<number, ((o: RunOutcome) => void)[]>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly options: Required<TrainingServiceOptions>;
  /** Last progress write per own run: when, and in which phase. */
  private readonly liveWritten = new Map<number, { at: number; phase: string }>();
  /** What this service last saw of other processes' runs (status and progress), by run id. */
  private readonly seen = new Map<number, string>();
  /** Runs this service queued: their events come from its trainer, never from the poll. */
  private readonly owned = new Set<number>();
  private seenDataVersion = -1;
  private firstPoll = true;

  constructor(
    private readonly ws: Workspace,
    private readonly events: TrainingServiceEvents = {},
    private readonly spawn: () => TrainerProcess = workerThreadTrainer,
    options: TrainingServiceOptions = {},
  ) {
    this.options = { pollMs: 1500, heartbeatMs: 3000, liveWriteMs: 1000, heartbeatLimitMs: HEARTBEAT_LIMIT_MS, ...options };
    // Runs whose process died (this app's last session, a killed `medtune train`) are failed; runs of
    // live processes are theirs and left alone.
    this.reconcile();
    const every = (ms: number, fn: () => void) => {
      if (ms > 0) this.timers.push(setInterval(fn, ms).unref());
    };
    every(this.options.heartbeatMs, () => this.heartbeat());
    every(this.options.pollMs, () => this.pollOthers());
  }

  /** The backend the trainer reported, once it has started. */
  get backendName(): string | null {
    return this.backend;
  }

  /** Queues a training run and returns its record (status 'queued'). */
  enqueueTraining(input: TrainJobInput): TrainRun {
    const job = parseTrainJob(input);
    this.ws.tasks.get(job.taskId); // refuses an unknown task now rather than in the trainer
    const backbone = this.ws.versions.backbone(job.backboneId);
    // Layer choices that do not fit the backbone are refused here, not minutes later in the trainer.
    const depth = (backbone.config as { depth?: unknown } | undefined)?.depth;
    if (typeof depth === 'number') resolveAdapterChoice(job.adapter, depth);
    const run = this.ws.runs.create({ taskId: job.taskId, method: job.adapter.method, config: job as unknown as Record<string, unknown>, owner: thisProcess() });
    this.owned.add(run.id);
    this.queue.push({ kind: 'train', jobId: `train-${run.id}`, run, job });
    this.pump();
    return run;
  }

  /** Resolves when the run ends (done, failed or cancelled). */
  waitForRun(runId: number): Promise<RunOutcome> {
    const run = this.ws.runs.get(runId);
    if (['done', 'failed', 'cancelled'].includes(run.status)) {
      return Promise.resolve({ status: run.status as RunOutcome['status'], versionId: run.resultVersionId, error: run.error });
    }
    return new Promise((resolve) => this.runWaiters.set(runId, [...(this.runWaiters.get(runId) ?? []), resolve]));
  }

  /**
   * Prediction jobs share the queue: the trainer process does one heavy thing at a time. Aborting
   * `signal` drops a queued job or stops a running one; the promise then rejects with code 'cancelled'.
   */
  predict(request: PredictRequest, options: { signal?: AbortSignal } = {}): Promise<PredictOutcome> {
    return new Promise((resolve, reject) => {
      const cancelled = () => Object.assign(new Error('cancelled'), { code: 'cancelled' });
      if (options.signal?.aborted) return reject(cancelled());
      const job: Job = { kind: 'predict', jobId: `predict-${this.nextJob++}`, request, resolve, reject };
      options.signal?.addEventListener(
        'abort',
        () => {
          const index = this.queue.indexOf(job);
          if (index >= 0) {
            this.queue.splice(index, 1);
            reject(cancelled());
          } else if (this.current === job) this.trainer?.post({ type: 'cancel', jobId: job.jobId });
        },
        { once: true },
      );
      this.queue.push(job);
      this.pump();
    });
  }

  /** Cancels a queued or running run; true when there was something to cancel. */
  cancelRun(runId: number): boolean {
    const index = this.queue.findIndex((j) => j.kind === 'train' && j.run.id === runId);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.ws.runs.cancel(runId);
      const event: RunEvent = { runId, taskId: this.ws.runs.get(runId).taskId, status: 'cancelled', phase: 'finished', fraction: 1 };
      this.events.onRunEvent?.(event);
      this.settleRun(runId, { status: 'cancelled' });
      return true;
    }
    if (this.current?.kind === 'train' && this.current.run.id === runId) {
      this.trainer?.post({ type: 'cancel', jobId: this.current.jobId });
      return true;
    }
    return false;
  }

  /** Queued and running runs, oldest first. */
  pending(): { runId: number; status: 'queued' | 'running' }[] {
    const out: { runId: number; status: 'queued' | 'running' }[] = [];
    if (this.current?.kind === 'train') out.push({ runId: this.current.run.id, status: 'running' });
    for (const j of this.queue) if (j.kind === 'train') out.push({ runId: j.run.id, status: 'queued' });
    return out;
  }

  /**
   * Fails runs whose owner is gone and tells listeners; returns them. Runs when the service starts and
   * on every poll.
   */
  reconcile(): TrainRun[] {
    if (this.closed) return [];
    const failed = this.ws.runs.failOrphaned({ heartbeatLimitMs: this.options.heartbeatLimitMs });
    for (const run of failed) {
      this.seen.set(run.id, signature(run));
      this.events.onRunEvent?.(runEventFromRow(run));
    }
    return failed;
  }

  /**
   * Relays runs of other processes (another window, `medtune train`) as run events: any change of their
   * status or recorded progress since the last look. Cheap when nothing changed: one pragma read.
   */
  pollOthers(): void {
    if (this.closed) return;
    try {
      this.reconcile();
      const version = this.ws.runs.dataVersion();
      if (version === this.seenDataVersion) return;
      this.seenDataVersion = version;
      for (const run of this.ws.runs.watched()) {
        if (this.owned.has(run.id)) continue;
        const sig = signature(run);
        const before = this.seen.get(run.id);
        if (before === sig) continue;
        this.seen.set(run.id, sig);
        // At the first look, runs that had already ended are history, not news.
        if (before === undefined && this.firstPoll && run.status !== 'queued' && run.status !== 'running') continue;
        this.events.onRunEvent?.(runEventFromRow(run));
      }
      this.firstPoll = false;
    } catch (err) {
      quietly(err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    // The trainer is stopped below, so the running run is recorded as cancelled here.
    if (this.current?.kind === 'train') {
      const run = this.ws.runs.get(this.current.run.id);
      if (run.status === 'queued' || run.status === 'running') this.ws.runs.cancel(run.id);
      this.settleRun(run.id, { status: 'cancelled' });
    } else if (this.current?.kind === 'predict') {
      this.current.reject(new Error('the workspace was closed'));
    }
    this.current = null;
    for (const j of this.queue.splice(0)) {
      if (j.kind === 'train') this.ws.runs.cancel(j.run.id);
      else j.reject(new Error('the workspace was closed'));
    }
    const trainer = this.trainer;
    this.trainer = null;
    await trainer?.terminate();
  }

  private ensureTrainer(): TrainerProcess {
    if (this.trainer) return this.trainer;
    const trainer = this.spawn();
    trainer.onMessage((m) => this.onMessage(m));
    trainer.onExit((reason) => this.onTrainerDeath(trainer, reason));
    this.trainer = trainer;
    return trainer;
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const next = this.queue.shift();
    if (!next) return;
    this.current = next;
    const trainer = this.ensureTrainer();
    const request: TrainerRequest =
      next.kind === 'train'
        ? { type: 'train', jobId: next.jobId, workspaceDir: this.ws.dir, runId: next.run.id, job: next.job }
        : { type: 'predict', jobId: next.jobId, workspaceDir: this.ws.dir, request: next.request };
    trainer.post(request);
  }

  private onMessage(m: TrainerMessage): void {
    if (m.type === 'ready') {
      this.backend = m.backend;
      return;
    }
    const job = this.current;
    if (!job || job.jobId !== m.jobId) return;
    if (m.type === 'run-event') {
      this.recordLive(m.event);
      this.events.onRunEvent?.(m.event);
    }
    else if (m.type === 'predict-progress' && job.kind === 'predict') this.events.onPredictProgress?.(job.request.taskId, m.progress);
    else if (m.type === 'done' || m.type === 'error') {
      this.current = null;
      if (job.kind === 'train') {
        const outcome: RunOutcome = m.type === 'done' ? (m.outcome as RunOutcome) : this.failRun(job.run.id, m.message);
        this.settleRun(job.run.id, outcome);
      } else if (m.type === 'done') {
        this.events.onPredictDone?.(job.request.taskId, m.outcome as PredictOutcome);
        job.resolve(m.outcome as PredictOutcome);
      } else {
        this.events.onPredictDone?.(job.request.taskId, { error: m.message });
        job.reject(Object.assign(new Error(m.message), { code: m.code }));
      }
      this.pump();
    }
  }

  /** Writes a running run's progress to its row for other processes: phase changes at once, the rest throttled. */
  private recordLive(event: RunEvent): void {
    if (event.status !== 'running') {
      this.liveWritten.delete(event.runId);
      return;
    }
    const last = this.liveWritten.get(event.runId);
    const now = Date.now();
    if (last && last.phase === event.phase && now - last.at < this.options.liveWriteMs) return;
    this.liveWritten.set(event.runId, { at: now, phase: event.phase });
    try {
      this.ws.runs.setLive(event.runId, liveOf(event));
    } catch (err) {
      quietly(err);
    }
  }

  /** Keeps this service's queued and running runs from looking orphaned to other processes. */
  private heartbeat(): void {
    const ids = this.pending().map((p) => p.runId);
    if (ids.length === 0 || this.closed) return;
    try {
      this.ws.runs.heartbeat(ids);
    } catch (err) {
      quietly(err);
    }
  }

  /** Marks a run failed from this side, unless the trainer already ended it. */
  private failRun(runId: number, message: string): RunOutcome {
    const run = this.ws.runs.get(runId);
    if (run.status === 'queued' || run.status === 'running') this.ws.runs.fail(runId, message);
    const ended = this.ws.runs.get(runId);
    const outcome: RunOutcome = { status: ended.status as RunOutcome['status'], error: ended.error ?? message };
    this.events.onRunEvent?.({ runId, taskId: run.taskId, status: outcome.status, phase: 'finished', fraction: 1, error: outcome.error });
    return outcome;
  }

  private settleRun(runId: number, outcome: RunOutcome): void {
    for (const resolve of this.runWaiters.get(runId) ?? []) resolve(outcome);
    this.runWaiters.delete(runId);
  }

  private onTrainerDeath(trainer: TrainerProcess, reason: string): void {
    if (this.trainer !== trainer) return;
    this.trainer = null;
    const job = this.current;
    this.current = null;
    if (job?.kind === 'train') this.settleRun(job.run.id, this.failRun(job.run.id, reason));
    if (job?.kind === 'predict') job.reject(new Error(reason));
    if (!this.closed) this.pump();
  }
}

/**
 * Heartbeats, progress rows and polls are best effort: a busy or just-closed database (the app switching
 * workspaces) must not stop the process; the next tick tries again.
 */
function quietly(err: unknown): void {
  if (/not open|closed/i.test((err as Error)?.message ?? '')) return;
  console.warn(`[medtune] training service: ${(err as Error)?.message ?? String(err)}`);
}

function signature(run: TrainRun): string {
  return JSON.stringify([run.status, run.live ?? null, run.error ?? null, run.resultVersionId ?? null]);
}
