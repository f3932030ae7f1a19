import type { Command } from 'commander';
import { describeBackend, initBackend } from '../../model/backend';
import { executePrediction } from '../../train/predict-run';
import { findTask, markPartial, positiveInt, withCancellableWorkspace } from '../common';

/** `medtune predict`. */
export function registerPredictCommands(program: Command): void {
  program
    .command('predict')
    .description("Predict the task's cases with the active (or a given) version: probabilities, uncertainty, embeddings")
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'label task name or id')
    // `--version` is also the program's flag; program options are positional (main.ts), so here it is predict's.
    .option('--version <id>', 'adapter version id (default: the active one)', positiveInt('version'))
    .option('--unlabeled', 'only unlabeled cases')
    .option('--backend <name>', 'force a TensorFlow.js backend')
    .action(async (opts: { workspace: string; task: string; version?: number; unlabeled?: boolean; backend?: string }) => {
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
        if (outcome.failures.length > 0) markPartial();
      });
    });
}
