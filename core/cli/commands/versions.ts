import type { Command } from 'commander';
import { describeForecast, versionCurve } from '../../train/version-curve';
import { findTask, positiveInt, withWorkspace } from '../common';

/** `medtune versions`, `promote`, `rollback`. */
export function registerVersionCommands(program: Command): void {
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
        // When to stop labelling: what the next labels are expected to bring.
        for (const line of describeForecast(versionCurve(ws, task.id))) process.stdout.write(`${line}\n`);
      });
    });

  program
    .command('promote')
    .description('Make an adapter version the active one of its task')
    .argument('<versionId>', 'adapter version id', positiveInt('version id'))
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .action((id: number, opts: { workspace: string }) => {
      withWorkspace(opts.workspace, (ws) => {
        const v = ws.versions.promote(id);
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
