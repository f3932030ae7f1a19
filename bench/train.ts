/**
 * `npm run bench:train` — adapter training and inference speed of MedTune next to the repository's
 * PyTorch reference (bench/reference/vit_adapters.py, run with Debian's /usr/bin/python3 + torch),
 * same models, adapters, batch and image size, measured in the same invocation. Installs nothing;
 * reports PyTorch as missing when it is not there (see docs/benchmarks.md for the two apt packages).
 *
 *   npm run bench:train -- [--models tiny,small,base] [--methods ept,dvpt] [--batch 8] [--micro 8]
 *                          [--steps 3] [--warmup 1] [--image-size 224] [--backend wasm] [--replicas N] [--json out.json]
 *
 * --backend: node-gpu, node, webgpu, wasm or cpu (default: the best available, as the app chooses).
 * --replicas: data-parallel worker threads for MedTune (default: one per core on wasm/cpu, 0 on native
 * tfjs and GPU backends; 0 = everything in this thread).
 * Memory: besides peak RSS, one extra (untimed) in-thread training step runs under tf.profile for its peak
 * tensor bytes (frozen weights included), and on a GPU backend tf.memory() gives the bytes the backend holds
 * on the GPU (numBytesInGPU, live) and has allocated there (numBytesAllocatedInGPU: webgpu keeps freed
 * buffers for reuse, so this is the step's high-water mark).
 * --start-layer k: adds a MedTune row per model and method with the adapter in blocks k..L−1 only, timing
 * a training step from cached frozen-prefix tokens (as in epochs ≥ 2; computing the prefix is excluded),
 * with the same replicas. PyTorch stays at full depth: the comparison issue #8 asks for.
 * MedTune's timed step is the trainer's own (core/train/step.ts): 8-bit inputs to NCHW floats, the
 * micro-batches' (or replicas') gradients of the whole batch, and the AdamW update.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HALF_NORMALIZATION } from '../core/imaging/model-input';
import { parseAdapterConfig, type AdapterConfig } from '../core/model/adapter-config';
import { activeBackend, describeBackend, initBackend } from '../core/model/backend';
import type { ViTConfig } from '../core/model/config';
import { AdaptedViT } from '../core/model/model';
import { randomBackboneWeights } from '../core/model/random-weights';
import { ViTBackbone } from '../core/model/vit';
import { seededRandom } from '../core/util/prng';
import { batchTensor } from '../core/train/batches';
import { PrefixCache } from '../core/train/prefix-cache';
import { defaultReplicaCount, ReplicaPool } from '../core/train/replica-pool';
import { TrainingStep } from '../core/train/step';
import type { Sample } from '../core/train/types';
import { openBlasEnvironment, type OpenBlasChoice } from './openblas';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const MODELS = opt('models', 'tiny,small').split(',');
const METHODS = opt('methods', 'ept,dvpt').split(',') as ('ept' | 'dvpt' | 'linear')[];
const BATCH = Number(opt('batch', '8'));
const MICRO = Number(opt('micro', String(BATCH)));
const STEPS = Number(opt('steps', '3'));
const WARMUP = Number(opt('warmup', '1'));
const SIZE = Number(opt('image-size', '224'));
const JSON_OUT = opt('json', '');
const REPLICAS_OPT = opt('replicas', '');
const START_LAYER = opt('start-layer', '') === '' ? undefined : Number(opt('start-layer', ''));
const PYTHON = '/usr/bin/python3';
const REFERENCE = path.resolve(import.meta.dirname, 'reference', 'vit_adapters.py');

const SHAPES: Record<string, { embedDim: number; depth: number; numHeads: number }> = {
  tiny: { embedDim: 192, depth: 12, numHeads: 3 },
  small: { embedDim: 384, depth: 12, numHeads: 6 },
  base: { embedDim: 768, depth: 12, numHeads: 12 },
};

function vitConfig(model: string): ViTConfig {
  const shape = SHAPES[model];
  if (!shape) throw new Error(`unknown model "${model}" (tiny, small, base)`);
  return { architecture: 'vit', imageSize: SIZE, patchSize: 16, mlpRatio: 4, qkvBias: true, layerNormEps: 1e-6, gelu: 'erf', classToken: true, pool: 'token', finalNorm: true, ...shape } as ViTConfig;
}

function adapterConfig(method: string): AdapterConfig {
  const extra = method === 'ept' ? { promptLength: 100 } : method === 'dvpt' ? { bottleneck: 64, numPrompts: 10, share: 3 } : {};
  return parseAdapterConfig({ method, numClasses: 5, task: 'multiclass', ...extra }, 'bench');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Peak resident memory, sampled while `fn` runs. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, peakMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

interface Side {
  trainMs?: number;
  trainImagesPerSec?: number;
  inferMs?: number;
  inferImagesPerSec?: number;
  peakMb?: number;
  /** Peak tensor memory of one training step (tf.profile peakBytes), in-thread runs only. */
  stepPeakTensorMb?: number;
  /** tf.memory() after that step, where the backend reports GPU memory (webgpu). */
  gpuMb?: number;
  gpuAllocatedMb?: number;
  error?: string;
  backend?: string;
}

/** One more training step under tf.profile: its peak tensor bytes, and what the backend holds on the GPU. */
async function stepMemory(step: () => Promise<void>): Promise<Pick<Side, 'stepPeakTensorMb' | 'gpuMb' | 'gpuAllocatedMb'>> {
  const info = await tf.profile(async () => {
    await step();
  });
  const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  const mb = (bytes?: number) => (bytes === undefined ? undefined : bytes / 2 ** 20);
  return { stepPeakTensorMb: mb(info.peakBytes), gpuMb: mb(memory.numBytesInGPU), gpuAllocatedMb: mb(memory.numBytesAllocatedInGPU) };
}

/** BATCH random 8-bit images at the model's size (what the input cache holds), labels cycling over 5 classes. */
function benchSamples(): Sample[] {
  const random = seededRandom('bench:train');
  return Array.from({ length: BATCH }, (_, i) => ({ input: Uint8Array.from({ length: SIZE * SIZE * 3 }, () => Math.floor(random() * 256)), label: i % 5 }));
}

/** The trainer's own step (core/train/step.ts): micro-batches of MICRO in this thread, or split over the replicas. */
function benchStep(m: AdaptedViT, pool: ReplicaPool | null): TrainingStep {
  return new TrainingStep(m, {
    task: 'multiclass',
    numClasses: 5,
    size: SIZE,
    normalization: HALF_NORMALIZATION,
    microBatchSize: MICRO,
    optimizer: { kind: 'adamw', weightDecay: 1e-4 },
    augmentation: null,
    replicas: pool,
  });
}

async function medtune(model: string, method: string, replicaCount: number): Promise<Side> {
  const config = vitConfig(model);
  const backbone = new ViTBackbone(config, randomBackboneWeights(config, 1));
  const m = AdaptedViT.initialise(backbone, adapterConfig(method), 0);
  const samples = benchSamples();
  const images = batchTensor(samples, SIZE, HALF_NORMALIZATION, null);
  let pool = null as ReplicaPool | null;
  let trainer: TrainingStep | undefined;
  const replicaImages = { kind: 'images' as const, data: images.dataSync() as Float32Array, count: BATCH, size: SIZE };
  const step = async () => {
    await trainer!.run(samples, 1e-3);
  };
  const parallelInfer = async () => {
    await pool!.predict(replicaImages, MICRO);
  };
  const infer = async () => {
    for (let s = 0; s < BATCH; s += MICRO) {
      const n = Math.min(MICRO, BATCH - s);
      const logits = tf.tidy(() => m.forward(tf.slice(images, [s, 0, 0, 0], [n, -1, -1, -1]), { layout: 'NCHW' }).logits);
      await logits.data();
      logits.dispose();
    }
  };
  const time = async (fn: () => Promise<void>) => {
    for (let i = 0; i < WARMUP; i++) await fn();
    const samples: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const t = performance.now();
      await fn();
      samples.push(performance.now() - t);
    }
    return median(samples);
  };
  try {
    const { value, peakMb } = await withPeakRss(async () => {
      if (replicaCount > 0) pool = await ReplicaPool.start(m, { replicas: replicaCount, task: 'multiclass', numClasses: 5, backend: activeBackend()?.name });
      trainer = benchStep(m, pool);
      return pool ? { train: await time(step), infer: await time(parallelInfer) } : { train: await time(step), infer: await time(infer), memory: await stepMemory(step) };
    });
    return { trainMs: value.train, trainImagesPerSec: (BATCH * 1000) / value.train, inferMs: value.infer, inferImagesPerSec: (BATCH * 1000) / value.infer, peakMb, ...value.memory };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] };
  } finally {
    await pool?.close();
    images.dispose();
    trainer?.dispose();
    m.dispose();
    backbone.dispose();
  }
}

/** A training step of an adapter in blocks k..L−1 from cached prefix tokens (the prefix is computed once, untimed). */
async function medtuneCachedPrefix(model: string, method: string, startLayer: number, replicaCount: number): Promise<Side & { prefixMs?: number }> {
  const config = vitConfig(model);
  if (!Number.isInteger(startLayer) || startLayer < 1 || startLayer >= config.depth) {
    return { error: `--start-layer must be an integer in 1..${config.depth - 1}, got ${startLayer}` };
  }
  const late: Record<string, unknown> = { ...adapterConfig(method) };
  if (method === 'ept') late.layers = Array.from({ length: config.depth - startLayer }, (_, i) => startLayer + i);
  if (method === 'dvpt') late.startLayer = startLayer;
  const backbone = new ViTBackbone(config, randomBackboneWeights(config, 1));
  const m = AdaptedViT.initialise(backbone, parseAdapterConfig(late, 'bench'), 0);
  const samples = benchSamples();
  let pool = null as ReplicaPool | null;
  let trainer: TrainingStep | undefined;
  let cache: PrefixCache | undefined;
  try {
    const { value, peakMb } = await withPeakRss(async () => {
      const t0 = performance.now();
      cache = await PrefixCache.build(m, samples.map((s) => s.input), { size: SIZE, normalization: HALF_NORMALIZATION, batchSize: MICRO });
      const prefixMs = performance.now() - t0;
      if (replicaCount > 0) pool = await ReplicaPool.start(m, { replicas: replicaCount, task: 'multiclass', numClasses: 5, backend: activeBackend()?.name });
      trainer = benchStep(m, pool);
      trainer.prefixCache = cache;
      const step = () => trainer!.run(samples, 1e-3);
      for (let i = 0; i < WARMUP; i++) await step();
      const times: number[] = [];
      for (let i = 0; i < STEPS; i++) {
        const t = performance.now();
        await step();
        times.push(performance.now() - t);
      }
      return { train: median(times), prefixMs };
    });
    return { trainMs: value.train, trainImagesPerSec: (BATCH * 1000) / value.train, prefixMs: value.prefixMs, peakMb };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] };
  } finally {
    await pool?.close();
    cache?.clear();
    trainer?.dispose();
    m.dispose();
    backbone.dispose();
  }
}

let openBlas: OpenBlasChoice | undefined;

function pytorch(model: string, method: string): Side {
  if (!fs.existsSync(PYTHON)) return { error: `${PYTHON} not found` };
  openBlas ??= openBlasEnvironment(PYTHON);
  const r = spawnSync(
    PYTHON,
    [REFERENCE, 'bench', '--model', `vit-${model}`, '--method', method, '--batch', String(BATCH), '--image-size', String(SIZE), '--steps', String(STEPS), '--warmup', String(WARMUP), '--json'],
    { encoding: 'utf8', maxBuffer: 16 * 2 ** 20, env: openBlas.env },
  );
  if (r.status !== 0) return { error: r.status === 3 ? 'PyTorch not installed (apt-get install python3-torch libopenblas0-pthread)' : (r.stderr || r.stdout).trim().split('\n').at(-1) };
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { train: { medianMs: number }; inference: { medianMs: number }; peakRssMb: number; torchVersion: string };
  return {
    trainMs: j.train.medianMs,
    trainImagesPerSec: (BATCH * 1000) / j.train.medianMs,
    inferMs: j.inference.medianMs,
    inferImagesPerSec: (BATCH * 1000) / j.inference.medianMs,
    peakMb: j.peakRssMb,
    backend: `torch ${j.torchVersion}`,
  };
}

const f = (v?: number, d = 1) => (v === undefined ? '–' : v.toFixed(d));

async function main(): Promise<void> {
  // Before the backend: MedTune's own OpenBLAS (native/blas) sets OPENBLAS_CORETYPE in this process when it loads.
  if (fs.existsSync(PYTHON)) openBlas = openBlasEnvironment(PYTHON);
  const backend = await initBackend({ force: opt('backend', '') || undefined });
  if (backend.adapter?.software) console.log(`note: ${backend.adapter.description} is a software (CPU) adapter: correct, but no measure of a GPU's speed.`);
  const replicaCount = REPLICAS_OPT ? Number(REPLICAS_OPT) : defaultReplicaCount(backend.name);
  const cpu = os.cpus();
  console.log(`bench:train — ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`);
  console.log(`MedTune backend: ${describeBackend(backend)}; ${replicaCount > 0 ? `${replicaCount} data-parallel replicas` : 'one thread'}; batch ${BATCH} (micro-batch ${MICRO}), ${SIZE}², ${WARMUP} warm-up + ${STEPS} timed steps, median`);
  if (openBlas) console.log(openBlas.note);
  console.log('');
  console.log('| model | method | MedTune train img/s | PyTorch train img/s | train time ratio | MedTune infer img/s | PyTorch infer img/s | infer time ratio | MedTune peak RSS MB | PyTorch peak RSS MB | MedTune step peak tensor MB | MedTune GPU MB (held / allocated) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const rows: unknown[] = [];
  for (const model of MODELS) {
    for (const method of METHODS) {
      const ours = await medtune(model, method, replicaCount);
      const ref = pytorch(model, method);
      const ratio = (a?: number, b?: number) => (a && b ? (a / b).toFixed(2) + '×' : '–');
      console.log(
        `| ViT-${model} | ${method} | ${ours.error ? `error: ${ours.error}` : f(ours.trainImagesPerSec, 2)} | ${ref.error ? ref.error : f(ref.trainImagesPerSec, 2)} | ${ratio(ours.trainMs, ref.trainMs)} | ${f(ours.inferImagesPerSec, 2)} | ${f(ref.inferImagesPerSec, 2)} | ${ratio(ours.inferMs, ref.inferMs)} | ${f(ours.peakMb, 0)} | ${f(ref.peakMb, 0)} | ${f(ours.stepPeakTensorMb, 0)} | ${ours.gpuMb === undefined ? '–' : `${f(ours.gpuMb, 0)} / ${f(ours.gpuAllocatedMb, 0)}`} |`,
      );
      rows.push({ model, method, medtune: { ...ours, backend: backend.name, replicas: replicaCount }, pytorch: ref });
      if (START_LAYER !== undefined) {
        const cached = await medtuneCachedPrefix(model, method, START_LAYER, replicaCount);
        const label = `${method}, cached prefix (adapters in layers ${START_LAYER}..${vitConfig(model).depth - 1})`;
        console.log(
          `| ViT-${model} | ${label} | ${cached.error ? `error: ${cached.error}` : f(cached.trainImagesPerSec, 2)} | ${ref.error ? ref.error : `${f(ref.trainImagesPerSec, 2)} (full depth)`} | ${ratio(cached.trainMs, ref.trainMs)} | – | – | – | ${f(cached.peakMb, 0)} | – | – | – |`,
        );
        rows.push({ model, method: label, startLayer: START_LAYER, medtune: { ...cached, backend: backend.name, replicas: replicaCount }, pytorch: ref });
      }
    }
  }
  console.log('');
  console.log('ratio = MedTune time / PyTorch time (lower is better; 1.00× = as fast as PyTorch).');
  console.log('step peak tensor MB: tf.profile peakBytes of one in-thread training step, frozen weights included (– with replicas: the tensors live in the workers). GPU MB: tf.memory() numBytesInGPU / numBytesAllocatedInGPU after that step (webgpu only).');
  if (START_LAYER !== undefined) {
    console.log(`cached-prefix rows: blocks 0..${START_LAYER - 1} ran once per image before timing (as in epochs ≥ 2), so a step computes blocks ${START_LAYER}.. only; PyTorch runs the full depth.`);
  }
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify({ batch: BATCH, micro: MICRO, size: SIZE, steps: STEPS, rows }, null, 2));
}

await main();
