/**
 * `npm run eval:parity` — outcome parity over seeds (issue 14): eval:medmnist's section (b) (linear, EPT, DVPT,
 * LoRA on RetinaMNIST, on the fixed stand-in backbone of backbone seed 0) once per adapter seed, each next to
 * the same adapter from the same initial tensors with the same recipe in PyTorch
 * (bench/reference/train_reference.py) and scikit-learn's LogisticRegression on the same frozen features
 * (bench/reference/sklearn_probe.py). Prints per method MedTune's and the references' test metrics as mean ± sd
 * over the seeds, and the difference in units of the pooled seed-to-seed sd.
 *
 * Options: --seeds 0,1,2 (default), --epochs 20, --patience 5, --methods linear,ept,dvpt,lora,
 *          --out <dir> (default test-output/eval/parity), --reuse (keep the runs already in <dir>).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openBlasEnvironment } from './openblas';

const args = process.argv.slice(2);
const value = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SEEDS = value('--seeds', '0,1,2').split(',').map(Number);
const EPOCHS = value('--epochs', '20');
const PATIENCE = value('--patience', '5');
const METHODS = value('--methods', 'linear,ept,dvpt,lora').split(',');
const OUT = path.resolve(value('--out', path.join(import.meta.dirname, '..', 'test-output', 'eval', 'parity')));
const REUSE = args.includes('--reuse');
const PYTHON = '/usr/bin/python3';
const REFERENCE = path.join(import.meta.dirname, 'reference');

interface Metrics {
  accuracy: number;
  macroAuc: number;
  kappa: number;
}
type Side = 'medtune' | 'pytorch' | 'sklearn';

const log = (line: string) => process.stdout.write(`${line}\n`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));
const fmt = (xs: number[]) => `${mean(xs).toFixed(3)} ± ${sd(xs).toFixed(3)}`;

function run(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const started = performance.now();
  const r = spawnSync(command, argv, { env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${path.basename(argv[0] ?? command)} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`);
  log(`  ${path.basename(argv[1] ?? argv[0])} ${argv.slice(2).join(' ')}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return r.stdout;
}

function main(): void {
  fs.mkdirSync(OUT, { recursive: true });
  const blas = openBlasEnvironment(PYTHON);
  log(`eval:parity — seeds ${SEEDS.join(', ')} on the backbone of seed 0; ${EPOCHS} epochs, patience ${PATIENCE}, no augmentation; ${blas.note}`);
  const results: Record<Side, Map<string, Metrics[]>> = { medtune: new Map(), pytorch: new Map(), sklearn: new Map() };
  const add = (side: Side, method: string, m: Metrics) => results[side].set(method, [...(results[side].get(method) ?? []), m]);
  const started = performance.now();
  for (const seed of SEEDS) {
    const file = path.join(OUT, `s${seed}.json`);
    log(`seed ${seed}:`);
    if (!REUSE || !fs.existsSync(file)) {
      const tsx = path.join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
      run(tsx, [path.join(import.meta.dirname, 'eval-medmnist.ts'), '--skip-al', '--epochs', EPOCHS, '--patience', PATIENCE, '--augmentation', 'none', '--seed', String(seed), '--methods', METHODS.join(','), '--out', file]);
    }
    const mt = JSON.parse(fs.readFileSync(file, 'utf8')) as { results: { method: string; test: Metrics }[] };
    for (const r of mt.results) add('medtune', r.method, r.test);
    const refDir = file.replace(/\.json$/, '.reference');
    for (const method of METHODS.filter((m) => m !== 'linear')) {
      const cached = path.join(OUT, `s${seed}.${method}.pytorch.json`);
      if (!REUSE || !fs.existsSync(cached)) fs.writeFileSync(cached, run(PYTHON, [path.join(REFERENCE, 'train_reference.py'), refDir, method], blas.env));
      add('pytorch', method, (JSON.parse(fs.readFileSync(cached, 'utf8')) as { test: Metrics }).test);
    }
    if (METHODS.includes('linear')) {
      const cached = path.join(OUT, `s${seed}.sklearn.json`);
      // Plain environment: on these features two C values tie on val kappa to 0.001, and OpenBLAS's core type alone
      // flips scikit-learn's own choice (C 10 → 100); this compares outcomes, not speed.
      if (!REUSE || !fs.existsSync(cached)) run(PYTHON, [path.join(REFERENCE, 'sklearn_probe.py'), file.replace(/\.json$/, '.features.json'), '--out', cached]);
      const sk = JSON.parse(fs.readFileSync(cached, 'utf8')) as { method: string; test: Metrics }[];
      // MedTune's probe weights classes as the job does (inverse → balanced): compare like with like.
      add('sklearn', 'linear', sk.find((r) => r.method === 'sklearn-logreg-balanced')!.test);
    }
  }
  log('');
  log(`RetinaMNIST test split, mean ± sd over seeds ${SEEDS.join(', ')} (reference: PyTorch, scikit-learn for linear); Δ = MedTune − reference in pooled sds:`);
  log('| method | MedTune ACC | AUC | QW kappa | reference ACC | AUC | QW kappa | Δ ACC / AUC / kappa (sd) |');
  log('|---|---|---|---|---|---|---|---|');
  const keys: (keyof Metrics)[] = ['accuracy', 'macroAuc', 'kappa'];
  for (const method of METHODS) {
    const mt = results.medtune.get(method) ?? [];
    const ref = (method === 'linear' ? results.sklearn : results.pytorch).get(method) ?? [];
    const col = (rows: Metrics[], k: keyof Metrics) => rows.map((r) => r[k]);
    const delta = keys.map((k) => {
      const pooled = Math.sqrt((sd(col(mt, k)) ** 2 + sd(col(ref, k)) ** 2) / 2);
      const d = mean(col(mt, k)) - mean(col(ref, k));
      return pooled > 1e-9 ? `${d >= 0 ? '+' : ''}${(d / pooled).toFixed(1)}` : d.toFixed(3);
    });
    log(`| ${method} | ${keys.map((k) => fmt(col(mt, k))).join(' | ')} | ${keys.map((k) => fmt(col(ref, k))).join(' | ')} | ${delta.join(' / ')} |`);
  }
  log(`total ${((performance.now() - started) / 1000).toFixed(0)} s; files in ${path.relative(process.cwd(), OUT)}`);
}

main();
