/**
 * One data-parallel replica: its own tfjs instance (its own wasm heap and thread) holding a copy of
 * the frozen backbone and the adapter. Each request brings the adapter's current values, so the
 * replicas never drift from the optimiser that lives with the pool's owner.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../model/backend';
import { useOneBlasThread } from '../model/native-blas';
import { taskLoss } from '../model/heads';
import { AdaptedViT } from '../model/model';
import { ViTBackbone } from '../model/vit';
import { lossShare } from './loss-share';
import { packTensors, unpackTensors, type PackedTensors, type ReplicaInput, type ReplicaMessage, type ReplicaRequest } from './replica-protocol';
import type { TrainTaskKind } from './types';

if (!parentPort) throw new Error('replica-worker must run in a worker thread');
const port = parentPort;
const send = (m: ReplicaMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let model: AdaptedViT | null = null;
let task: TrainTaskKind = 'multiclass';
let numClasses = 1;

function setVariables(packed: PackedTensors): void {
  tf.tidy(() => {
    for (const [name, t] of unpackTensors(packed)) model!.variables.get(name)?.assign(tf.tensor(t.data, t.shape));
  });
}

/** Rows [start, start + n) of the input as the tensor the model's forward pass takes. */
function inputSlice(input: ReplicaInput, start: number, n: number): tf.Tensor {
  if (input.kind === 'images') {
    const plane = 3 * input.size * input.size;
    return tf.tensor4d(input.data.subarray(start * plane, (start + n) * plane), [n, 3, input.size, input.size]);
  }
  const D = model!.backbone.config.embedDim;
  const rows = input.data.length / input.count / D; // tokens per image (1 for a linear head's pooled feature)
  return tf.tensor2d(input.data.subarray(start * rows * D, (start + n) * rows * D), [n * rows, D]);
}

function forward(input: ReplicaInput, x: tf.Tensor, n: number): { features: tf.Tensor2D; logits: tf.Tensor2D } {
  if (input.kind === 'images') return model!.forward(x as tf.Tensor4D, { layout: 'NCHW' });
  if (input.startLayer !== model!.startLayer) throw new Error(`cached tokens start at block ${input.startLayer}, the adapter at ${model!.startLayer}`);
  return model!.forwardFromTokens(x as tf.Tensor2D, n);
}

function labelSlice(labels: Float32Array, start: number, n: number): tf.Tensor {
  if (task === 'multilabel') return tf.tensor2d(labels.subarray(start * numClasses, (start + n) * numClasses), [n, numClasses]);
  return tf.tensor1d(Int32Array.from(labels.subarray(start, start + n)), 'int32');
}

function gradients(req: Extract<ReplicaRequest, { type: 'gradients' }>): void {
  setVariables(req.variables);
  const variables = [...model!.variables];
  const sums = new Map<string, Float32Array>(variables.map(([name, v]) => [name, new Float32Array(v.size)]));
  const weights = req.classWeights ? tf.tensor1d(req.classWeights) : undefined;
  let loss = 0;
  try {
    for (let start = 0; start < req.input.count; start += req.microBatch) {
      const n = Math.min(req.microBatch, req.input.count - start);
      const share =
        req.batchWeight !== undefined && req.classWeights
          ? lossShare(req.labels.subarray(start, start + n), req.batchTotal, { classWeights: req.classWeights, batchWeight: req.batchWeight })
          : n / req.batchTotal;
      const x = inputSlice(req.input, start, n);
      const y = labelSlice(req.labels, start, n);
      const { value, grads } = tf.variableGrads(
        () => tf.tidy(() => taskLoss(task, forward(req.input, x, n).logits, y, weights)),
        variables.map(([, v]) => v),
      );
      loss += value.dataSync()[0] * share;
      for (const [name, v] of variables) {
        const g = grads[v.name];
        if (!g) continue;
        const values = g.dataSync() as Float32Array;
        const sum = sums.get(name)!;
        for (let i = 0; i < sum.length; i++) sum[i] += values[i] * share;
      }
      tf.dispose([x, y, value, ...Object.values(grads)]);
    }
  } finally {
    weights?.dispose();
  }
  const packed = packTensors([...sums].map(([name, data]) => [name, { shape: [...model!.variables.get(name)!.shape], data }]));
  send({ type: 'gradients', id: req.id, loss, grads: packed }, [packed.buffer as ArrayBuffer]);
}

function predict(req: Extract<ReplicaRequest, { type: 'predict' }>): void {
  setVariables(req.variables);
  const C = model!.adapter.numClasses;
  const D = model!.backbone.config.embedDim;
  const logits = new Float32Array(req.input.count * C);
  const features = new Float32Array(req.input.count * D);
  for (let start = 0; start < req.input.count; start += req.microBatch) {
    const n = Math.min(req.microBatch, req.input.count - start);
    const [l, f] = tf.tidy(() => {
      const out = forward(req.input, inputSlice(req.input, start, n), n);
      return [out.logits, out.features];
    });
    logits.set(l.dataSync() as Float32Array, start * C);
    features.set(f.dataSync() as Float32Array, start * D);
    tf.dispose([l, f]);
  }
  send({ type: 'predict', id: req.id, logits, features }, [logits.buffer, features.buffer]);
}

function prefix(req: Extract<ReplicaRequest, { type: 'prefix' }>): void {
  const perImage = model!.prefixRowsPerImage * model!.backbone.config.embedDim;
  const tokens = new Float32Array(req.input.count * perImage);
  for (let start = 0; start < req.input.count; start += req.microBatch) {
    const n = Math.min(req.microBatch, req.input.count - start);
    const t = tf.tidy(() => model!.prefixTokens(inputSlice(req.input, start, n) as tf.Tensor4D, 'NCHW'));
    tokens.set(t.dataSync() as Float32Array, start * perImage);
    t.dispose();
  }
  send({ type: 'prefix', id: req.id, tokens }, [tokens.buffer]);
}

// Each core runs its own replica, so each replica's matrix products take one OpenBLAS thread.
useOneBlasThread();

port.on('message', (req: ReplicaRequest) => {
  void (async () => {
    const id = 'id' in req ? req.id : undefined;
    try {
      if (req.type === 'init') {
        const backend = await initBackend({ force: req.backend });
        const backbone = new ViTBackbone(req.backbone.config, unpackTensors(req.backbone.weights));
        model = AdaptedViT.fromTensors(backbone, req.adapter, unpackTensors(req.variables), 'replica');
        task = req.task;
        numClasses = req.numClasses;
        send({ type: 'ready', backend: backend.name });
      } else if (!model) {
        throw new Error('replica used before init');
      } else if (req.type === 'gradients') {
        gradients(req);
      } else if (req.type === 'prefix') {
        prefix(req);
      } else {
        predict(req);
      }
    } catch (err) {
      send({ type: 'error', id, message: (err as Error).message });
    }
  })();
});
