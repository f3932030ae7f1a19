import { Command, CommanderError } from 'commander';
import { APP_VERSION } from '../app-info';
import { resolveUserPath } from '../store';
import { registerBackboneCommands } from './commands/backbone';
import { registerDicomCommands } from './commands/dicom';
import { registerMaskCommands } from './commands/masks';
import { registerModelCommands } from './commands/model';
import { registerPacsCommands } from './commands/pacs';
import { registerPredictCommands } from './commands/predict';
import { registerReaderCommands } from './commands/readers';
import { registerRunsCommands } from './commands/runs';
import { registerSuggestCommands } from './commands/suggest';
import { registerTrainCommands } from './commands/train';
import { registerVersionCommands } from './commands/versions';
import { registerWorkspaceCommands } from './commands/workspace';
import { CliError, EXIT } from './cli-error';

/** Builds the `medtune` command tree; each noun registers its own subcommands. */
export function buildProgram(): Command {
  const program = new Command('medtune')
    .description('MedTune: offline medical-image labelling and adapter training')
    .version(APP_VERSION, '-V, --version', 'print the MedTune version')
    // Program options only before the subcommand: `medtune predict --version 3` is predict's --version.
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError();
  registerWorkspaceCommands(program);
  registerDicomCommands(program);
  registerModelCommands(program);
  registerBackboneCommands(program);
  registerTrainCommands(program);
  registerRunsCommands(program);
  registerVersionCommands(program);
  registerPredictCommands(program);
  registerSuggestCommands(program);
  registerPacsCommands(program);
  registerReaderCommands(program);
  registerMaskCommands(program);
  // `-w '~/ws'` (quoted, or from a script): expand ~ as the shell would; relative paths keep meaning the cwd.
  program.hook('preAction', (_root, action) => {
    for (let cmd: Command | null = action; cmd; cmd = cmd.parent) {
      const dir: unknown = cmd.getOptionValue('workspace');
      if (typeof dir === 'string') cmd.setOptionValue('workspace', resolveUserPath(dir, { base: process.cwd() }));
    }
  });
  return program;
}

/** Runs the CLI and returns the process exit code (see EXIT: 0 done, 1 failure, 2 bad usage, 3 done with failed items, 130 cancelled). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`medtune: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`medtune: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  }
}
