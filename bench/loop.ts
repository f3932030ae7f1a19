/**
 * `npm run bench:loop` — label-to-suggestion latency (issue 13 point 5): how long after a labeller's
 * last label the next suggestions are visible, measured through the services the app uses, next to a
 * PyTorch script doing the same training and scoring work (bench/reference/loop_reference.py).
 *
 * Setup (untimed): a workspace of RetinaMNIST (default; 5 DR grades, colour fundus) or PneumoniaMNIST
 * images (/work/shared/data/medmnist), 28² upscaled to the model size and written as PNG via sharp,
 * imported like a user's folder; a random-weight ViT (core/model/random-weights.ts) registered as the
 * backbone. RetinaMNIST has 1,600 images in all its splits: beyond that, mirrored copies (the same
 * fundus as the other eye would show it) make up the count, so --images 2000 works on either set.
 * Per model, two rounds: label 200 cases (ws.labels.setMany, as the label handler does), then 25 more
 * (the warm-started second run). Each round times:
 *   label write → run queued (TrainingService.enqueueTraining) → version active (waitForRun; promote
 *   'always', so the round always ends with a new active version) → every unlabelled case scored
 *   (TrainingService.predict, scope 'unlabeled') → suggestions visible (executeSuggest, margin, 25).
 * Runs and scoring keep the frozen prefix (blocks before the adapter's start layer) on disk in the
 * workspace (core/train/prefix-store.ts), so the second round reads what the first computed.
 * The reference trains the same adapter (same start layer, epochs, batch, optimizer) on the same
 * train/validation/test cases the run used, scores the same unlabelled images and ranks by margin.
 *
 *   npm run bench:loop -- [--dataset retina|pneumonia] [--models tiny,small] [--images 2000] [--labels 200]
 *                         [--more 25] [--epochs 5] [--last-layers 4] [--batch 16] [--quick] [--keep] [--json out.json]
 *                         [--setup-only]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { executeSuggest } from '../core/active/suggest-run';
import { describeBackend, initBackend } from '../core/model/backend';
import type { ViTConfig } from '../core/model/config';
import { randomBackboneWeights } from '../core/model/random-weights';
import { serializeSafetensors } from '../core/model/safetensors';
import { MAX_PAGE, Workspace } from '../core/store';
import { parseTrainJob, resolveAdapterChoice, type TrainJobInput } from '../core/train/job';
import { readMedMnist } from '../core/train/medmnist';
import { TrainingService } from '../core/train/service';
import type { RunEvent } from '../core/train/training-run';
import { seededRandom } from '../core/util/prng';
import { openBlasEnvironment } from './openblas';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const QUICK = args.includes('--quick');
const MODELS = opt('models', 'tiny,small').split(',');
const IMAGES = Number(opt('images', QUICK ? '200' : '2000'));
const LABELS = Number(opt('labels', QUICK ? '50' : '200'));
const MORE = Number(opt('more', '25'));
const EPOCHS = Number(opt('epochs', QUICK ? '2' : '5'));
const LAST_LAYERS = Number(opt('last-layers', '4'));
const BATCH = Number(opt('batch', '16'));
const SIZE = 224;
const JSON_OUT = opt('json', '');
const KEEP = args.includes('--keep');
/** Writes and imports the images, then stops: checks the full setup (e.g. --images 2000) without the training. */
const SETUP_ONLY = args.includes('--setup-only');
const PYTHON = '/usr/bin/python3';
const REFERENCE = path.resolve(import.meta.dirname, 'reference', 'loop_reference.py');
const SHARED = process.env.MEDTUNE_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
const DATASETS: Record<string, { file: string; classes: string[]; kind: 'multiclass' | 'ordinal' }> = {
  // Multiclass (softmax cross-entropy) on both sets: the reference trains the same head and loss.
  retina: { file: 'retinamnist.npz', classes: ['grade0', 'grade1', 'grade2', 'grade3', 'grade4'], kind: 'multiclass' },
  pneumonia: { file: 'pneumoniamnist_reduced_train.npz', classes: ['normal', 'pneumonia'], kind: 'multiclass' },
};
const DATASET = opt('dataset', 'retina');
if (!DATASETS[DATASET]) throw new Error(`unknown --dataset "${DATASET}" (${Object.keys(DATASETS).join(', ')})`);
const DATA = path.join(SHARED, 'data', 'medmnist', DATASETS[DATASET].file);
const CLASSES = DATASETS[DATASET].classes;

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

const seconds = (from: number) => (performance.now() - from) / 1000;

interface Phases {
  labelWrite: number;
  queue: number;
  train: number;
  predict: number;
  suggest: number;
  total: number;
}

interface RoundRecord {
  labelled: number;
  medtune: Phases & {
    /** "train" split: until the first training step (backbone, images, replicas, prefix), the epochs, after them (version saved). */
    trainBreakdown: { beforeFirstStep: number; epochs: number; afterEpochs: number };
    predicted: number;
    prefixFromDisk?: number;
    suggested: number;
    epochs?: string;
    prefix?: string;
  };
  split: { train: number[]; val: number[]; test: number[]; unlabeled: number[] };
}

/**
 * 28² images upscaled to SIZE² PNGs (what a user's folder would hold), and the same pixels raw for the
 * reference. Every split of the set is used; past its end, mirrored copies make up the count.
 */
async function writeImages(dir: string): Promise<{ labels: number[] }> {
  const data = await readMedMnist(DATA);
  const splits = [data.train, data.val, data.test].filter((s) => s && s.n > 0);
  const available = splits.reduce((n, s) => n + s.n, 0);
  const n = IMAGES;
  if (n > 2 * available) throw new Error(`${path.basename(DATA)} has ${available} images; at most ${2 * available} with mirrored copies`);
  if (n > available) console.log(`note: ${path.basename(DATA)} has ${available} images; ${n - available} mirrored copies make up ${n}`);
  const png = path.join(dir, 'png');
  fs.mkdirSync(png, { recursive: true });
  const raw = Buffer.alloc(n * SIZE * SIZE * 3);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    let k = i % available;
    const split = splits.find((s) => (k < s.n ? true : ((k -= s.n), false)))!;
    const side = split.width;
    const per = side * side * split.channels;
    const pixels = Buffer.from(split.images.subarray(k * per, (k + 1) * per));
    let img = sharp(pixels, { raw: { width: side, height: side, channels: split.channels as 1 | 3 } }).resize(SIZE, SIZE).toColourspace('srgb');
    if (i >= available) img = img.flop();
    await img.clone().png().toFile(path.join(png, `img-${String(i).padStart(5, '0')}.png`));
    const { data: rgb } = await img.clone().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    rgb.copy(raw, i * SIZE * SIZE * 3);
    labels.push(split.labels[k * split.labelsPerCase]);
  }
  fs.writeFileSync(path.join(dir, 'pixels.u8'), raw);
  return { labels };
}

function runReference(spec: unknown, dir: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const specFile = path.join(dir, `reference-${Date.now()}.json`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  const r = spawnSync(PYTHON, [REFERENCE, specFile], { encoding: 'utf8', env, maxBuffer: 16 * 2 ** 20 });
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').at(-1) ?? `exit ${r.status}` };
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function benchModel(model: string, ws: Workspace, caseIndex: Map<number, number>, labels: number[], dir: string, env: NodeJS.ProcessEnv) {
  const config = vitConfig(model);
  const weights = randomBackboneWeights(config, 1);
  const backboneId = ws.versions.addBackbone({ name: `random-vit-${model}`, arch: 'vit', config: config as unknown as Record<string, unknown>, weights: serializeSafetensors(weights) }).id;
  const taskId = ws.tasks.create({ name: `${DATASET}-${model}`, kind: DATASETS[DATASET].kind, classes: CLASSES }).id;
  const caseIds = [...caseIndex.keys()];
  const random = seededRandom(`bench:loop:${model}`);
  const order = caseIds.map((id) => ({ id, r: random() })).sort((a, b) => a.r - b.r).map((x) => x.id);
  const job: TrainJobInput = { taskId, backboneId, adapter: { method: 'dvpt', lastLayers: LAST_LAYERS }, epochs: EPOCHS, batchSize: BATCH, patience: 0, augmentation: 'none', promote: 'always' };
  const adapter = resolveAdapterChoice(parseTrainJob(job).adapter, config.depth);
  const rounds: RoundRecord[] = [];
  const messages: string[] = [];
  // When each part of a run began (seconds since performance's origin), for the breakdown of "train".
  const marks: { at: number; phase: string; epoch?: number; step?: number }[] = [];
  const service = new TrainingService(ws, {
    onRunEvent: (e: RunEvent) => {
      if (e.message) messages.push(e.message);
      marks.push({ at: performance.now(), phase: e.phase, epoch: e.epoch, step: e.step });
    },
  });
  try {
    let labelled = 0;
    for (const add of [LABELS, MORE]) {
      const batch = order.slice(labelled, labelled + add);
      labelled += add;
      messages.length = 0;
      marks.length = 0;
      const t0 = performance.now();
      ws.labels.setMany(batch.map((caseId) => ({ caseId, taskId, value: CLASSES[labels[caseIndex.get(caseId)!]], author: 'bench' })));
      const labelWrite = seconds(t0);
      const t1 = performance.now();
      const run = service.enqueueTraining(job);
      const queue = seconds(t1);
      const t2 = performance.now();
      const outcome = await service.waitForRun(run.id);
      if (outcome.status !== 'done' || !outcome.versionId) throw new Error(`run ${run.id} ${outcome.status}: ${outcome.error ?? ''}`);
      if (ws.versions.active(taskId)?.id !== outcome.versionId) throw new Error(`version ${outcome.versionId} did not become active`);
      const train = seconds(t2);
      const t3 = performance.now();
      const predicted = await service.predict({ taskId, versionId: outcome.versionId, scope: 'unlabeled' });
      const predict = seconds(t3);
      const t4 = performance.now();
      const suggestion = executeSuggest(ws, { taskId, strategy: 'margin', count: MORE });
      const suggest = seconds(t4);
      const total = seconds(t0);
      if (suggestion.suggested.length === 0) throw new Error('no suggestions');
      // The splits the run trained on, for the reference.
      const splits = ws.splits.forTask(taskId);
      const labelledIds = order.slice(0, labelled);
      const inSplit = (s: string) => labelledIds.filter((id) => (splits.get(id)?.split ?? 'train') === s).map((id) => caseIndex.get(id)!);
      const unlabeled = order.slice(labelled).map((id) => caseIndex.get(id)!);
      const prefix = messages.find((m) => /prefix cache built/.test(m));
      // Where the run's time went: up to its first training step (backbone, images, replicas, prefix), the epochs, and after.
      const firstStep = marks.find((m) => m.phase === 'training' && (m.step ?? 0) >= 1)?.at ?? t2;
      const lastEpoch = marks.filter((m) => m.phase === 'validating').at(-1)?.at ?? firstStep;
      const breakdown = { beforeFirstStep: (firstStep - t2) / 1000, epochs: (lastEpoch - firstStep) / 1000, afterEpochs: train - (lastEpoch - t2) / 1000 };
      rounds.push({
        labelled,
        medtune: { labelWrite, queue, train, trainBreakdown: breakdown, predict, suggest, total, predicted: predicted.predicted, prefixFromDisk: predicted.prefixFromDisk, suggested: suggestion.suggested.length, epochs: outcome.epochs, prefix },
        split: { train: inSplit('train'), val: inSplit('val'), test: inSplit('test'), unlabeled },
      });
      console.log(`  ViT-${model}, ${labelled} labels: MedTune ${total.toFixed(1)} s (train ${train.toFixed(1)} = ${breakdown.beforeFirstStep.toFixed(1)} to the first step + ${breakdown.epochs.toFixed(1)} epochs + ${breakdown.afterEpochs.toFixed(1)} after, predict ${predicted.predicted} in ${predict.toFixed(1)}${predicted.prefixFromDisk !== undefined ? ` with ${predicted.prefixFromDisk} prefixes read from disk` : ''}, suggest ${suggest.toFixed(2)})${prefix ? ` — ${prefix}` : ''}`);
    }
  } finally {
    await service.close();
  }
  const reference = fs.existsSync(PYTHON)
    ? runReference(
        {
          pixels: path.join(dir, 'pixels.u8'),
          size: SIZE,
          labels,
          model: { ...SHAPES[model], patchSize: 16, mlpRatio: 4, imageSize: SIZE, pool: 'token' },
          adapter: { ...adapter, numClasses: CLASSES.length },
          epochs: EPOCHS,
          batch: BATCH,
          lr: 1e-3,
          weightDecay: 1e-4,
          suggest: MORE,
          rounds: rounds.map((r) => r.split),
        },
        dir,
        env,
      )
    : { error: `${PYTHON} not found` };
  for (const [i, ref] of (((reference as { rounds?: Record<string, number>[] }).rounds ?? []) as Record<string, number>[]).entries()) {
    console.log(`  ViT-${model}, ${rounds[i].labelled} labels: PyTorch ${ref.total.toFixed(1)} s (train ${ref.train.toFixed(1)}, predict ${ref.predicted} in ${ref.predict.toFixed(1)}, suggest ${ref.suggest.toFixed(2)})`);
  }
  if (reference.error) console.log(`  ViT-${model}: PyTorch reference failed: ${String(reference.error)}`);
  return { model, adapter, rounds, reference };
}

const f = (v: unknown, d = 1) => (typeof v === 'number' ? v.toFixed(d) : '–');

async function main(): Promise<void> {
  // Before the backend: MedTune's own OpenBLAS (native/blas) sets OPENBLAS_CORETYPE in this process when it loads.
  const openBlas = fs.existsSync(PYTHON) ? openBlasEnvironment(PYTHON) : null;
  const backend = await initBackend({ force: opt('backend', '') || undefined });
  const cpu = os.cpus();
  console.log(`bench:loop — ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}; MedTune backend: ${describeBackend(backend)}`);
  console.log(`${IMAGES} ${DATASET === 'retina' ? 'RetinaMNIST' : 'PneumoniaMNIST'} images at ${SIZE}², ${LABELS} labels then +${MORE}; DVPT in the last ${LAST_LAYERS} blocks, ${EPOCHS} epochs, batch ${BATCH}, suggestions: margin, ${MORE}`);
  if (openBlas) console.log(openBlas.note);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-bench-loop-'));
  const results = [];
  try {
    const t = performance.now();
    const { labels } = await writeImages(dir);
    const ws = Workspace.create(path.join(dir, 'ws'));
    try {
      const report = await ws.import([path.join(dir, 'png')]);
      if (report.imported !== labels.length) throw new Error(`imported ${report.imported} of ${labels.length} images (${report.duplicates} duplicates)`);
      const caseIndex = new Map<number, number>();
      // Every case: the worklist answers at most MAX_PAGE rows a call, so page through it (with one page of
      // 1,000 the reference scored only the first 1,000 images' unlabelled cases, MedTune all of them).
      for (let offset = 0; caseIndex.size < labels.length; offset += MAX_PAGE) {
        const page = ws.listCases({ limit: MAX_PAGE, offset }).items;
        if (page.length === 0) break;
        for (const c of page) caseIndex.set(c.id, Number(/img-(\d+)/.exec(c.displayName)![1]));
      }
      if (caseIndex.size !== labels.length) throw new Error(`the worklist lists ${caseIndex.size} of ${labels.length} cases`);
      const counts = labels.reduce((c, l) => c.set(l, (c.get(l) ?? 0) + 1), new Map<number, number>());
      console.log(`setup (untimed): ${labels.length} PNGs written and imported in ${seconds(t).toFixed(0)} s; per class ${CLASSES.map((c, i) => `${c} ${counts.get(i) ?? 0}`).join(', ')}`);
      if (SETUP_ONLY) return;
      for (const model of MODELS) results.push(await benchModel(model, ws, caseIndex, labels, dir, openBlas?.env ?? process.env));
    } finally {
      ws.close();
    }
  } finally {
    if (KEEP) console.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }

  console.log('');
  console.log('| model | labels | side | label write s | queued s | train → active s | score unlabelled s | suggest s | total s | ratio |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  const summary = results.map((r) => {
    const refRounds = (r.reference.rounds ?? []) as Record<string, number>[];
    const perRound = r.rounds.map((round, i) => {
      const ref = refRounds[i];
      const ratio = ref ? round.medtune.total / ref.total : undefined;
      const m = round.medtune;
      console.log(`| ViT-${r.model} | ${round.labelled} | MedTune | ${f(m.labelWrite, 3)} | ${f(m.queue, 3)} | ${f(m.train)} | ${f(m.predict)} (${m.predicted}) | ${f(m.suggest, 2)} | **${f(m.total)}** | ${ratio ? ratio.toFixed(2) + '×' : '–'} |`);
      if (ref) console.log(`| | | PyTorch | – | – | ${f(ref.train)} | ${f(ref.predict)} (${ref.predicted}) | ${f(ref.suggest, 2)} | **${f(ref.total)}** | |`);
      else console.log(`| | | PyTorch | ${String(r.reference.error ?? 'no result')} | | | | | | |`);
      return { labelled: round.labelled, medtune: round.medtune, pytorch: ref ?? null, ratio, counts: { train: round.split.train.length, val: round.split.val.length, test: round.split.test.length, unlabeled: round.split.unlabeled.length } };
    });
    const mt = perRound.reduce((s, x) => s + x.medtune.total, 0);
    const pt = perRound.every((x) => x.pytorch) ? perRound.reduce((s, x) => s + (x.pytorch?.total ?? 0), 0) : undefined;
    return { model: r.model, adapter: r.adapter, rounds: perRound, medtuneTotal: mt, pytorchTotal: pt, totalRatio: pt ? mt / pt : null, reference: { ...r.reference, rounds: undefined } };
  });
  console.log('');
  for (const s of summary) console.log(`ViT-${s.model}: both rounds MedTune ${f(s.medtuneTotal)} s, PyTorch ${f(s.pytorchTotal)} s, totalRatio ${s.totalRatio ? s.totalRatio.toFixed(2) + '×' : '–'}`);
  console.log('ratio = MedTune time / PyTorch time. PyTorch reads the same pixels pre-decoded (no PNG decode), keeps nothing between rounds;');
  console.log(`MedTune keeps the frozen prefix on disk in the workspace between runs and rounds${process.env.MEDTUNE_PREFIX_STORE === 'off' ? ' — not in this run (MEDTUNE_PREFIX_STORE=off)' : ' (MEDTUNE_PREFIX_STORE=off compares without)'}.`);
  if (JSON_OUT) {
    fs.writeFileSync(
      JSON_OUT,
      JSON.stringify({ machine: { cpus: cpu.length, cpu: cpu[0]?.model, memGiB: os.totalmem() / 2 ** 30, backend: describeBackend(backend), openBlas: openBlas?.note }, dataset: DATASET, prefixStore: process.env.MEDTUNE_PREFIX_STORE !== 'off', images: IMAGES, labels: LABELS, more: MORE, epochs: EPOCHS, batch: BATCH, lastLayers: LAST_LAYERS, models: summary }, null, 2),
    );
  }
}

await main();
