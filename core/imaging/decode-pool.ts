/**
 * A worker_threads pool that decodes image files off the caller's thread.
 * - Size: available cores − 1 (at least 1), so the UI/main thread keeps a core.
 * - Results arrive as DecodedImage with pixel buffers transferred, not copied.
 * - Cancellation (AbortSignal): a queued request is dropped; a running one is rejected at once and its result
 *   discarded by the worker. Workers are never terminated mid-decode: libvips (sharp) can take the whole process
 *   down when a thread using it is killed (lovell/sharp#2263).
 * - Every failure is an ImagingError naming the file, including a worker that dies (it is replaced).
 * - `verifyBytes` (the importer's check) may set a time limit: a worker that overruns it is replaced and the file
 *   reported as undecodable, so one hostile file cannot stall an import.
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DecodeRequest, DecodeResponse } from './decode-pool-protocol';
import type { ImageCheck } from './decode-pool-verify';
import { ImagingError, type DecodedImage } from './types';

export interface DecodePoolOptions {
  /** Number of workers (default: available cores − 1, minimum 1). */
  size?: number;
  /** Worker entry; the default picks the TS bootstrap from sources and the .js file from a build. */
  workerUrl?: URL;
}

export interface DecodeRequestOptions {
  signal?: AbortSignal;
}

export interface VerifyRequestOptions extends DecodeRequestOptions {
  /** Milliseconds a worker may spend on the file once it starts; past it the worker is replaced and the request rejected. */
  timeoutMs?: number;
}

type Job = Exclude<DecodeRequest, { type: 'cancel' }>;

interface Task {
  job: Job;
  source: string;
  resolve: (result: never) => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  worker?: PoolWorker;
  settled?: boolean;
  timeoutMs?: number;
  timer?: NodeJS.Timeout;
}

interface PoolWorker {
  thread: Worker;
  task?: Task;
}

export function defaultPoolSize(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, cores - 1);
}

function defaultWorkerUrl(): URL {
  const here: string | undefined = import.meta.url;
  // Running from .ts sources (tsx, vitest): the .mjs bootstrap registers tsx inside the worker.
  if (here?.endsWith('.ts')) return new URL('./decode-pool-worker.mjs', here);
  // CommonJS bundle (the Electron main process has no import.meta): the worker is bundled beside it.
  if (typeof __dirname === 'string') return pathToFileURL(path.join(__dirname, 'decode-pool-worker.cjs'));
  throw new Error('DecodePool: cannot locate its worker script; pass options.workerUrl');
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The decode was aborted', 'AbortError');
}

export class DecodePool {
  readonly size: number;
  private readonly workerUrl: URL;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private ready?: Promise<void>;

  constructor(options: DecodePoolOptions = {}) {
    const size = options.size ?? defaultPoolSize();
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`decode pool size must be a positive integer, got ${size}`);
    this.size = size;
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
  }

  /** Requests being decoded right now (including cancelled ones the worker has not finished yet). */
  get running(): number {
    return this.workers.filter((w) => w.task).length;
  }

  /** Requests waiting for a worker plus requests being decoded. */
  get pending(): number {
    return this.queue.length + this.running;
  }

  decodeFile(path: string, options: DecodeRequestOptions = {}): Promise<DecodedImage> {
    return this.submit<DecodedImage>({ type: 'decode-file', id: this.nextId++, path }, path, options.signal);
  }

  /** A reduced-resolution first view of a JPEG 2000 file, null for any other (see previewImageFile). */
  previewFile(path: string, maxSide: number, options: DecodeRequestOptions = {}): Promise<DecodedImage | null> {
    return this.submit<DecodedImage | null>({ type: 'preview-file', id: this.nextId++, path, maxSide }, path, options.signal);
  }

  /** Decode bytes already in memory. The bytes are copied to the worker (the caller keeps its buffer). */
  decodeBytes(bytes: Uint8Array, source: string, options: DecodeRequestOptions = {}): Promise<DecodedImage> {
    return this.submit<DecodedImage>({ type: 'decode-bytes', id: this.nextId++, bytes, source }, source, options.signal);
  }

  /**
   * The importer's check of one file (see decode-pool-verify.ts): resolves with 'image', 'not-image' or 'broken'
   * (with the reason); rejects only when the pool cannot answer (closed, aborted, worker died or ran out of time).
   */
  verifyBytes(bytes: Uint8Array, source: string, options: VerifyRequestOptions = {}): Promise<ImageCheck> {
    return this.submit<ImageCheck>({ type: 'verify-bytes', id: this.nextId++, bytes, source }, source, options.signal, options.timeoutMs);
  }

  /** Reject queued requests, let running ones finish, then stop the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const task of this.queue.splice(0)) this.settle(task, () => task.reject(new ImagingError(task.source, 'decode pool closed', 'unreadable')));
    await this.ready?.catch(() => undefined);
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.task) await new Promise<void>((done) => w.thread.once('message', () => done()).once('exit', () => done()));
        await w.thread.terminate();
      }),
    );
    this.workers.length = 0;
  }

  private submit<T>(job: Job, source: string, signal?: AbortSignal, timeoutMs?: number): Promise<T> {
    if (this.closed) return Promise.reject(new ImagingError(source, 'decode pool closed', 'unreadable'));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<T>((resolve, reject) => {
      const task: Task = { job, source, resolve: resolve as (result: never) => void, reject, signal, timeoutMs };
      if (signal) {
        task.onAbort = () => this.cancel(task);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      void this.start().then(
        () => this.pump(),
        (err) => this.settle(task, () => task.reject(new ImagingError(source, `cannot start decoder workers: ${String(err)}`, 'unreadable'))),
      );
    });
  }

  private start(): Promise<void> {
    // sharp's native libraries must stay loaded by the main thread, or a worker exiting unloads them under the others.
    this.ready ??= import('sharp').then(() => {
      for (let i = 0; i < this.size; i++) this.workers.push(this.spawn());
    });
    return this.ready;
  }

  private spawn(): PoolWorker {
    const poolWorker: PoolWorker = { thread: new Worker(this.workerUrl) };
    const { thread } = poolWorker;
    thread.unref(); // an idle pool must not keep the process alive
    thread.on('message', (response: DecodeResponse) => this.onResponse(poolWorker, response));
    thread.on('error', (err) => this.onWorkerDeath(poolWorker, err instanceof Error ? err.message : String(err)));
    thread.on('exit', (code) => {
      if (!this.closed) this.onWorkerDeath(poolWorker, `exited with code ${code}`);
    });
    return poolWorker;
  }

  private onResponse(worker: PoolWorker, response: DecodeResponse): void {
    const task = worker.task;
    worker.task = undefined;
    worker.thread.unref();
    if (task && task.job.id === response.id) {
      if (response.ok) {
        const value = 'check' in response ? response.check : 'preview' in response ? response.preview : response.image;
        this.settle(task, () => task.resolve(value as never));
      }
      else if ('error' in response) {
        const { file, reason, code } = response.error;
        this.settle(task, () => task.reject(new ImagingError(file, reason, code)));
      }
    }
    this.pump();
  }

  private onWorkerDeath(worker: PoolWorker, why: string): void {
    const index = this.workers.indexOf(worker);
    if (index < 0) return;
    const task = worker.task;
    worker.task = undefined;
    if (task) this.settle(task, () => task.reject(new ImagingError(task.source, `decoder worker failed: ${why}`, 'corrupt')));
    void worker.thread.terminate();
    if (this.closed) {
      this.workers.splice(index, 1);
      return;
    }
    this.workers[index] = this.spawn();
    this.pump();
  }

  /** A worker still busy past the task's limit: the task fails, and the worker is replaced (it may be stuck in a loop). */
  private onTimeout(worker: PoolWorker, task: Task): void {
    if (worker.task !== task || task.settled) return;
    const seconds = Math.round((task.timeoutMs ?? 0) / 100) / 10;
    this.settle(task, () => task.reject(new ImagingError(task.source, `decoding did not finish within ${seconds} s`, 'corrupt')));
    this.onWorkerDeath(worker, 'timed out');
  }

  private cancel(task: Task): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) this.queue.splice(queued, 1);
    else if (task.worker?.task === task) task.worker.thread.postMessage({ type: 'cancel', id: task.job.id } satisfies DecodeRequest);
    this.settle(task, () => task.reject(abortReason(task.signal!)));
  }

  /** Run `finish` once per task and detach its abort listener. */
  private settle(task: Task, finish: () => void): void {
    if (task.settled) return;
    task.settled = true;
    if (task.timer) clearTimeout(task.timer);
    if (task.signal && task.onAbort) task.signal.removeEventListener('abort', task.onAbort);
    finish();
  }

  private pump(): void {
    if (this.closed) return;
    for (const worker of this.workers) {
      if (worker.task || this.queue.length === 0) continue;
      const task = this.queue.shift()!;
      worker.task = task;
      task.worker = worker;
      worker.thread.ref(); // a running decode keeps the process alive until it answers
      if (task.timeoutMs !== undefined) task.timer = setTimeout(() => this.onTimeout(worker, task), task.timeoutMs);
      worker.thread.postMessage(task.job);
    }
  }
}
