/**
 * Messages between the data-parallel replica pool (replica-pool.ts) and its worker threads
 * (replica-worker.ts). Tensors travel as Float32Arrays; the frozen backbone travels once, in one
 * SharedArrayBuffer every worker reads.
 */
import type { AdapterConfig } from '../model/adapter-config';
import type { ViTConfig } from '../model/config';
import type { TrainTaskKind } from './types';

/** What a replica runs its forward pass on: preprocessed images, or cached tokens after the frozen prefix. */
export type ReplicaInput =
  | { kind: 'images'; data: Float32Array; count: number; size: number }
  | { kind: 'tokens'; data: Float32Array; count: number; startLayer: number };

export interface PackedTensors {
  /** name, shape, offset (in floats) into `buffer`. */
  entries: Array<[string, number[], number]>;
  buffer: SharedArrayBuffer | ArrayBuffer;
}

export type ReplicaRequest =
  | {
      type: 'init';
      /** The backend the pool's owner uses (MEDTUNE_BACKEND names), so replicas compute alike. */
      backend?: string;
      backbone: { config: ViTConfig; weights: PackedTensors };
      adapter: AdapterConfig;
      variables: PackedTensors;
      task: TrainTaskKind;
      numClasses: number;
    }
  | {
      type: 'gradients';
      id: number;
      variables: PackedTensors;
      input: ReplicaInput;
      /** Class ids (multi-class/ordinal) or 0/1 rows [count × C] (multi-label). */
      labels: Float32Array;
      classWeights?: Float32Array;
      microBatch: number;
      /** Samples in the whole effective batch: each micro-batch's gradient is weighted by its share of it. */
      batchTotal: number;
      /** Class-weighted single-label loss: Σ of the whole batch's class weights (shares count by weight, see loss-share.ts). */
      batchWeight?: number;
    }
  | { type: 'predict'; id: number; variables: PackedTensors; input: ReplicaInput; microBatch: number }
  /** The frozen prefix (blocks before the adapter's start layer) of images, for the prefix cache. */
  | { type: 'prefix'; id: number; input: Extract<ReplicaInput, { kind: 'images' }>; microBatch: number };

export type ReplicaMessage =
  | { type: 'ready'; backend: string }
  | { type: 'gradients'; id: number; loss: number; grads: PackedTensors }
  | { type: 'predict'; id: number; logits: Float32Array; features: Float32Array }
  | { type: 'prefix'; id: number; tokens: Float32Array }
  | { type: 'error'; id?: number; message: string };

/** Packs named float tensors into one buffer (shared when asked, so workers read it without copies). */
export function packTensors(tensors: Iterable<[string, { shape: number[]; data: Float32Array }]>, shared = false): PackedTensors {
  const list = [...tensors];
  const total = list.reduce((n, [, t]) => n + t.data.length, 0);
  const buffer = shared ? new SharedArrayBuffer(total * 4) : new ArrayBuffer(total * 4);
  const view = new Float32Array(buffer);
  const entries: PackedTensors['entries'] = [];
  let offset = 0;
  for (const [name, t] of list) {
    view.set(t.data, offset);
    entries.push([name, [...t.shape], offset]);
    offset += t.data.length;
  }
  return { entries, buffer };
}

/** Views (no copies) of the tensors in a packed buffer. */
export function unpackTensors(packed: PackedTensors): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape, offset] of packed.entries) {
    const size = shape.reduce((a, b) => a * b, 1);
    out.set(name, { shape, data: new Float32Array(packed.buffer, offset * 4, size) });
  }
  return out;
}
