import type { Command } from 'commander';
import { BACKEND_NAMES } from '../../model/backend';
import { Workspace, WorkspaceError } from '../../store';
import { exportVersion } from '../../train/export-version';
import type { TrainJobInput } from '../../train/job';
import { TrainingService, workerThreadTrainer } from '../../train/service';
import type { RunEvent, RunOutcome } from '../../train/training-run';
import { addAdapterOptions, adapterFromOptions, type AdapterOptions } from '../adapter-options';
import { CliError, EXIT } from '../cli-error';
import { findBackbone, findTask, int, num, oneOf, openWorkspace } from '../common';
import { AUGMENTATIONS, CLASS_WEIGHTINGS, OPTIMIZERS, TRAINING_DEFAULTS, type ClassWeighting } from '../../vocabulary';

interface TrainOptions extends AdapterOptions {
  workspace?: string;
  task?: string;
  backbone?: string;
  epochs: number;
  batchSize: number;
  microBatch?: number;
  lr: number;
  optimizer: 'adamw' | 'sgd';
  patience: number;
  augment: string;
  prefixCache: 'auto' | 'off';
  classWeighting: ClassWeighting;
  grid?: boolean;
  gridBudget: number;
  fresh?: boolean;
  fundusFov?: boolean;
  promote: 'if-better' | 'never' | 'always';
  seed: number;
  backend?: string;
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

function summary(outcome: RunOutcome): string {
  const m = outcome.metrics;
  if (!m) return 'no validation cases';
  if (m.kind === 'multilabel') return `mAP ${m.mAP.mean.toFixed(4)} on ${m.n} validation cases`;
  return `accuracy ${m.accuracy.toFixed(4)}, macro AUC ${m.macroAuc.macro.toFixed(4)}, quadratic kappa ${m.kappaQuadratic.toFixed(4)}, F1 ${m.f1.macroF1.toFixed(4)} on ${m.n} validation cases`;
}

/** The job `medtune train`'s options describe; bad values are usage errors. */
function jobInput(ws: Workspace, opts: TrainOptions): TrainJobInput {
  const task = findTask(ws, opts.task!);
  const adapter = adapterFromOptions(opts);
  const backboneId = findBackbone(ws, opts.backbone);
  return {
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
    classWeighting: opts.classWeighting,
    grid: Boolean(opts.grid),
    gridBudgetSeconds: opts.gridBudget,
  } as TrainJobInput;
}

/**
 * Queues the run in the workspace's training queue (the app's TrainingService: same run record, trainer
 * worker, events and promotion) and waits for it, printing progress; Ctrl-C cancels it through the queue.
 */
async function trainThroughQueue(opts: TrainOptions): Promise<void> {
  if (opts.backend) process.env.MEDTUNE_BACKEND = opts.backend; // read by the trainer worker
  const ws = openWorkspace(opts.workspace!);
  let runId: number | null = null;
  const service = new TrainingService(ws, { onRunEvent: (e) => e.runId === runId && printRunEvent(e) }, workerThreadTrainer, { pollMs: 0 });
  const onSigint = () => {
    process.stderr.write('\ncancelling…\n');
    if (runId !== null) service.cancelRun(runId);
  };
  process.on('SIGINT', onSigint);
  try {
    const input = jobInput(ws, opts);
    try {
      runId = service.enqueueTraining(input).id;
    } catch (err) {
      if (err instanceof WorkspaceError) throw new CliError(err.message);
      throw new CliError((err as Error).message, EXIT.usage);
    }
    process.stderr.write(`training run ${runId} queued (pid ${process.pid})\n`);
    const outcome = await service.waitForRun(runId);
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (outcome.status === 'cancelled') throw new CliError(`training run ${runId} cancelled`, EXIT.cancelled);
    if (outcome.status === 'failed') throw new CliError(`training run ${runId} failed: ${outcome.error}`);
    process.stdout.write(`version ${outcome.versionId} ${outcome.promoted ? 'is now active' : 'kept as a candidate'}: ${summary(outcome)}\n`);
    // Why (never at chance; a version on more labels wins unless worse beyond noise) and the kept epoch.
    if (outcome.reason) process.stdout.write(`  ${outcome.reason}\n`);
    if (outcome.epochs) process.stdout.write(`  ${outcome.epochs}\n`);
    if (outcome.grid) process.stdout.write(`  ${outcome.grid}\n`);
    for (const w of outcome.warnings ?? []) process.stdout.write(`  warning: ${w}\n`);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await service.close();
    ws.close();
  }
}

/** `medtune train` and `medtune train export`. */
export function registerTrainCommands(program: Command): void {
  const train = program
    .command('train')
    .description('Train an adapter version for a task from its current labels (warm start from the active version), through the workspace\'s training queue')
    // Not commander requiredOptions: commander would demand them of `train export` too.
    .option('-w, --workspace <dir>', 'the workspace folder (required)')
    .option('--task <name>', 'label task name or id (required)')
    .option('--backbone <name>', 'backbone name or id (default: the newest)');
  addAdapterOptions(train)
    .option('--epochs <n>', 'maximum epochs', int('epochs'), TRAINING_DEFAULTS.epochs)
    .option('--batch-size <n>', 'effective batch size', int('batch size'), TRAINING_DEFAULTS.batchSize)
    .option('--micro-batch <n>', 'images per forward/backward pass (memory)', int('micro batch'))
    .option('--lr <x>', 'peak learning rate', num('lr'), TRAINING_DEFAULTS.lr)
    .option('--optimizer <name>', OPTIMIZERS.join(' or '), oneOf('optimizer', OPTIMIZERS), TRAINING_DEFAULTS.optimizer)
    .option('--patience <n>', 'early-stopping patience in epochs (0 = off)', int('patience'), TRAINING_DEFAULTS.patience)
    .option('--class-weighting <mode>', `loss weight per class: ${CLASS_WEIGHTINGS.join(', ')} (inverse = by inverse frequency)`, oneOf('class weighting', CLASS_WEIGHTINGS), TRAINING_DEFAULTS.classWeighting)
    .option('--grid', 'try learning rate ×⅓, ×1, ×3 × this class weighting and its opposite on the validation cases and keep the best (the linear probe: the weighting only)')
    .option('--grid-budget <seconds>', 'a grid starts no setting that would end past this', num('grid budget'), TRAINING_DEFAULTS.gridBudgetSeconds)
    .option('--augment <preset>', `augmentation: ${AUGMENTATIONS.join(', ')}`, TRAINING_DEFAULTS.augmentation)
    .option(
      '--prefix-cache <mode>',
      'auto: run the frozen blocks before the first adapted one once per image (not with --augment); off: every epoch',
      oneOf('prefix cache', ['auto', 'off'] as const),
      'auto',
    )
    .option('--fresh', 'do not warm-start from the active version')
    .option('--fundus-fov', 'crop fundus photographs to their field of view')
    .option('--promote <when>', 'if-better, never or always', oneOf('promote', ['if-better', 'never', 'always'] as const), 'if-better')
    .option('--seed <n>', 'random seed', int('seed'), TRAINING_DEFAULTS.seed)
    .option('--backend <name>', `force the trainer's TensorFlow.js backend (${BACKEND_NAMES.join(', ')})`, oneOf('backend', BACKEND_NAMES))
    .action(async (opts: TrainOptions) => {
      if (!opts.workspace) throw new CliError("required option '-w, --workspace <dir>' not specified", EXIT.usage);
      if (!opts.task) throw new CliError("required option '--task <name>' not specified", EXIT.usage);
      await trainThroughQueue(opts);
    });

  train
    .command('export <versionId> <dir>')
    .description('Write an adapter version to <dir>/medtune-<task>-v<id>/ (adapter_model.safetensors, adapter_config.json, medtune_version.json)')
    // Also accepted before `export` (`medtune train -w ws export …`), where `train` parses it.
    .option('-w, --workspace <dir>', 'the workspace folder (required)')
    .action(async (id: string, dir: string, _opts: unknown, cmd: Command) => {
      const { workspace } = cmd.optsWithGlobals() as { workspace?: string };
      if (!workspace) throw new CliError("required option '-w, --workspace <dir>' not specified", EXIT.usage);
      if (!/^\d+$/.test(id) || Number(id) < 1) throw new CliError(`version id must be a positive integer, not "${id}"`, EXIT.usage);
      const versionId = Number(id);
      const ws = openWorkspace(workspace);
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
}
