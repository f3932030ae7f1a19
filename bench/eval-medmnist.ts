/**
 * `npm run eval:medmnist` — proof that MedTune learns, on real data made by others.
 *   (a) a small ViT is trained from scratch on PneumoniaMNIST (its train split, selected on its val
 *       split) as a stand-in foundation model: no pretrained weights can be downloaded here;
 *   (b) that backbone is frozen and adapted to RetinaMNIST's official train split with a linear probe
 *       (L-BFGS logistic regression on the frozen features, C chosen on val), EPT, DVPT and LoRA, each selected on RetinaMNIST's val split (quadratic-weighted kappa, DR grades are
 *       ordinal), and evaluated once on the test split;
 *   (c) an active-learning simulation on RetinaMNIST's train pool: test kappa against the number of
 *       labels for random sampling vs the default strategy (DEFAULT_STRATEGY, `mixed`; without its
 *       validation-influence share, which needs the probe's head: eval:al measures the whole default over
 *       many seeds, this is one DVPT run).
 *   (d) with --last-layers k: EPT and DVPT in the last k blocks only, trained from the cached frozen
 *       prefix (blocks 0..L−k−1 run once per image), next to the same adapters at full depth: test
 *       ACC/AUC/kappa and training time side by side. The cache needs un-augmented images, so (d) also
 *       trains the full-depth adapters without augmentation, and the last-k adapters with the cache off
 *       (same numbers, the time without the cache).
 * The test split is never used for any choice. Numbers are printed next to MedMNIST v2's ResNet-18 (28).
 * The frozen features of train/val/test go to <out>.features.json (bench/reference/sklearn_probe.py), the
 * frozen backbone, each method's adapter config and its initial tensors to <out>.reference/
 * (bench/reference/train_reference.py trains the same adapters in PyTorch with the same recipe).
 * Options: --quick (fewer epochs, for a smoke run), --seed N (adapters), --backbone-seed N (default 0), --skip-al, --out <file.json>,
 *          --last-layers k, --methods linear,ept,dvpt,lora (section b), --pretrain-epochs N (default 8),
 *          --epochs N and --patience N (adapter training in b and d; default 40 and 10),
 *          --augmentation fundus|none (section b; default fundus).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { suggest } from '../core/active/strategies';
import { DEFAULT_STRATEGY } from '../core/vocabulary';
import { HALF_NORMALIZATION } from '../core/imaging/model-input';
import { parseAdapterConfig } from '../core/model/adapter-config';
import { describeBackend, initBackend } from '../core/model/backend';
import { AdaptedViT } from '../core/model/model';
import { ViTBackbone } from '../core/model/vit';
import { seededSample } from '../core/util/prng';
import { AUGMENTATION_PRESETS } from '../core/train/augment';
import { readMedMnist } from '../core/train/medmnist';
import { evaluateSamples, predictSamples } from '../core/train/evaluation';
import { DEFAULT_TRAIN_CONFIG, minimumEpochs, trainAdapter, type TrainConfig, type TrainResult } from '../core/train/trainer';
import { parseSafetensors, serializeSafetensors } from '../core/model/safetensors';
import type { Sample } from '../core/train/types';
import { embedSamples, medmnistSamples, pretrainStandIn, STANDIN_BACKBONE } from './standin-backbone';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const QUICK = flag('--quick');
const SEED = Number(value('--seed', '0'));
/** The frozen backbone is the same for every adapter seed (parity is judged on a fixed backbone). */
const BACKBONE_SEED = Number(value('--backbone-seed', '0'));
const SHARED = process.env.MEDTUNE_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
const MEDMNIST = path.join(SHARED, 'data', 'medmnist');
const LAST_LAYERS = args.includes('--last-layers') ? Number(value('--last-layers', 'NaN')) : undefined;
type Method = 'linear' | 'ept' | 'dvpt' | 'lora';
const METHODS = value('--methods', 'linear,ept,dvpt,lora').split(',') as Method[];
const PRETRAIN_EPOCHS = Number(value('--pretrain-epochs', QUICK ? '2' : '8'));
const ADAPT_EPOCHS = Number(value('--epochs', QUICK ? '3' : '40'));
const PATIENCE = Number(value('--patience', QUICK ? '0' : '10'));
const AUGMENT = value('--augmentation', 'fundus');
const OUT = value('--out', path.resolve(import.meta.dirname, '..', 'test-output', 'eval', 'medmnist.json'));

/** MedMNIST v2 (Yang et al., Scientific Data 2023), Table: RetinaMNIST, ResNet-18 (28). */
const RESNET18_28 = { auc: 0.717, acc: 0.524 };

const BACKBONE = STANDIN_BACKBONE;
const REFERENCE_DIR = OUT.replace(/\.json$/, '') + '.reference';
/** RetinaMNIST's train split size: only full-split runs of section (b) export a reference start. */
const TRAIN_SIZE = 1080;
const samples = medmnistSamples;

const log = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

interface MethodResult {
  method: string;
  trainable: number;
  seconds: number;
  bestEpoch: number;
  epochs: number;
  prefixCache: { used: boolean; seconds: number };
  val: { kappa: number };
  test: { accuracy: number; macroAuc: number; kappa: number };
  /** Linear probe: the C chosen on val. */
  probeC?: number;
  /** Per epoch: train loss, val loss and val kappa (to see why a run stopped where it did). */
  history: { epoch: number; trainLoss: number; valLoss?: number; valKappa?: number }[];
}

async function adapt(
  backbone: ViTBackbone,
  method: Method,
  train: Sample[],
  val: Sample[],
  test: Sample[],
  config: TrainConfig,
  /** Adapter fields on top of the defaults here, e.g. EPT `layers` or DVPT `startLayer`. */
  overrides: Record<string, unknown> = {},
): Promise<MethodResult & { model: AdaptedViT }> {
  const extra = method === 'ept' ? { promptLength: 10 } : method === 'dvpt' ? { bottleneck: 16, numPrompts: 4, share: 2 } : method === 'lora' ? { rank: 4, alpha: 8 } : {};
  const adapter = parseAdapterConfig({ method, numClasses: 5, task: 'ordinal', ...extra, ...overrides }, 'eval');
  const model = AdaptedViT.initialise(backbone, adapter, SEED);
  if (Object.keys(overrides).length === 0 && train.length === TRAIN_SIZE) {
    // The same start for the PyTorch reference: adapter config with its layers spelled out, initial tensors.
    const spec = { ...model.adapter, ...(method === 'ept' && !('layers' in model.adapter && model.adapter.layers) ? { layers: Array.from({ length: BACKBONE.depth }, (_, i) => i) } : {}) };
    fs.mkdirSync(REFERENCE_DIR, { recursive: true });
    fs.writeFileSync(path.join(REFERENCE_DIR, `adapter-${method}.json`), JSON.stringify(spec));
    fs.writeFileSync(path.join(REFERENCE_DIR, `init-${method}.safetensors`), serializeSafetensors(await model.exportTensors()));
  }
  const opts = { task: 'ordinal' as const, numClasses: 5, size: 28, normalization: HALF_NORMALIZATION };
  const result = await trainAdapter(model, train, val, config, opts);
  const pred = await predictSamples(model, test.map((s) => s.input), opts);
  const m = evaluateSamples('ordinal', pred.probabilities, test, 5);
  if (m.kind === 'multilabel') throw new Error('unexpected');
  return {
    model,
    method,
    trainable: model.trainableParameterCount(),
    seconds: result.seconds,
    bestEpoch: result.bestEpoch,
    epochs: result.history.length,
    prefixCache: { used: result.prefixCache.used, seconds: result.prefixCache.seconds },
    val: { kappa: result.bestMetrics?.selection.value ?? NaN },
    test: { accuracy: m.accuracy, macroAuc: m.macroAuc.macro, kappa: m.kappaQuadratic },
    ...(result.probe ? { probeC: result.probe.C } : {}),
    history: result.history.map((h) => ({ epoch: h.epoch, trainLoss: h.trainLoss, valLoss: h.valLoss, valKappa: h.selection?.value })),
  };
}

async function activeLearning(backbone: ViTBackbone, pool: Sample[], val: Sample[], test: Sample[], config: TrainConfig) {
  const start = QUICK ? 60 : 100;
  const step = QUICK ? 60 : 100;
  const rounds = QUICK ? 2 : 4;
  const curves: Record<string, { labels: number; kappa: number }[]> = {};
  for (const strategy of ['random', DEFAULT_STRATEGY] as const) {
    const labelled = new Set(Array.from(seededSample(pool.length, start, `al:${SEED}`)));
    curves[strategy] = [];
    for (let round = 0; round <= rounds; round++) {
      const train = [...labelled].map((i) => pool[i]);
      const r = await adapt(backbone, 'dvpt', train, val, test, config);
      curves[strategy].push({ labels: labelled.size, kappa: r.test.kappa });
      log(`  ${strategy.padEnd(7)} ${String(labelled.size).padStart(4)} labels: test kappa ${fmt(r.test.kappa)} (val ${fmt(r.val.kappa)})`);
      if (round < rounds) {
        const unlabeled = pool.map((_, i) => i).filter((i) => !labelled.has(i));
        const opts = { task: 'ordinal' as const, size: 28, normalization: HALF_NORMALIZATION };
        const u = await predictSamples(r.model, unlabeled.map((i) => pool[i].input), opts);
        const l = await predictSamples(r.model, [...labelled].map((i) => pool[i].input), opts);
        const picks = suggest(strategy, { probabilities: u.probabilities, numCases: unlabeled.length, embeddings: u.features, labeledEmbeddings: l.features }, step, {
          seed: `${SEED}:${round}`,
          labeledCount: labelled.size,
          ordinal: true,
        });
        for (const p of picks) labelled.add(unlabeled[p.index]);
      }
      r.model.dispose();
    }
  }
  return curves;
}

/**
 * (d) EPT and DVPT in the last k blocks from the cached frozen prefix, next to full depth. Rows per
 * method: full depth with augmentation (section b, when it ran), full depth without augmentation, last k
 * without the cache, last k with the cache (the last two train identically; only the time differs).
 */
async function lastLayersComparison(backbone: ViTBackbone, train: Sample[], val: Sample[], test: Sample[], config: TrainConfig, standard: MethodResult[], k: number) {
  const depth = BACKBONE.depth;
  if (!Number.isInteger(k) || k < 1 || k >= depth) throw new Error(`--last-layers must be an integer in 1..${depth - 1} for this ${depth}-block backbone, got ${k}`);
  const start = depth - k;
  const late = (method: 'ept' | 'dvpt') => (method === 'ept' ? { layers: Array.from({ length: k }, (_, i) => start + i) } : { startLayer: start });
  const plain: TrainConfig = { ...config, augmentation: null };
  const rows: Array<MethodResult & { variant: string; layers: string; augmentation: boolean; cache: string }> = [];
  log('');
  log(`(d) adapters in the last ${k} of ${depth} blocks (blocks ${start}..${depth - 1}) from the cached frozen prefix, next to full depth:`);
  for (const method of ['ept', 'dvpt'] as const) {
    const fromB = standard.find((r) => r.method === method);
    if (fromB) rows.push({ ...fromB, variant: 'full depth, augmented (b)', layers: `0..${depth - 1}`, augmentation: true, cache: 'n/a (start 0)' });
    const variants = [
      { variant: 'full depth', overrides: {}, layers: `0..${depth - 1}`, config: plain, cache: 'n/a (start 0)' },
      { variant: `last ${k}, cache off`, overrides: late(method), layers: `${start}..${depth - 1}`, config: { ...plain, prefixCache: 'off' as const }, cache: 'off' },
      { variant: `last ${k}, cache on`, overrides: late(method), layers: `${start}..${depth - 1}`, config: plain, cache: 'on' },
    ];
    for (const v of variants) {
      const { model, ...r } = await adapt(backbone, method, train, val, test, v.config, v.overrides);
      model.dispose();
      const cache = r.prefixCache.used ? `on (built in ${r.prefixCache.seconds.toFixed(1)} s)` : v.cache;
      rows.push({ ...r, variant: v.variant, layers: v.layers, augmentation: false, cache });
      log(`  ${method} ${v.variant}: test ACC ${fmt(r.test.accuracy)}, AUC ${fmt(r.test.macroAuc)}, kappa ${fmt(r.test.kappa)} (${r.epochs} epochs, ${r.seconds.toFixed(0)} s, prefix cache ${cache})`);
    }
  }
  log('');
  log('| method | adapted blocks | augmentation | prefix cache | trainable params | test ACC | test macro AUC | test QW kappa | val QW kappa | epochs run | time (s) | s / epoch |');
  log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    log(`| ${r.method} | ${r.layers} | ${r.augmentation ? 'yes' : 'no'} | ${r.cache} | ${r.trainable} | ${fmt(r.test.accuracy)} | ${fmt(r.test.macroAuc)} | ${fmt(r.test.kappa)} | ${fmt(r.val.kappa)} | ${r.epochs} | ${r.seconds.toFixed(0)} | ${(r.seconds / r.epochs).toFixed(2)} |`);
  }
  log('time includes validation after every epoch and, with the cache, building it.');
  return rows;
}

/**
 * The stand-in backbone pretrained on PneumoniaMNIST with BACKBONE_SEED, from test-output/eval/backbones/
 * when an earlier run (any adapter seed) trained it already: pretraining is deterministic for a seed.
 */
async function standInBackbone(train: Sample[], val: Sample[]): Promise<{ backbone: ViTBackbone; result: Pick<TrainResult, 'seconds' | 'history'> }> {
  const dir = path.resolve(import.meta.dirname, '..', 'test-output', 'eval', 'backbones');
  const file = path.join(dir, `standin-pneumonia-s${BACKBONE_SEED}-e${PRETRAIN_EPOCHS}.safetensors`);
  if (fs.existsSync(file)) {
    const contents = parseSafetensors(new Uint8Array(fs.readFileSync(file)), file);
    const weights = new Map([...contents.tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data }]));
    const result = JSON.parse(contents.metadata.result ?? '{"seconds":0,"history":[]}') as Pick<TrainResult, 'seconds' | 'history'>;
    log(`  backbone (seed ${BACKBONE_SEED}, ${PRETRAIN_EPOCHS} epochs) from ${path.relative(process.cwd(), file)}`);
    return { backbone: new ViTBackbone(BACKBONE, weights), result };
  }
  const { backbone, result } = await pretrainStandIn(train, val, {
    numClasses: 2,
    epochs: PRETRAIN_EPOCHS,
    seed: BACKBONE_SEED,
    augmentation: AUGMENTATION_PRESETS.radiograph,
    onEpoch: (epoch, epochs, loss, auc) => log(`  pretrain epoch ${epoch}/${epochs}: val loss ${fmt(loss)}, val AUC ${fmt(auc)}`),
  });
  fs.mkdirSync(dir, { recursive: true });
  const kept = { seconds: result.seconds, history: result.history };
  fs.writeFileSync(file, serializeSafetensors(backbone.exportWeights(), { result: JSON.stringify(kept) }));
  return { backbone, result: kept };
}

async function main(): Promise<void> {
  const started = performance.now();
  const backend = await initBackend();
  log(`MedTune eval:medmnist — seed ${SEED} (backbone seed ${BACKBONE_SEED}), backend ${describeBackend(backend)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'})${QUICK ? ', QUICK mode' : ''}; pretraining ${PRETRAIN_EPOCHS} epochs, adapters ≤ ${ADAPT_EPOCHS} epochs (patience ${PATIENCE})${LAST_LAYERS !== undefined ? `, last-layers comparison k = ${LAST_LAYERS}` : ''}`);

  // (a) Stand-in foundation model.
  const pneumonia = await readMedMnist(path.join(MEDMNIST, 'pneumoniamnist_reduced_train.npz'));
  const pre = { train: samples(pneumonia.train), val: samples(pneumonia.val) };
  const { backbone: frozen, result: preResult } = await standInBackbone(pre.train, pre.val);
  log(`(a) backbone ViT ${BACKBONE.embedDim}d×${BACKBONE.depth} (${frozen.parameterCount()} parameters) trained on PneumoniaMNIST (${pre.train.length} images) in ${preResult.seconds.toFixed(0)} s; final val AUC ${fmt(preResult.history.at(-1)?.selection?.value ?? NaN)}`);

  // (b) Adapters on RetinaMNIST.
  const retina = await readMedMnist(path.join(MEDMNIST, 'retinamnist.npz'));
  const train = samples(retina.train);
  const val = samples(retina.val);
  const test = samples(retina.test);
  const adaptConfig: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    epochs: ADAPT_EPOCHS,
    batchSize: 32,
    lr: 5e-3,
    weightDecay: 1e-4,
    patience: PATIENCE,
    // RetinaMNIST is imbalanced (grade 0 is 44 %): unweighted training collapses onto it.
    classWeighting: 'inverse',
    augmentation: AUGMENT === 'none' ? null : AUGMENTATION_PRESETS.fundus,
    seed: SEED,
  };
  fs.mkdirSync(REFERENCE_DIR, { recursive: true });
  fs.writeFileSync(path.join(REFERENCE_DIR, 'backbone.safetensors'), serializeSafetensors(frozen.exportWeights()));
  fs.writeFileSync(
    path.join(REFERENCE_DIR, 'recipe.json'),
    JSON.stringify({ backbone: BACKBONE, normalization: HALF_NORMALIZATION, ...adaptConfig, minEpochs: minimumEpochs(adaptConfig), augmentation: AUGMENT }),
  );
  // Frozen features for the scikit-learn comparison (bench/reference/sklearn_probe.py).
  const featureFile = OUT.replace(/\.json$/, '') + '.features.json';
  fs.mkdirSync(path.dirname(featureFile), { recursive: true });
  const dump = async (s: Sample[]) => ({ features: Array.from(await embedSamples(frozen, s), (v) => Number(v.toPrecision(7))), labels: s.map((x) => x.label) });
  fs.writeFileSync(featureFile, JSON.stringify({ dim: BACKBONE.embedDim, train: await dump(train), val: await dump(val), test: await dump(test) }));
  log(`frozen features written to ${featureFile}`);
  const results: MethodResult[] = [];
  for (const method of METHODS) {
    const { model, ...r } = await adapt(frozen, method, train, val, test, adaptConfig);
    model.dispose();
    results.push(r);
    log(`  ${method}: test ACC ${fmt(r.test.accuracy)}, AUC ${fmt(r.test.macroAuc)}, kappa ${fmt(r.test.kappa)} (val kappa ${fmt(r.val.kappa)}, best epoch ${r.bestEpoch} of ${r.epochs}${r.probeC !== undefined ? `, probe C ${r.probeC}` : ''}, ${r.trainable} trainable, ${r.seconds.toFixed(0)} s)`);
  }
  log('');
  log(`(b) RetinaMNIST test split (${test.length} images), adapters selected on val (${val.length}), trained on train (${train.length}):`);
  log('| method | trainable params | test ACC | test macro AUC | test QW kappa | val QW kappa | time (s) |');
  log('|---|---|---|---|---|---|---|');
  for (const r of results) log(`| ${r.method} | ${r.trainable} | ${fmt(r.test.accuracy)} | ${fmt(r.test.macroAuc)} | ${fmt(r.test.kappa)} | ${fmt(r.val.kappa)} | ${r.seconds.toFixed(0)} |`);
  log(`| ResNet-18 (28), MedMNIST v2 published | 11M (all) | ${RESNET18_28.acc} | ${RESNET18_28.auc} | – | – | – |`);

  const lastLayers = LAST_LAYERS === undefined ? undefined : await lastLayersComparison(frozen, train, val, test, adaptConfig, results, LAST_LAYERS);

  // (c) Active learning.
  let curves: Record<string, { labels: number; kappa: number }[]> | undefined;
  if (!flag('--skip-al')) {
    log('');
    log('(c) active learning on the RetinaMNIST train pool (DVPT, test kappa after each round):');
    curves = await activeLearning(frozen, train, val, test, { ...adaptConfig, epochs: QUICK ? 2 : 20, patience: QUICK ? 0 : 5 });
  }
  const total = (performance.now() - started) / 1000;
  log('');
  log(`seed ${SEED}; backend ${backend.name}; total time ${total.toFixed(0)} s; tensors alive ${tf.memory().numTensors}`);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify({ seed: SEED, quick: QUICK, backend: backend.name, backbone: BACKBONE, pretrain: { seconds: preResult.seconds, history: preResult.history }, results, lastLayers, activeLearning: curves, seconds: total }, null, 2));
  log(`results written to ${OUT}`);
  frozen.dispose();
}

await main();
