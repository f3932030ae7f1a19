/**
 * `npm run bench:loop` — label-to-suggestion latency (issue 13 point 5): how long after a labeller's
 * last label the next suggestions are visible, measured through the services the app uses, next to a
 * PyTorch script doing the same training and scoring work (bench/reference/loop_reference.py).
 *
 * Setup (untimed): a workspace of PneumoniaMNIST images (/work/shared/data/medmnist; RetinaMNIST has
 * only 1,600), 28² upscaled to the model size and written as PNG via sharp, imported like a user's
 * folder; a random-weight ViT (core/model/random-weights.ts) registered as the backbone.
 * Per model, two rounds: label 200 cases (ws.labels.setMany, as the label handler does), then 25 more
 * (the warm-started second run). Each round times:
 *   label write → run queued (TrainingService.enqueueTraining) → version active (waitForRun; promote
 *   'always', so the round always ends with a new active version) → every unlabelled case scored
 *   (TrainingService.predict, scope 'unlabeled') → suggestions visible (executeSuggest, margin, 25).
 * The reference trains the same adapter (same start layer, epochs, batch, optimizer) on the same
 * train/validation/test cases the run used, scores the same unlabelled images and ranks by margin.
 *
 *   npm run bench:loop -- [--models tiny,small] [--images 2000] [--labels 200] [--more 25] [--epochs 5]
 *                         [--last-layers 4] [--batch 16] [--quick] [--keep] [--json out.json]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { executeSuggest } from '../core/active/suggest-run';
import { HALF_NORMALIZATION } from '../core/imaging/model-input';
import { parseAdapterConfig } from '../core/model/adapter-config';
import { describeBackend, initBackend } from '../core/model/backend';
import { sha256Hex } from '../core/model/checkpoint';
import type { ViTConfig } from '../core/model/config';
import { AdaptedViT } from '../core/model/model';
import { randomBackboneWeights } from '../core/model/random-weights';
import { serializeSafetensors } from '../core/model/safetensors';
import { ViTBackbone } from '../core/model/vit';
import { Workspace } from '../core/store';
import { parseTrainJob, resolveAdapterChoice, type TrainJobInput } from '../core/train/job';
import { readMedMnist } from '../core/train/medmnist';
import { PrefixCache } from '../core/train/prefix-cache';
import { PrefixStore } from '../core/train/prefix-store';
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
const PYTHON = '/usr/bin/python3';
const REFERENCE = path.resolve(import.meta.dirname, 'reference', 'loop_reference.py');
const SHARED = process.env.MEDTUNE_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
const DATA = path.join(SHARED, 'data', 'medmnist', 'pneumoniamnist_reduced_train.npz');
const CLASSES = ['normal', 'pneumonia'];

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
  medtune: Phases & { predicted: number; suggested: number; epochs?: string; prefix?: string };
  split: { train: number[]; val: number[]; test: number[]; unlabeled: number[] };
}

/** 28² grey images upscaled to SIZE² PNGs (what a user's folder would hold), and the same pixels raw for the reference. */
async function writeImages(dir: string): Promise<{ labels: number[] }> {
  const data = await readMedMnist(DATA);
  const split = data.train;
  const n = Math.min(IMAGES, split.n);
  if (n < IMAGES) console.log(`note: ${path.basename(DATA)} has ${split.n} training images; using ${n}`);
  const png = path.join(dir, 'png');
  fs.mkdirSync(png, { recursive: true });
  const raw = Buffer.alloc(n * SIZE * SIZE * 3);
  const side = split.width;
  const per = side * side * split.channels;
  for (let i = 0; i < n; i++) {
    const pixels = Buffer.from(split.images.subarray(i * per, (i + 1) * per));
    const img = sharp(pixels, { raw: { width: side, height: side, channels: split.channels as 1 | 3 } }).resize(SIZE, SIZE).toColourspace('srgb');
    await img.clone().png().toFile(path.join(png, `img-${String(i).padStart(5, '0')}.png`));
    const { data: rgb } = await img.clone().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    rgb.copy(raw, i * SIZE * SIZE * 3);
  }
  fs.writeFileSync(path.join(dir, 'pixels.u8'), raw);
  return { labels: Array.from(split.labels.subarray(0, n)) };
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
  const taskId = ws.tasks.create({ name: `pneumonia-${model}`, kind: 'multiclass', classes: CLASSES }).id;
  const caseIds = [...caseIndex.keys()];
  const random = seededRandom(`bench:loop:${model}`);
  const order = caseIds.map((id) => ({ id, r: random() })).sort((a, b) => a.r - b.r).map((x) => x.id);
  const job: TrainJobInput = { taskId, backboneId, adapter: { method: 'dvpt', lastLayers: LAST_LAYERS }, epochs: EPOCHS, batchSize: BATCH, patience: 0, augmentation: 'none', promote: 'always' };
  const adapter = resolveAdapterChoice(parseTrainJob(job).adapter, config.depth);
  const rounds: RoundRecord[] = [];
  const messages: string[] = [];
  const service = new TrainingService(ws, { onRunEvent: (e: RunEvent) => e.message && messages.push(e.message) });
  try {
    let labelled = 0;
    for (const add of [LABELS, MORE]) {
      const batch = order.slice(labelled, labelled + add);
      labelled += add;
      messages.length = 0;
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
      const prefix = messages.find((m) => /prefix cache/.test(m));
      rounds.push({
        labelled,
        medtune: { labelWrite, queue, train, predict, suggest, total, predicted: predicted.predicted, suggested: suggestion.suggested.length, epochs: outcome.epochs, prefix },
        split: { train: inSplit('train'), val: inSplit('val'), test: inSplit('test'), unlabeled },
      });
      console.log(`  ViT-${model}, ${labelled} labels: MedTune ${total.toFixed(1)} s (train ${train.toFixed(1)}, predict ${predicted.predicted} in ${predict.toFixed(1)}, suggest ${suggest.toFixed(2)})${prefix ? ` — ${prefix}` : ''}`);
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
  const last = rounds.at(-1)!.split;
  const store = await prefixStoreTiming(model, adapter, [...last.train, ...last.val], dir);
  console.log(`  ViT-${model} prefix store: blocks 0..${Number(adapter.startLayer ?? 0) - 1} of ${store.images} labelled images computed in ${store.computeSeconds.toFixed(1)} s, read back (float16, ${store.diskMb.toFixed(0)} MB) in ${store.readSeconds.toFixed(2)} s`);
  return { model, adapter, rounds, reference, prefixStore: store };
}

/**
 * What the disk store (core/train/prefix-store.ts) saves a round: the frozen prefix of its labelled
 * images computed (and written) vs read back, in this thread. The training run does not use the store
 * yet (its wiring is separate work), so this is measured beside the run rather than inside it.
 */
async function prefixStoreTiming(model: string, adapter: Record<string, unknown>, images: number[], dir: string) {
  const config = vitConfig(model);
  const weights = serializeSafetensors(randomBackboneWeights(config, 1));
  const backbone = new ViTBackbone(config, randomBackboneWeights(config, 1));
  const m = AdaptedViT.initialise(backbone, parseAdapterConfig({ ...adapter, numClasses: CLASSES.length, task: 'multiclass' }, 'bench'), 0);
  const raw = fs.readFileSync(path.join(dir, 'pixels.u8'));
  const per = SIZE * SIZE * 3;
  const inputs = images.map((i) => new Uint8Array(raw.subarray(i * per, (i + 1) * per)));
  const key = {
    backboneSha256: sha256Hex(weights),
    startLayer: m.startLayer,
    preprocessing: { size: SIZE, aspect: 'letterbox', fundusFov: false, normalization: HALF_NORMALIZATION },
    rowsPerImage: m.prefixRowsPerImage,
    width: config.embedDim,
  };
  const root = path.join(dir, 'cache', 'prefix');
  const options = { size: SIZE, normalization: HALF_NORMALIZATION, batchSize: BATCH };
  try {
    const computed = await PrefixCache.build(m, inputs, { ...options, store: new PrefixStore(root, key) });
    const read = await PrefixCache.build(m, inputs, { ...options, store: new PrefixStore(root, key) });
    if (read.fromDisk !== inputs.length) throw new Error(`prefix store: ${read.fromDisk} of ${inputs.length} read back`);
    const du = fs.readdirSync(root, { recursive: true }).reduce((b, f) => b + (String(f).endsWith('.f16') ? fs.statSync(path.join(root, String(f))).size : 0), 0);
    return { images: inputs.length, computeSeconds: computed.seconds, readSeconds: read.seconds, diskMb: du / 2 ** 20 };
  } finally {
    m.dispose();
    backbone.dispose();
  }
}

const f = (v: unknown, d = 1) => (typeof v === 'number' ? v.toFixed(d) : '–');

async function main(): Promise<void> {
  const backend = await initBackend({ force: opt('backend', '') || undefined });
  const cpu = os.cpus();
  console.log(`bench:loop — ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}; MedTune backend: ${describeBackend(backend)}`);
  console.log(`${IMAGES} PneumoniaMNIST images at ${SIZE}², ${LABELS} labels then +${MORE}; DVPT in the last ${LAST_LAYERS} blocks, ${EPOCHS} epochs, batch ${BATCH}, suggestions: margin, ${MORE}`);
  const openBlas = fs.existsSync(PYTHON) ? openBlasEnvironment(PYTHON) : null;
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
      for (const c of ws.listCases({ limit: labels.length + 10 }).items) caseIndex.set(c.id, Number(/img-(\d+)/.exec(c.displayName)![1]));
      console.log(`setup (untimed): ${labels.length} PNGs written and imported in ${seconds(t).toFixed(0)} s`);
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
    return { model: r.model, adapter: r.adapter, rounds: perRound, medtuneTotal: mt, pytorchTotal: pt, totalRatio: pt ? mt / pt : null, prefixStore: r.prefixStore, reference: { ...r.reference, rounds: undefined } };
  });
  console.log('');
  for (const s of summary) console.log(`ViT-${s.model}: both rounds MedTune ${f(s.medtuneTotal)} s, PyTorch ${f(s.pytorchTotal)} s, totalRatio ${s.totalRatio ? s.totalRatio.toFixed(2) + '×' : '–'}`);
  console.log('ratio = MedTune time / PyTorch time. PyTorch reads the same pixels pre-decoded (no PNG decode), keeps nothing between rounds.');
  if (JSON_OUT) {
    fs.writeFileSync(
      JSON_OUT,
      JSON.stringify({ machine: { cpus: cpu.length, cpu: cpu[0]?.model, memGiB: os.totalmem() / 2 ** 30, backend: describeBackend(backend), openBlas: openBlas?.note }, images: IMAGES, labels: LABELS, more: MORE, epochs: EPOCHS, batch: BATCH, lastLayers: LAST_LAYERS, models: summary }, null, 2),
    );
  }
}

await main();
