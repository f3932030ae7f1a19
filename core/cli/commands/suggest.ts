import type { Command } from 'commander';
import { executeSuggest } from '../../active/suggest-run';
import { DEFAULT_STRATEGY, STRATEGY_NAMES, type StrategyName } from '../../vocabulary';
import { findTask, int, oneOf, withWorkspace } from '../common';

/** `medtune suggest`. */
export function registerSuggestCommands(program: Command): void {
  program
    .command('suggest')
    .description('Rank unlabeled cases to label next (active learning)')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'label task name or id')
    .option('--strategy <name>', STRATEGY_NAMES.join(', '), oneOf('strategy', STRATEGY_NAMES), DEFAULT_STRATEGY)
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
        if (outcome.influence) process.stderr.write(`note: ${outcome.influence}\n`);
        if (outcome.unpredicted > 0) process.stderr.write(`note: ${outcome.unpredicted} unlabeled cases have no prediction yet; run \`medtune predict\` to include them\n`);
        const names = new Map(ws.cases.all(outcome.suggested.map((s) => s.caseId)).map((c) => [c.id, c.displayName]));
        for (const s of outcome.suggested) process.stdout.write(`${String(s.rank).padStart(3)}  case ${s.caseId}  ${names.get(s.caseId)}  ${s.reason}\n`);
      });
    });
}
