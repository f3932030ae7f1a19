/**
 * The training queue of an open workspace, on the app's side: it records runs (queued → …), sends one
 * job at a time to the trainer process, relays its progress as events, cancels, and survives a
 * trainer crash by marking the run failed and starting a fresh trainer for the next job.
 */
import { Worker } from 'node:worker_threads';
import type { TrainRun, Workspace } from '../store';
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

export class TrainingService {
  private trainer: TrainerProcess | null = null;
  private backend: string | null = null;
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private nextJob = 1;
  private closed = false;
  private readonly runWaiters = new Map<number, ((o: RunOutcome) => void)[]>();

  constructor(
    private readonly ws: Workspace,
    private readonly events: TrainingServiceEvents = {},
    private readonly spawn: () => TrainerProcess = workerThreadTrainer,
  ) {
    // Runs a previous session left running died with it.
    ws.runs.failInterrupted();
    for (const r of ws.runs.list(undefined, 1000)) if (r.status === 'queued') ws.runs.cancel(r.id);
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
    const run = this.ws.runs.create({ taskId: job.taskId, method: job.adapter.method, config: job as unknown as Record<string, unknown> });
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

  /** Prediction jobs share the queue: the trainer process does one heavy thing at a time. */
  predict(request: PredictRequest): Promise<PredictOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'predict', jobId: `predict-${this.nextJob++}`, request, resolve, reject });
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

  async close(): Promise<void> {
    this.closed = true;
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
    if (m.type === 'run-event') this.events.onRunEvent?.(m.event);
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
 * The incremental policy: a warm-started run is due once `everyNewLabels` labels were added or changed
 * since the newest version was trained, and nothing for the task is queued or running.
 */
export function autoTrainDue(ws: Workspace, taskId: number, everyNewLabels: number, busy: boolean): boolean {
  if (busy || everyNewLabels <= 0) return false;
  const versions = ws.versions.list(taskId);
  const lastSeen = versions.reduce((m, v) => Math.max(m, (v.labelSnapshot as { lastLabelEventId?: number }).lastLabelEventId ?? 0), 0);
  const current = ws.versions.snapshot(taskId);
  if (current.labelCount === 0) return false;
  return ws.labels.countEventsAfter(taskId, lastSeen) >= everyNewLabels;
}
