import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { executeSuggest } from '../../active/suggest-run';
import { STRATEGY_NAMES, type StrategyName } from '../../active/strategies';
import { describeBackend, initBackend } from '../../model/backend';
import { loadBackboneFile } from '../../model/checkpoint';
import { Workspace, type LabelTask } from '../../store';
import { AUGMENTATION_PRESETS } from '../../train/augment';
import { parseTrainJob, resolveAdapterChoice, type TrainJob } from '../../train/job';
import { exportVersion } from '../../train/export-version';
import { executePrediction } from '../../train/predict-run';
import { executeTrainingRun, type RunEvent } from '../../train/training-run';
import { CliError } from '../cli-error';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};
const oneOf = <T extends string>(name: string, values: readonly T[]) => (v: string) => {
  if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
  return v as T;
};

function findTask(ws: Workspace, name: string): LabelTask {
  const task = ws.tasks.byName(name) ?? (/^\d+$/.test(name) ? ws.tasks.list().find((t) => t.id === Number(name)) : undefined);
  if (!task) {
    const known = ws.tasks.list().map((t) => t.name);
    throw new CliError(`no label task "${name}" in ${ws.dir}${known.length ? ` (tasks: ${known.join(', ')})` : ' (create one with `medtune label --classes …`)'}`);
  }
  return task;
}

function findBackbone(ws: Workspace, name?: string): number {
  const all = ws.versions.backbones();
  if (all.length === 0) throw new CliError(`no backbone in ${ws.dir}: add one with \`medtune backbone add <file.safetensors> -w ${ws.dir}\``);
  if (!name) return all[all.length - 1].id;
  const hit = all.find((b) => b.name === name || String(b.id) === name);
  if (!hit) throw new CliError(`no backbone "${name}" (backbones: ${all.map((b) => b.name).join(', ')})`);
  return hit.id;
}

/** Runs `fn` with the workspace open, closing it whatever happens. */
function withWorkspace<T>(dir: string, fn: (ws: Workspace) => T): T {
  const ws = Workspace.open(dir);
  try {
    return fn(ws);
  } finally {
    ws.close();
  }
}

/** Runs `fn` with the workspace open and Ctrl-C turned into cancellation. */
async function withCancellableWorkspace<T>(dir: string, fn: (ws: Workspace, signal: AbortSignal) => Promise<T>): Promise<T> {
  const ws = Workspace.open(dir);
  const abort = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ncancelling…\n');
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    return await fn(ws, abort.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
    ws.close();
  }
}

function formatEta(seconds?: number): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.round(seconds);
  return ` ETA ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function printRunEvent(e: RunEvent): void {
  const pct = `${Math.round(e.fraction * 100)}%`.padStart(4);
  if (e.phase === 'training' && e.step !== undefined) {
    if (process.stderr.isTTY) process.stderr.write(`\r${pct} epoch ${e.epoch}/${e.epochs} step ${e.step}/${e.totalSteps} loss ${e.loss?.toFixed(4)}${formatEta(e.etaSeconds)}   `);
  } else if (e.phase === 'validating') {
    process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}${pct} epoch ${e.epoch}/${e.epochs} val loss ${e.loss?.toFixed(4)} ${e.metric?.name} ${e.metric?.value?.toFixed(4) ?? 'n/a'}\n`);
  } else if (e.phase === 'preparing' && e.message && /^(preparing images|caching frozen blocks)/.test(e.message)) {
    if (process.stderr.isTTY) process.stderr.write(`\r${pct} ${e.message}   `);
  } else if (e.message) {
    process.stderr.write(`${pct} ${e.phase}: ${e.message}\n`);
  }
}

interface AdapterOptions {
  method: 'dvpt' | 'ept' | 'linear';
  promptLength?: number;
  bottleneck?: number;
  prompts?: number;
  share?: number;
  lastLayers?: number;
  startLayer?: number;
}

/** The job's adapter choice from `medtune train` options; options of another method are refused rather than ignored. */
function adapterFromOptions(opts: AdapterOptions): Record<string, unknown> {
  const given = <T>(key: string, value: T | undefined) => (value !== undefined ? { [key]: value } : {});
  if (opts.method === 'linear' && opts.lastLayers !== undefined) throw new CliError('--last-layers applies to EPT and DVPT, not to a linear probe', 2);
  if (opts.method !== 'dvpt' && opts.startLayer !== undefined) throw new CliError(`--start-layer applies to DVPT only${opts.method === 'ept' ? ' (for EPT use --last-layers)' : ''}`, 2);
  if (opts.method === 'ept') return { method: 'ept', ...given('promptLength', opts.promptLength), ...given('lastLayers', opts.lastLayers) };
  if (opts.method === 'dvpt') {
    return {
      method: 'dvpt',
      ...given('bottleneck', opts.bottleneck),
      ...given('numPrompts', opts.prompts),
      ...given('share', opts.share),
      ...given('startLayer', opts.startLayer),
      ...given('lastLayers', opts.lastLayers),
    };
  }
  return { method: 'linear' };
}

/** Refuses, before a run is recorded, adapter layers the chosen backbone does not have (the trainer would fail later). */
function checkAdapterLayers(ws: Workspace, job: TrainJob): void {
  const depth = (ws.versions.backbone(job.backboneId).config as { depth?: unknown }).depth;
  if (typeof depth === 'number') resolveAdapterChoice(job.adapter, depth);
}

/** `medtune backbone`, `train` (and `train export`), `predict`, `suggest`, `versions`, `promote`, `rollback`. */
export function registerTrainCommands(program: Command): void {
  const backbone = program.command('backbone').description('Backbones (frozen ViTs) of a workspace');
  backbone
    .command('add <file>')
    .description('Import a ViT .safetensors (timm or Hugging Face names) into the workspace')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .option('--name <name>', 'name (default: the file name)')
    .option('--normalization <kind>', 'input normalisation of its pretraining: imagenet or half', oneOf('normalization', ['imagenet', 'half'] as const), 'imagenet')
    .option('--image-size <n>', 'run at another input size (position embeddings are resized)', int('image size'))
    .action(async (file: string, opts: { workspace: string; name?: string; normalization: string; imageSize?: number }) => {
      const loaded = await loadBackboneFile(file, { imageSize: opts.imageSize });
      withWorkspace(opts.workspace, (ws) => {
        const b = ws.versions.addBackbone({
          name: opts.name ?? path.basename(file).replace(/\.safetensors$/, ''),
          arch: 'vit',
          config: { ...loaded.config, normalization: opts.normalization },
          weights: fs.readFileSync(file),
        });
        process.stdout.write(`added backbone ${b.name} (id ${b.id}): ${JSON.stringify(loaded.config)} sha256 ${loaded.sha256}\n`);
      });
    });
  backbone
    .command('list')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .action((opts: { workspace: string }) => {
      withWorkspace(opts.workspace, (ws) => {
        for (const b of ws.versions.backbones()) process.stdout.write(`${b.id}\t${b.name}\t${JSON.stringify(b.config)}\n`);
      });
    });

  const train = program
    .command('train')
    .description('Train an adapter version for a task from its current labels (warm start from the active version)')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    // Not a commander requiredOption: commander would demand it of `train export` too.
    .option('--task <name>', 'label task name or id (required)')
    .option('--backbone <name>', 'backbone name or id (default: the newest)')
    .option('--method <method>', 'dvpt, ept or linear', oneOf('method', ['dvpt', 'ept', 'linear'] as const), 'dvpt')
    .option('--epochs <n>', 'maximum epochs', int('epochs'), 20)
    .option('--batch-size <n>', 'effective batch size', int('batch size'), 16)
    .option('--micro-batch <n>', 'images per forward/backward pass (memory)', int('micro batch'))
    .option('--lr <x>', 'peak learning rate', num('lr'), 1e-3)
    .option('--optimizer <name>', 'adamw or sgd', oneOf('optimizer', ['adamw', 'sgd'] as const), 'adamw')
    .option('--patience <n>', 'early-stopping patience in epochs (0 = off)', int('patience'), 5)
    .option('--augment <preset>', `augmentation: ${Object.keys(AUGMENTATION_PRESETS).join(', ')}`, 'none')
    .option('--prompt-length <n>', 'EPT prompt length', int('prompt length'))
    .option('--bottleneck <n>', 'DVPT bottleneck width r', int('bottleneck'))
    .option('--prompts <n>', 'DVPT prompt count M', int('prompts'))
    .option('--share <n>', 'DVPT layers sharing one module', int('share'))
    .option('--last-layers <n>', 'EPT/DVPT: adapters only in the last n blocks (default: all blocks)', int('last layers'))
    .option('--start-layer <k>', 'DVPT: first adapted block (0 = all; or use --last-layers)', int('start layer'))
    .option(
      '--prefix-cache <mode>',
      'auto: run the frozen blocks before the first adapted one once per image (not with --augment); off: every epoch',
      oneOf('prefix cache', ['auto', 'off'] as const),
      'auto',
    )
    .option('--fresh', 'do not warm-start from the active version')
    .option('--fundus-fov', 'crop fundus photographs to their field of view')
    .option('--promote <when>', 'if-better, never or always', oneOf('promote', ['if-better', 'never', 'always'] as const), 'if-better')
    .option('--seed <n>', 'random seed', int('seed'), 0)
    .option('--backend <name>', 'force a TensorFlow.js backend (node-gpu, node, wasm, cpu)')
    .action(async (opts) => {
      if (!opts.task) throw new CliError("required option '--task <name>' not specified", 2);
      const backend = await initBackend({ force: opts.backend });
      process.stderr.write(`backend: ${describeBackend(backend)}\n`);
      await withCancellableWorkspace(opts.workspace, async (ws, signal) => {
        const task = findTask(ws, opts.task);
        const adapter = adapterFromOptions(opts);
        const backboneId = findBackbone(ws, opts.backbone);
        let job: TrainJob;
        try {
          job = parseTrainJob({
            taskId: task.id,
            backboneId,
            adapter,
            warmStart: opts.fresh ? 'none' : 'active',
            epochs: opts.epochs,
            batchSize: opts.batchSize,
            microBatchSize: opts.microBatch,
            lr: opts.lr,
            optimizer: opts.optimizer,
            patience: opts.patience,
            augmentation: opts.augment,
            fundusFov: Boolean(opts.fundusFov),
            promote: opts.promote,
            seed: opts.seed,
            prefixCache: opts.prefixCache,
          });
          checkAdapterLayers(ws, job);
        } catch (err) {
          throw new CliError((err as Error).message, 2);
        }
        const run = ws.runs.create({ taskId: task.id, method: job.adapter.method, config: job as unknown as Record<string, unknown> });
        const outcome = await executeTrainingRun(ws, run.id, job, { signal, onEvent: printRunEvent });
        if (process.stderr.isTTY) process.stderr.write('\n');
        if (outcome.status === 'cancelled') throw new CliError(`training run ${run.id} cancelled`, 130);
        if (outcome.status === 'failed') throw new CliError(`training run ${run.id} failed: ${outcome.error}`);
        const m = outcome.metrics;
        const summary =
          m && m.kind !== 'multilabel'
            ? `accuracy ${m.accuracy.toFixed(4)}, macro AUC ${m.macroAuc.macro.toFixed(4)}, quadratic kappa ${m.kappaQuadratic.toFixed(4)}, F1 ${m.f1.macroF1.toFixed(4)} on ${m.n} validation cases`
            : m
              ? `mAP ${m.mAP.mean.toFixed(4)} on ${m.n} validation cases`
              : 'no validation cases';
        process.stdout.write(`version ${outcome.versionId} ${outcome.promoted ? 'is now active' : 'kept as a candidate'}: ${summary}\n`);
      });
    });

  // `-w` is parsed (and required) by `train`: commander hands options after the subcommand to the parent
  // first. It is declared here as well so that `train export --help` lists it.
  train
    .command('export <versionId> <dir>')
    .description('Write an adapter version to <dir>/medtune-<task>-v<id>/ (adapter_model.safetensors, adapter_config.json, medtune_version.json)')
    .option('-w, --workspace <dir>', 'the workspace folder')
    .action(async (id: string, dir: string, _opts: unknown, cmd: Command) => {
      const { workspace } = cmd.optsWithGlobals() as { workspace: string };
      if (!/^\d+$/.test(id) || Number(id) < 1) throw new CliError(`version id must be a positive integer, not "${id}"`, 2);
      const versionId = Number(id);
      const ws = Workspace.open(workspace);
      try {
        const result = await exportVersion(ws, versionId, dir);
        process.stdout.write(`exported version ${versionId} to ${result.dir}\n`);
        for (const f of result.files) process.stdout.write(`  ${f.name}  ${f.bytes} bytes\n`);
      } catch (err) {
        throw new CliError((err as Error).message);
      } finally {
        ws.close();
      }
    });

  program
    .command('predict')
    .description("Predict the task's cases with the active version (probabilities, uncertainty, embeddings)")
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'label task name or id')
    .option('--version <id>', 'adapter version id (default: the active one)', int('version'))
    .option('--unlabeled', 'only unlabeled cases')
    .option('--backend <name>', 'force a TensorFlow.js backend')
    .action(async (opts) => {
      const backend = await initBackend({ force: opts.backend });
      process.stderr.write(`backend: ${describeBackend(backend)}\n`);
      await withCancellableWorkspace(opts.workspace, async (ws, signal) => {
        const task = findTask(ws, opts.task);
        const outcome = await executePrediction(ws, { taskId: task.id, versionId: opts.version, scope: opts.unlabeled ? 'unlabeled' : 'all' }, {
          signal,
          onProgress: (p) => {
            if (process.stderr.isTTY) process.stderr.write(`\r${p.phase} ${p.done}/${p.total}   `);
          },
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        process.stdout.write(`version ${outcome.versionId} predicted ${outcome.predicted} cases in ${outcome.seconds.toFixed(1)} s\n`);
        for (const f of outcome.failures) process.stdout.write(`  not predicted: case ${f.caseId}: ${f.reason}\n`);
      });
    });

  program
    .command('suggest')
    .description('Rank unlabeled cases to label next (active learning)')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'label task name or id')
    .option('--strategy <name>', STRATEGY_NAMES.join(', '), oneOf('strategy', STRATEGY_NAMES), 'hybrid')
    .option('--count <n>', 'how many cases', int('count'), 20)
    .option('--seed <n>', 'seed (random strategy)', int('seed'), 0)
    .option('--json', 'print JSON')
    .action((opts: { workspace: string; task: string; strategy: StrategyName; count: number; seed: number; json?: boolean }) => {
      withWorkspace(opts.workspace, (ws) => {
        const task = findTask(ws, opts.task);
        const outcome = executeSuggest(ws, { taskId: task.id, strategy: opts.strategy, count: opts.count, seed: opts.seed });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
          return;
        }
        if (outcome.unpredicted > 0) process.stderr.write(`note: ${outcome.unpredicted} unlabeled cases have no prediction yet; run \`medtune predict\` to include them\n`);
        const names = new Map(ws.cases.all(outcome.suggested.map((s) => s.caseId)).map((c) => [c.id, c.displayName]));
        for (const s of outcome.suggested) process.stdout.write(`${String(s.rank).padStart(3)}  case ${s.caseId}  ${names.get(s.caseId)}  ${s.reason}\n`);
      });
    });

  program
    .command('runs')
    .description('List training runs (queued, running, done, failed, cancelled), newest first')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .option('--task <name>', 'only this task')
    .option('--log <runId>', 'print the progress log of one run', int('run id'))
    .action((opts: { workspace: string; task?: string; log?: number }) =>
      withWorkspace(opts.workspace, (ws) => {
        if (opts.log !== undefined) {
          for (const entry of ws.runs.get(opts.log).progress) process.stdout.write(`${JSON.stringify(entry)}\n`);
          return;
        }
        const taskId = opts.task ? findTask(ws, opts.task).id : undefined;
        for (const r of ws.runs.list(taskId)) {
          const took = r.startedAt && r.finishedAt ? `${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s` : '';
          process.stdout.write(
            `${String(r.id).padStart(4)}  ${r.status.padEnd(9)}  ${(r.method ?? '').padEnd(6)}  ${(r.backend ?? '').padEnd(5)}  ${r.resultVersionId ? `version ${r.resultVersionId}` : ''}  ${took}  ${r.error ?? ''}  ${r.queuedAt}\n`,
          );
        }
      }),
    );

  program
    .command('versions')
    .description('List the adapter versions of a task')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'label task name or id')
    .action((opts: { workspace: string; task: string }) => {
      withWorkspace(opts.workspace, (ws) => {
        const task = findTask(ws, opts.task);
        for (const v of ws.versions.list(task.id)) {
          const m = v.metrics as { selection?: { name: string; value: number | null }; trainCount?: number };
          process.stdout.write(
            `${String(v.id).padStart(4)}  ${v.status.padEnd(9)}  ${v.method.padEnd(6)}  labels ${String((v.labelSnapshot as { labelCount?: number }).labelCount ?? '?').padStart(5)}  ${m.selection ? `${m.selection.name} ${m.selection.value?.toFixed(4) ?? 'n/a'}` : ''}  ${v.createdAt}\n`,
          );
        }
      });
    });

  program
    .command('promote <versionId>')
    .description('Make an adapter version the active one of its task')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .action((id: string, opts: { workspace: string }) => {
      withWorkspace(opts.workspace, (ws) => {
        const v = ws.versions.promote(int('version id')(id));
        process.stdout.write(`version ${v.id} is now active\n`);
      });
    });

  program
    .command('rollback')
    .description('Make the previously active version of a task active again')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'label task name or id')
    .action((opts: { workspace: string; task: string }) => {
      withWorkspace(opts.workspace, (ws) => {
        const v = ws.versions.rollback(findTask(ws, opts.task).id);
        process.stdout.write(`version ${v.id} is active again\n`);
      });
    });
}
