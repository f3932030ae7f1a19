/**
 * Data-parallel training on the CPU: the wasm backend uses one thread (its threaded build cannot
 * start in Node), so each core gets a replica — a worker thread with its own wasm instance, the
 * frozen backbone and the adapter. A step splits the effective batch into one share per replica,
 * each computes its share's gradient, and the owner sums them and steps its optimiser; inference
 * splits batches the same way. Gradients are exactly those of the whole batch (each micro-batch is
 * weighted by its share of it), so results do not depend on the number of replicas.
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AdaptedViT } from '../model/model';
import { classWeightSum } from './loss-share';
import { packTensors, unpackTensors, type PackedTensors, type ReplicaInput, type ReplicaMessage, type ReplicaRequest } from './replica-protocol';
import type { TrainTaskKind } from './types';

export interface ReplicaPoolOptions {
  replicas: number;
  task: TrainTaskKind;
  numClasses: number;
  /** Backend for the replicas (the owner's, by MEDTUNE_BACKEND name). */
  backend?: string;
}

/** Replicas worth starting here: one per core for the single-threaded CPU backends, none on native or GPU ones. */
export function defaultReplicaCount(backend: string | undefined): number {
  const env = process.env.MEDTUNE_TRAIN_REPLICAS?.trim();
  if (env) {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0) throw new Error(`MEDTUNE_TRAIN_REPLICAS must be a whole number ≥ 0, got "${env}"`);
    return n;
  }
  // Native tfjs (CPU or GPU) already uses every core, and on a GPU backend (node-gpu, webgpu) one
  // process drives the GPU: a second copy would only compete for it.
  if (backend !== 'wasm' && backend !== 'cpu') return 0;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return cores >= 2 ? cores : 0;
}

/**
 * Each replica holds the frozen weights plus its own wasm heap (at most 4 GB, activations of one
 * micro-batch). Counting weights × 3 + 1 GB per replica against half the machine's memory keeps a
 * many-core workstation from starting more copies of a ViT-B than it can hold; at most 8, beyond
 * which summing gradients costs more than another share saves.
 */
export function replicasThatFit(model: AdaptedViT, totalMemory = os.totalmem()): number {
  const weightBytes = model.backbone.parameterCount() * 4;
  const perReplica = Math.min(4 * 2 ** 30, 3 * weightBytes + 2 ** 30);
  return Math.max(1, Math.min(8, Math.floor((totalMemory * 0.5) / perReplica)));
}

function workerUrl(): URL {
  const here: string | undefined = import.meta.url;
  if (here?.endsWith('.ts')) return new URL('./replica-worker.mjs', here);
  // CommonJS bundle (Electron): bundled beside the trainer.
  if (typeof __dirname === 'string') return pathToFileURL(path.join(__dirname, 'replica-worker.cjs'));
  throw new Error('ReplicaPool: cannot locate its worker script');
}

interface Pending {
  resolve(m: ReplicaMessage): void;
  reject(e: Error): void;
}

class Replica {
  private readonly pending = new Map<number, Pending>();
  private ready: Promise<void>;
  private dead: Error | null = null;

  constructor(
    readonly thread: Worker,
    init: ReplicaRequest,
  ) {
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    thread.on('message', (m: ReplicaMessage) => {
      if (m.type === 'ready') return markReady();
      if (m.type === 'error' && m.id === undefined) return failReady(new Error(`a training replica failed to start: ${m.message}`));
      const p = m.type === 'error' || 'id' in m ? this.pending.get(m.id!) : undefined;
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.type === 'error') p.reject(new Error(`a training replica failed: ${m.message}`));
      else p.resolve(m);
    });
    const die = (e: Error) => {
      this.dead = e;
      failReady(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    thread.on('error', (e) => die(new Error(`a training replica crashed: ${e.message}`)));
    thread.on('exit', (code) => die(new Error(`a training replica stopped (exit code ${code})`)));
    thread.postMessage(init);
  }

  async request(req: ReplicaRequest & { id: number }, transfer: ArrayBuffer[] = []): Promise<ReplicaMessage> {
    await this.ready;
    if (this.dead) throw this.dead;
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.thread.postMessage(req, transfer);
    });
  }

  whenReady(): Promise<void> {
    return this.ready;
  }
}

export class ReplicaPool {
  private readonly replicas: Replica[];
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly model: AdaptedViT,
    replicas: Replica[],
  ) {
    this.replicas = replicas;
  }

  /** Starts the replicas with copies of the model's backbone and adapter; resolves when all are ready. */
  static async start(model: AdaptedViT, options: ReplicaPoolOptions): Promise<ReplicaPool> {
    if (options.replicas < 1) throw new Error('a replica pool needs at least one replica');
    // One shared copy of the frozen weights for every replica to read while building its own.
    const weights = packTensors(model.backbone.exportWeights(), true);
    const variables = packTensors(await model.exportTensors());
    const url = workerUrl();
    const replicas = Array.from({ length: options.replicas }, () =>
      new Replica(new Worker(url), {
        type: 'init',
        backend: options.backend,
        backbone: { config: model.backbone.config, weights },
        adapter: model.adapter,
        variables,
        task: options.task,
        numClasses: options.numClasses,
      }),
    );
    const pool = new ReplicaPool(model, replicas);
    try {
      await Promise.all(replicas.map((r) => r.whenReady()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.replicas.length;
  }

  private variables(): PackedTensors {
    const list: Array<[string, { shape: number[]; data: Float32Array }]> = [];
    for (const [name, v] of this.model.variables) list.push([name, { shape: [...v.shape], data: v.dataSync() as Float32Array }]);
    return packTensors(list, true);
  }

  /** Contiguous shares of `count` rows, one per replica (fewer when there are fewer rows). */
  private shares(count: number): Array<[number, number]> {
    const k = Math.min(this.replicas.length, count);
    const out: Array<[number, number]> = [];
    let start = 0;
    for (let i = 0; i < k; i++) {
      const n = Math.floor(count / k) + (i < count % k ? 1 : 0);
      out.push([start, n]);
      start += n;
    }
    return out;
  }

  /**
   * Loss and gradient of one effective batch (the model's current adapter values), each replica
   * computing its share in micro-batches. Gradients are summed over the replicas.
   */
  async gradients(
    input: ReplicaInput,
    labels: Float32Array,
    options: { microBatch: number; classWeights?: Float32Array },
  ): Promise<{ loss: number; grads: Map<string, { shape: number[]; data: Float32Array }> }> {
    this.checkOpen();
    const variables = this.variables();
    const perRow = labels.length / input.count;
    // Single-label and class-weighted: each share counts by its weight sum (loss-share.ts).
    const batchWeight = options.classWeights && perRow === 1 ? classWeightSum(labels, options.classWeights) : undefined;
    const replies = await Promise.all(
      this.shares(input.count).map(([start, n], i) =>
        this.replicas[i].request({
          type: 'gradients',
          id: this.nextId++,
          variables,
          input: sliceInput(input, start, n),
          labels: labels.slice(start * perRow, (start + n) * perRow),
          classWeights: options.classWeights,
          microBatch: options.microBatch,
          batchTotal: input.count,
          batchWeight,
        }),
      ),
    );
    let loss = 0;
    const grads = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const reply of replies) {
      if (reply.type !== 'gradients') throw new Error(`unexpected replica reply "${reply.type}"`);
      loss += reply.loss;
      for (const [name, g] of unpackTensors(reply.grads)) {
        const sum = grads.get(name);
        if (!sum) grads.set(name, { shape: g.shape, data: Float32Array.from(g.data) });
        else for (let j = 0; j < sum.data.length; j++) sum.data[j] += g.data[j];
      }
    }
    return { loss, grads };
  }

  /** Logits [count × C] and pre-logits features [count × D] of the rows, split over the replicas. */
  async predict(input: ReplicaInput, microBatch: number): Promise<{ logits: Float32Array; features: Float32Array }> {
    this.checkOpen();
    const C = this.model.adapter.numClasses;
    const D = this.model.backbone.config.embedDim;
    const variables = this.variables();
    const logits = new Float32Array(input.count * C);
    const features = new Float32Array(input.count * D);
    await Promise.all(
      this.shares(input.count).map(async ([start, n], i) => {
        const reply = await this.replicas[i].request({ type: 'predict', id: this.nextId++, variables, input: sliceInput(input, start, n), microBatch });
        if (reply.type !== 'predict') throw new Error(`unexpected replica reply "${reply.type}"`);
        logits.set(reply.logits, start * C);
        features.set(reply.features, start * D);
      }),
    );
    return { logits, features };
  }

  /** The model's frozen-prefix tokens of the images ([count × rows × D]), split over the replicas. */
  async prefixTokens(input: Extract<ReplicaInput, { kind: 'images' }>, microBatch: number): Promise<Float32Array> {
    this.checkOpen();
    const perImage = this.model.prefixRowsPerImage * this.model.backbone.config.embedDim;
    const tokens = new Float32Array(input.count * perImage);
    await Promise.all(
      this.shares(input.count).map(async ([start, n], i) => {
        const reply = await this.replicas[i].request({ type: 'prefix', id: this.nextId++, input: sliceInput(input, start, n) as typeof input, microBatch });
        if (reply.type !== 'prefix') throw new Error(`unexpected replica reply "${reply.type}"`);
        tokens.set(reply.tokens, start * perImage);
      }),
    );
    return tokens;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.replicas.map((r) => r.thread.terminate()));
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the replica pool is closed');
  }
}

/** Rows [start, start + n) of an input (a copy: it is transferred to one replica). */
function sliceInput(input: ReplicaInput, start: number, n: number): ReplicaInput {
  const perRow = input.data.length / input.count;
  const data = input.data.slice(start * perRow, (start + n) * perRow);
  return input.kind === 'images' ? { kind: 'images', data, count: n, size: input.size } : { kind: 'tokens', data, count: n, startLayer: input.startLayer };
}

/**
 * The pool a training run or prediction uses: none when one thread is best (native backend,
 * one core, MEDTUNE_TRAIN_REPLICAS=0, or too few images to be worth starting threads), and none —
 * with the reason — when the replicas fail to start, so work goes on in one thread.
 */
export async function startReplicasFor(
  model: AdaptedViT,
  options: { task: TrainTaskKind; numClasses: number; images: number; backend?: string },
): Promise<{ pool: ReplicaPool | null; message: string }> {
  let count: number;
  try {
    count = Math.min(defaultReplicaCount(options.backend), options.images, replicasThatFit(model));
  } catch (err) {
    return { pool: null, message: `one thread (${(err as Error).message})` };
  }
  if (count < 2) return { pool: null, message: 'one thread' };
  try {
    const pool = await ReplicaPool.start(model, { replicas: count, task: options.task, numClasses: options.numClasses, backend: options.backend });
    return { pool, message: `${count} data-parallel replicas` };
  } catch (err) {
    return { pool: null, message: `one thread (replicas failed to start: ${(err as Error).message})` };
  }
}
