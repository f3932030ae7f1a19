import type { Command } from 'commander';
import type { TrainRun } from '../../store';
import { findTask, int, withWorkspace } from '../common';

function describeRun(r: TrainRun): string {
  const took = r.startedAt && r.finishedAt ? `${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s` : '';
  const live =
    (r.status === 'running' || r.status === 'queued') && r.owner
      ? `pid ${r.owner.pid}${r.live ? ` ${Math.round(r.live.fraction * 100)}% ${r.live.phase}${r.live.epoch !== undefined ? ` epoch ${r.live.epoch}/${r.live.epochs}` : ''}` : ''}`
      : '';
  return `${String(r.id).padStart(4)}  ${r.status.padEnd(9)}  ${(r.method ?? '').padEnd(6)}  ${(r.backend ?? '').padEnd(5)}  ${r.resultVersionId ? `version ${r.resultVersionId}` : live}  ${took}  ${r.error ?? ''}  ${r.queuedAt}`;
}

/** `medtune runs`: the workspace's training runs, whichever process queued them. */
export function registerRunsCommands(program: Command): void {
  program
    .command('runs')
    .description('List training runs (queued, running, done, failed, cancelled), newest first; runs whose process is gone are marked failed first')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .option('--task <name>', 'only this task')
    .option('--log <runId>', 'print the progress log of one run', int('run id'))
    .action((opts: { workspace: string; task?: string; log?: number }) =>
      withWorkspace(opts.workspace, (ws) => {
        if (opts.log !== undefined) {
          for (const entry of ws.runs.get(opts.log).progress) process.stdout.write(`${JSON.stringify(entry)}\n`);
          return;
        }
        ws.runs.failOrphaned();
        const taskId = opts.task ? findTask(ws, opts.task).id : undefined;
        for (const r of ws.runs.list(taskId)) process.stdout.write(`${describeRun(r)}\n`);
      }),
    );
}

