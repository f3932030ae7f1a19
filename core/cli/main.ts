import { Command, CommanderError } from 'commander';
import { APP_VERSION } from '../app-info';
import { resolveUserPath } from '../store';
import { registerDicomCommands } from './commands/dicom';
import { registerModelCommands } from './commands/model';
import { registerPacsCommands } from './commands/pacs';
import { registerTrainCommands } from './commands/train';
import { registerWorkspaceCommands } from './commands/workspace';
import { CliError } from './cli-error';

/** Builds the `medtune` command tree; each area registers its own subcommands. */
export function buildProgram(): Command {
  const program = new Command('medtune')
    .description('MedTune: offline medical-image labelling and adapter training')
    .version(APP_VERSION)
    .exitOverride()
    .showHelpAfterError();
  registerWorkspaceCommands(program);
  registerDicomCommands(program);
  registerModelCommands(program);
  registerTrainCommands(program);
  registerPacsCommands(program);
  // `-w '~/ws'` (quoted, or from a script): expand ~ as the shell would; relative paths keep meaning the cwd.
  program.hook('preAction', (_root, action) => {
    for (let cmd: Command | null = action; cmd; cmd = cmd.parent) {
      const dir: unknown = cmd.getOptionValue('workspace');
      if (typeof dir === 'string') cmd.setOptionValue('workspace', resolveUserPath(dir, { base: process.cwd() }));
    }
  });
  return program;
}

/** Runs the CLI and returns the process exit code (0 success, 1 failure, 2 bad usage). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`medtune: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`medtune: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
