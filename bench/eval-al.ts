/**
 * `npm run eval:al` — does active learning pay? Simulated labelling on three MedMNIST sets
 * (RetinaMNIST, BreastMNIST, PneumoniaMNIST; /work/shared/data/medmnist): the train split is the
 * unlabeled pool, each round labels the cases a strategy picks and fits the linear probe
 * (core/train/linear-probe.ts, C chosen on the official val split) on frozen embeddings. Rounds follow
 * the learning loop's rhythm (a new model after max(10, 10 % of the labelled) new labels, as in the app);
 * the official test split is scored at each budget (never used for any choice).
 *
 * Embeddings: the stand-in backbone of eval:medmnist (bench/standin-backbone.ts), trained from scratch
 * with backbone seed 0 and then frozen, computed once per dataset and cached under
 * test-output/eval/al-cache/. A backbone must not have seen the target's labels, so Retina and Breast
 * use the PneumoniaMNIST-trained backbone and PneumoniaMNIST uses one trained on RetinaMNIST.
 * `--backbone FILE.safetensors` embeds all three sets with that frozen checkpoint instead (loaded like any
 * timm checkpoint, config beside it), e.g. the self-supervised one bench/reference/ssl_backbone.py trains
 * on the three pools' unlabelled images.
 *
 * Test metric: quadratic-weighted kappa for Retina (ordinal DR grades), ROC AUC for the binary sets.
 * Printed per dataset: mean ± sd over seeds per budget for each strategy, the area under the learning
 * curve (trapezoid over the budgets, divided by their span: a mean metric), the labels the default
 * needs to reach random's final value, and the learning-curve forecast made at 200 labels (validation
 * metric) against the validation value measured at the last budget.
 * Options: --quick, --seeds N (default 3), --first-seed S (default 0), --budgets 20,50,…, --datasets retina,breast,pneumonia,
 *          --strategies random,margin,hybrid,typiclust,auto,mixed (variants: mixed:0.3 = 30 % random,
 *          mixed:0.5:plain = not spread over predicted classes, mixed:::20 = all random until 20 labels
 *          per class, mixed::::0 = no validation-influence share, mixed::::0.5 = half of it by influence,
 *          mixed:::::margin = margin instead of grade variance on the ordinal set, mixed::::::none = no handover
 *          to a smaller random share, mixed::::::0.1@20 = a tenth random from 20 labels per class on),
 *          --cadence loop|budgets (budgets: one model per budget, the rhythm of the runs before this option),
 *          --pretrain-epochs N (default 6), --backbone FILE.safetensors (instead of the supervised stand-ins),
 *          --class-weighting none|balanced (default: the product's, balanced), --auto-per-class K, --out <file.json>,
 *          --forecast-from <file.json> (only the forecast check, on the curves an earlier run wrote).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validationInfluence } from '../core/active/influence';
import { labelsPerRun, type LoopSettings } from '../core/app/learning-loop';
import { suggest, type StrategyName, type SuggestOptions } from '../core/active/strategies';
import { describeBackend, initBackend } from '../core/model/backend';
import { loadBackboneFile } from '../core/model/checkpoint';
import { ViTBackbone } from '../core/model/vit';
import { AUGMENTATION_PRESETS } from '../core/train/augment';
import { forecastGain } from '../core/train/learning-curve';
import { fitLinearProbe, predictProbabilities, probeClassWeights, probeWeighting, type FeatureSet, type LinearProbeResult } from '../core/train/linear-probe';
import { readMedMnist } from '../core/train/medmnist';
import { summarizeMetrics } from '../core/train/metrics';
import { LOOP_DEFAULTS, TRAINING_DEFAULTS } from '../core/vocabulary';
import { embedSamples, medmnistSamples, pretrainStandIn } from './standin-backbone';

const args = process.argv.slice(2);
const value = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const QUICK = args.includes('--quick');
const SEEDS = Number(value('--seeds', QUICK ? '2' : '3'));
/** Seeds FIRST_SEED … FIRST_SEED + SEEDS − 1: a rule chosen on some seeds is checked on others. */
const FIRST_SEED = Number(value('--first-seed', '0'));
const BUDGETS = value('--budgets', QUICK ? '20,50,100,200' : '20,50,100,150,200,300,500').split(',').map(Number);
const DATASETS = value('--datasets', 'retina,breast,pneumonia').split(',') as DatasetName[];
/** A strategy name, or `mixed:F` (random share F) / `mixed:F:plain` (uncertain part not spread over classes) to measure variants. */
const STRATEGIES = value('--strategies', 'random,margin,hybrid,typiclust,auto,mixed').split(',');
const PRETRAIN_EPOCHS = Number(value('--pretrain-epochs', QUICK ? '2' : '6'));
/** The product's default (TRAINING_DEFAULTS.classWeighting, inverse frequency = balanced), as a trained version would use. */
const CLASS_WEIGHTING = value('--class-weighting', probeWeighting(TRAINING_DEFAULTS.classWeighting)) as 'none' | 'balanced';
/**
 * `loop` (default): between budgets, the learning loop's rhythm (a new model after max(10, 10 % of the
 * labelled) new labels, core/app/learning-loop.ts), as a reader labelling in the app gets; `budgets`: one
 * model per budget, so e.g. the 200 cases from 300 to 500 labels are picked by one model.
 */
const CADENCE = value('--cadence', 'loop') as 'loop' | 'budgets';
if (CADENCE !== 'loop' && CADENCE !== 'budgets') throw new Error(`--cadence must be loop or budgets, got ${String(CADENCE)}`);
const LOOP_SETTINGS: LoopSettings = { ...LOOP_DEFAULTS, every: null };
const AUTO_PER_CLASS = args.includes('--auto-per-class') ? Number(value('--auto-per-class', '')) : undefined;
const SHARED = process.env.MEDTUNE_SHARED ?? path.resolve(import.meta.dirname, '..', '..', 'shared');
const MEDMNIST = path.join(SHARED, 'data', 'medmnist');
const OUTPUT = path.resolve(import.meta.dirname, '..', 'test-output', 'eval');
const OUT = value('--out', path.join(OUTPUT, 'al.json'));
const FORECAST_FROM = args.includes('--forecast-from') ? value('--forecast-from', '') : undefined;
const BACKBONE_FILE = args.includes('--backbone') ? path.resolve(value('--backbone', '')) : undefined;
/** Strategies that need a trained head start from the same random first batch as `random`. */
const NEEDS_MODEL = new Set<StrategyName>(['least-confidence', 'margin', 'entropy', 'bald', 'hybrid']);

type DatasetName = 'retina' | 'breast' | 'pneumonia';
interface DatasetInfo {
  file: string;
  task: 'ordinal' | 'multiclass';
  classes: number;
  metric: 'kappa' | 'auc';
  backboneFrom: DatasetName;
}
const INFO: Record<DatasetName, DatasetInfo> = {
  retina: { file: 'retinamnist.npz', task: 'ordinal', classes: 5, metric: 'kappa', backboneFrom: 'pneumonia' },
  breast: { file: 'breastmnist_resaved.npz', task: 'multiclass', classes: 2, metric: 'auc', backboneFrom: 'pneumonia' },
  pneumonia: { file: 'pneumoniamnist_reduced_train.npz', task: 'multiclass', classes: 2, metric: 'auc', backboneFrom: 'retina' },
};

const log = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));

interface Embedded {
  pool: FeatureSet;
  val: FeatureSet;
  test: FeatureSet;
  dim: number;
}

type Backbones = Map<string, ViTBackbone>;

/** The supervised stand-in trained on the dataset's source set, pretrained once per run. */
async function standInFor(name: DatasetName, backbones: Backbones): Promise<ViTBackbone> {
  const from = INFO[name].backboneFrom;
  const cached = backbones.get(from);
  if (cached) return cached;
  const source = await readMedMnist(path.join(MEDMNIST, INFO[from].file));
  const started = performance.now();
  const pre = await pretrainStandIn(medmnistSamples(source.train), medmnistSamples(source.val), {
    numClasses: INFO[from].classes,
    epochs: PRETRAIN_EPOCHS,
    seed: 0,
    augmentation: from === 'retina' ? AUGMENTATION_PRESETS.fundus : AUGMENTATION_PRESETS.radiograph,
    onEpoch: (e, n, loss, sel) => log(`  backbone on ${from}: epoch ${e}/${n}, val loss ${fmt(loss)}, val selection ${fmt(sel)}`),
  });
  log(`  backbone on ${from} trained in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  backbones.set(from, pre.backbone);
  return pre.backbone;
}

/** The frozen checkpoint given with --backbone, loaded through the product's checkpoint reader. */
async function backboneFromFile(file: string, backbones: Backbones): Promise<ViTBackbone> {
  const cached = backbones.get(file);
  if (cached) return cached;
  const loaded = await loadBackboneFile(file);
  log(`  backbone ${path.relative(process.cwd(), file)} (sha256 ${loaded.sha256.slice(0, 12)}, config ${loaded.configSource})`);
  const backbone = new ViTBackbone(loaded.config, loaded.weights);
  backbones.set(file, backbone);
  return backbone;
}

/** Cache key of a dataset's embeddings: the source set and pretraining epochs, or the checkpoint file's name and hash. */
function embeddingKey(name: DatasetName): string {
  if (!BACKBONE_FILE) return `${name}-from-${INFO[name].backboneFrom}-e${PRETRAIN_EPOCHS}`;
  const hash = createHash('sha256').update(fs.readFileSync(BACKBONE_FILE)).digest('hex').slice(0, 12);
  return `${name}-${path.basename(BACKBONE_FILE, '.safetensors')}-${hash}`;
}

/** Frozen embeddings of a dataset's three splits, from the cache or computed (pretraining the source backbone once). */
async function embeddings(name: DatasetName, backbones: Backbones): Promise<Embedded> {
  const info = INFO[name];
  const cacheDir = path.join(OUTPUT, 'al-cache');
  const file = path.join(cacheDir, `${embeddingKey(name)}.json`);
  const data = await readMedMnist(path.join(MEDMNIST, info.file));
  const labels = (split: 'train' | 'val' | 'test') => Int32Array.from({ length: data[split].n }, (_, i) => data[split].labels[i * data[split].labelsPerCase]);
  if (fs.existsSync(file)) {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<'train' | 'val' | 'test', string>;
    const read = (split: 'train' | 'val' | 'test') => new Float32Array(new Uint8Array(Buffer.from(cached[split], 'base64')).buffer);
    const features = { train: read('train'), val: read('val'), test: read('test') };
    log(`  ${name}: embeddings from ${path.relative(process.cwd(), file)}`);
    return { pool: { features: features.train, labels: labels('train') }, val: { features: features.val, labels: labels('val') }, test: { features: features.test, labels: labels('test') }, dim: features.train.length / data.train.n };
  }
  const backbone = BACKBONE_FILE ? await backboneFromFile(BACKBONE_FILE, backbones) : await standInFor(name, backbones);
  const out: Partial<Record<'train' | 'val' | 'test', Float32Array>> = {};
  for (const split of ['train', 'val', 'test'] as const) out[split] = await embedSamples(backbone, medmnistSamples(data[split]));
  fs.mkdirSync(cacheDir, { recursive: true });
  const encode = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
  fs.writeFileSync(file, JSON.stringify({ train: encode(out.train!), val: encode(out.val!), test: encode(out.test!) }));
  return { pool: { features: out.train!, labels: labels('train') }, val: { features: out.val!, labels: labels('val') }, test: { features: out.test!, labels: labels('test') }, dim: backbone.config.embedDim };
}

const rows = (f: Float32Array, idx: number[], dim: number) => {
  const out = new Float32Array(idx.length * dim);
  idx.forEach((r, i) => out.set(f.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
};

interface RoundResult {
  labels: number;
  test: number;
  testAccuracy: number;
  val: number;
  C: number;
  seconds: number;
}

function testMetric(info: DatasetInfo, p: Float32Array, labels: ArrayLike<number>) {
  const s = summarizeMetrics(info.task, p, labels);
  return { value: info.metric === 'kappa' ? s.kappaQuadratic : s.macroAuc.macro, accuracy: s.accuracy };
}

function simulate(info: DatasetInfo, data: Embedded, label: string, seed: number): RoundResult[] {
  const [strategy, fraction, plain, coldStart, influenceShare, measure, late] = label.split(':') as [StrategyName, string?, string?, string?, string?, string?, string?];
  // `F@K` = random share F from K labels per class on; `none` = no handover.
  const [handoverFraction, handoverK] = late === 'none' ? [undefined, Infinity] : late ? late.split('@').map(Number) : [undefined, undefined];
  const variant: SuggestOptions = {
    // As the app: an ordinal task's uncertain part ranks by grade variance; `mixed:::::margin` measures margin instead.
    ordinal: info.task === 'ordinal' && measure !== 'margin',
    randomFraction: fraction ? Number(fraction) : undefined,
    classBalanced: plain === 'plain' ? false : undefined,
    coldStartLabelsPerClass: coldStart ? Number(coldStart) : undefined,
    influenceFraction: influenceShare ? Number(influenceShare) : undefined,
    handoverLabelsPerClass: handoverK,
    handoverRandomFraction: handoverFraction,
  };
  // Mixed gets each case's validation influence, as the app gives it; `mixed::::0` measures it without.
  const useInfluence = strategy === 'mixed' && variant.influenceFraction !== 0;
  const { dim, pool } = data;
  const n = pool.labels.length;
  const labelled: number[] = [];
  const isLabelled = new Uint8Array(n);
  const curve: RoundResult[] = [];
  let poolProbabilities: Float32Array | undefined;
  let probe: LinearProbeResult | undefined;
  let train: FeatureSet | undefined;
  const budgets = BUDGETS.map((b) => Math.min(b, n));
  let started = performance.now();
  for (let round = 0; labelled.length < budgets.at(-1)!; round++) {
    // A round labels up to the next budget, or, with the loop's cadence, only as many as start its next run.
    const nextBudget = budgets.find((b) => b > labelled.length)!;
    const step = CADENCE === 'loop' && labelled.length > 0 ? labelsPerRun(LOOP_SETTINGS, labelled.length) : Infinity;
    const need = Math.min(nextBudget, labelled.length + step) - labelled.length;
    const unlabeled = Array.from({ length: n }, (_, i) => i).filter((i) => !isLabelled[i]);
    const first = round === 0;
    const name: StrategyName = first && NEEDS_MODEL.has(strategy) ? 'random' : strategy;
    // Strategies with a random part draw afresh each round, as random does.
    const options: SuggestOptions = { ...variant, seed: name === 'random' || name === 'mixed' ? `al:${seed}:${round}` : seed, labeledCount: labelled.length, autoLabelsPerClass: AUTO_PER_CLASS };
    const probabilities = poolProbabilities ? rows(poolProbabilities, unlabeled, info.classes) : undefined;
    const candidates = rows(pool.features, unlabeled, dim);
    const influence =
      useInfluence && probe && train
        ? validationInfluence({
            weight: probe.tensors['head.weight'].data,
            bias: probe.tensors['head.bias'].data,
            labelled: train,
            validation: data.val,
            candidates,
            C: probe.C,
            classWeights: probeClassWeights(train.labels, info.classes, CLASS_WEIGHTING),
          }).scores
        : undefined;
    const picks = suggest(
      name,
      {
        numCases: unlabeled.length,
        probabilities,
        influence,
        embeddings: candidates,
        labeledEmbeddings: labelled.length ? rows(pool.features, labelled, dim) : undefined,
      },
      need,
      options,
    );
    for (const p of picks) {
      labelled.push(unlabeled[p.index]);
      isLabelled[unlabeled[p.index]] = 1;
    }
    train = { features: rows(pool.features, labelled, dim), labels: labelled.map((i) => pool.labels[i]) };
    const fitted = fitLinearProbe(train, data.val, { task: info.task, numClasses: info.classes, classWeighting: CLASS_WEIGHTING });
    probe = fitted;
    poolProbabilities = predictProbabilities(fitted.tensors, pool.features);
    if (!budgets.includes(labelled.length)) continue;
    const m = testMetric(info, predictProbabilities(fitted.tensors, data.test.features), data.test.labels);
    const valValue = fitted.scores.find((s) => s.C === fitted.C)!.value;
    curve.push({ labels: labelled.length, test: m.value, testAccuracy: m.accuracy, val: valValue, C: fitted.C, seconds: (performance.now() - started) / 1000 });
    started = performance.now();
  }
  return curve;
}

/** Trapezoid area under the mean curve over the budgets, divided by their span. */
function aulc(curve: { labels: number; test: number }[]): number {
  let area = 0;
  for (let i = 1; i < curve.length; i++) area += ((curve[i].test + curve[i - 1].test) / 2) * (curve[i].labels - curve[i - 1].labels);
  return area / (curve.at(-1)!.labels - curve[0].labels);
}

/** Labels at which a mean curve first reaches `target` (linear between budgets); undefined when it never does. */
function labelsToReach(labels: number[], values: number[], target: number): number | undefined {
  if (values[0] >= target) return labels[0];
  for (let i = 1; i < values.length; i++) {
    if (values[i] >= target) return labels[i - 1] + ((target - values[i - 1]) / (values[i] - values[i - 1])) * (labels[i] - labels[i - 1]);
  }
  return undefined;
}

async function main(): Promise<void> {
  const started = performance.now();
  const backend = await initBackend();
  log(`MedTune eval:al — ${SEEDS} seeds (${FIRST_SEED}–${FIRST_SEED + SEEDS - 1}), budgets ${BUDGETS.join('/')}, strategies ${STRATEGIES.join(', ')}, probe class weights ${CLASS_WEIGHTING}, ${CADENCE === 'loop' ? "rounds at the learning loop's rhythm" : 'one round per budget'}, backend ${describeBackend(backend)}, ${os.cpus().length} cores${QUICK ? ', QUICK mode' : ''}`);
  const backbones: Backbones = new Map();
  const report: Record<string, unknown> = {};
  for (const name of DATASETS) {
    const info = INFO[name];
    log('');
    log(`## ${name} (${info.file}; test metric ${info.metric === 'kappa' ? 'quadratic-weighted kappa' : 'ROC AUC'}; ${BACKBONE_FILE ? `backbone ${path.basename(BACKBONE_FILE)}` : `backbone trained on ${info.backboneFrom}`})`);
    const data = await embeddings(name, backbones);
    const curves: Record<string, RoundResult[][]> = {};
    for (const strategy of STRATEGIES) {
      curves[strategy] = [];
      for (let k = 0; k < SEEDS; k++) {
        const seed = FIRST_SEED + k;
        const t = performance.now();
        curves[strategy].push(simulate(info, data, strategy, seed));
        log(`  ${strategy} seed ${seed}: ${curves[strategy][k].map((r) => fmt(r.test)).join(' ')} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
      }
    }
    const labels = curves[STRATEGIES[0]][0].map((r) => r.labels);
    const meanCurve = (s: string) => labels.map((_, i) => mean(curves[s].map((c) => c[i].test)));
    log('');
    log(`pool ${data.pool.labels.length}, val ${data.val.labels.length}, test ${data.test.labels.length}; test ${info.metric}, mean ± sd over ${SEEDS} seeds:`);
    log(`| labels | ${STRATEGIES.join(' | ')} |`);
    log(`|---|${STRATEGIES.map(() => '---').join('|')}|`);
    labels.forEach((l, i) => log(`| ${l} | ${STRATEGIES.map((s) => `${fmt(mean(curves[s].map((c) => c[i].test)))} ± ${fmt(sd(curves[s].map((c) => c[i].test)))}`).join(' | ')} |`));
    const areas = Object.fromEntries(STRATEGIES.map((s) => [s, curves[s].map((c) => aulc(c))]));
    log(`| AULC | ${STRATEGIES.map((s) => `${fmt(mean(areas[s]))} ± ${fmt(sd(areas[s]))}`).join(' | ')} |`);
    const summary: Record<string, unknown> = { labels, areas };
    if (curves.random) {
      const target = meanCurve('random').at(-1)!;
      const reach = Object.fromEntries(STRATEGIES.map((s) => [s, labelsToReach(labels, meanCurve(s), target)]));
      log(`| labels to reach random's final ${fmt(target)} | ${STRATEGIES.map((s) => (reach[s] === undefined ? `> ${labels.at(-1)}` : `${reach[s]!.toFixed(0)} (${((100 * reach[s]!) / labels.at(-1)!).toFixed(0)} %)`)).join(' | ')} |`);
      const atOrAbove = Object.fromEntries(STRATEGIES.map((s) => [s, labels.filter((_, i) => meanCurve(s)[i] >= meanCurve('random')[i]).length]));
      log(`| budgets at or above random (mean) | ${STRATEGIES.map((s) => `${atOrAbove[s]} / ${labels.length}`).join(' | ')} |`);
      Object.assign(summary, { randomFinal: target, labelsToReachRandomFinal: reach, budgetsAtOrAboveRandom: atOrAbove });
    }
    const checks = checkForecasts(curves, labels, info.metric, FIRST_SEED);
    if (checks) summary.forecastChecks = checks;
    report[name] = { ...summary, curves };
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, JSON.stringify({ seeds: SEEDS, firstSeed: FIRST_SEED, budgets: BUDGETS, strategies: STRATEGIES, classWeighting: CLASS_WEIGHTING, cadence: CADENCE, pretrainEpochs: PRETRAIN_EPOCHS, datasets: report }, null, 1));
  }
  if (STRATEGIES.includes('random') && DATASETS.length > 1) summariseAcrossSets(report);
  log('');
  log(`total ${((performance.now() - started) / 1000).toFixed(0)} s; results written to ${OUT}`);
}

/**
 * The learning-curve forecast made at 200 labels from the validation points so far, checked against the
 * validation value measured at the last budget; undefined when the budgets do not allow it.
 */
function checkForecasts(curves: Record<string, RoundResult[][]>, labels: number[], metric: DatasetInfo['metric'], firstSeed: number): unknown[] | undefined {
  const last = labels.at(-1)!;
  if (!labels.includes(200) || last <= 200 || labels.filter((l) => l <= 200).length < 3) return undefined;
  log('');
  log(`learning-curve forecast made at 200 labels (val ${metric}, a − b·n^(−c), 90 % prediction interval) vs the val value measured at ${last}:`);
  log('| strategy | seed | forecast at ' + last + ' | interval | measured | inside |');
  log('|---|---|---|---|---|---|');
  const checks: { strategy: string; seed: number; forecast: number; low: number; high: number; measured: number; inside: boolean }[] = [];
  for (const [s, runs] of Object.entries(curves)) {
    runs.forEach((c, k) => {
      const seed = firstSeed + k;
      const points = c.filter((r) => r.labels <= 200).map((r) => ({ labels: r.labels, value: r.val }));
      if (points.some((p) => !Number.isFinite(p.value))) return;
      const f = forecastGain(points, { extras: [50, 100, last - 200, 500], ceiling: 1, resamples: 300, seed }).forecasts[2];
      const measured = c.at(-1)!.val;
      const now = f.value - f.gain;
      const inside = measured - now >= f.low && measured - now <= f.high;
      checks.push({ strategy: s, seed, forecast: f.value, low: now + f.low, high: now + f.high, measured, inside });
      log(`| ${s} | ${seed} | ${fmt(f.value)} | ${fmt(now + f.low)} – ${fmt(now + f.high)} | ${fmt(measured)} | ${inside ? 'yes' : 'no'} |`);
    });
  }
  const above = checks.filter((c) => c.measured > c.high).length;
  log(`forecast inside its interval ${checks.filter((c) => c.inside).length} / ${checks.length} (measured above it ${above}, below ${checks.length - above - checks.filter((c) => c.inside).length}); mean |forecast − measured| ${fmt(mean(checks.map((c) => Math.abs(c.forecast - c.measured))))}, mean (measured − forecast) ${fmt(mean(checks.map((c) => c.measured - c.forecast)))}`);
  return checks;
}

/** `--forecast-from <results.json>`: the forecast check alone, on the curves an earlier run stored (no training). */
function recheckForecasts(file: string): void {
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { firstSeed?: number; datasets: Record<string, { labels: number[]; curves: Record<string, RoundResult[][]> }> };
  log(`MedTune eval:al — forecast check only, on the curves stored in ${file}`);
  let inside = 0;
  let total = 0;
  for (const [name, result] of Object.entries(stored.datasets)) {
    log('');
    log(`## ${name}`);
    const checks = (checkForecasts(result.curves, result.labels, INFO[name as DatasetName].metric, stored.firstSeed ?? 0) ?? []) as { inside: boolean }[];
    inside += checks.filter((c) => c.inside).length;
    total += checks.length;
  }
  log('');
  log(`all sets: forecast inside its 90 % interval ${inside} / ${total} (${total ? ((100 * inside) / total).toFixed(0) : 'n/a'} %)`);
}

/** The issue's two tests over all sets: mean (strategy − random) per budget, and sets reached with ≤ 70 % of the labels. */
function summariseAcrossSets(report: Record<string, unknown>): void {
  log('');
  log(`across ${DATASETS.join(', ')}: mean over the sets of (strategy − random) per budget (${BUDGETS.join(', ')} labels); sets where random's final value is reached with ≤ 70 % of the labels`);
  for (const s of STRATEGIES.filter((x) => x !== 'random')) {
    const gaps = BUDGETS.map((_, i) =>
      mean(
        DATASETS.map((d) => {
          const curves = (report[d] as { curves: Record<string, RoundResult[][]> }).curves;
          const at = (name: string) => mean(curves[name].map((c) => c[i].test));
          return at(s) - at('random');
        }),
      ),
    );
    const saved = DATASETS.filter((d) => {
      const reach = (report[d] as { labelsToReachRandomFinal: Record<string, number | undefined> }).labelsToReachRandomFinal[s];
      return reach !== undefined && reach <= 0.7 * BUDGETS.at(-1)!;
    });
    log(`| ${s} | ${gaps.map((g) => (g >= 0 ? '+' : '') + fmt(g)).join(' ')} | at or above random at ${gaps.filter((g) => g >= 0).length} / ${BUDGETS.length} budgets | ≤ 70 % on ${saved.length} / ${DATASETS.length} (${saved.join(', ') || 'none'}) |`);
  }
}

if (FORECAST_FROM) recheckForecasts(FORECAST_FROM);
else await main();
