import os from 'node:os';
import type { Command } from 'commander';
import { type AgreementReport, type PairAgreement } from '../../store';
import { READER_ROLES, type ReaderRole } from '../../vocabulary';
import { CliError } from '../cli-error';
import { findTask, oneOf, withWorkspace } from '../common';

/** `medtune readers list|add|pin` and `medtune agreement --task …` (docs/readers.md). */
export function registerReaderCommands(program: Command): void {
  const readers = program.command('readers').description('Reader profiles of a workspace (name, role, optional PIN)');
  readers
    .command('list')
    .description('List the reader profiles')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .action((opts: { workspace: string }) =>
      withWorkspace(opts.workspace, (ws) => {
        ws.readers.ensureDefault(osUser());
        process.stdout.write(`${'reader'.padEnd(24)}  ${'role'.padEnd(8)}  pin  created\n`);
        for (const r of ws.readers.list()) {
          process.stdout.write(`${r.name.padEnd(24)}  ${r.role.padEnd(8)}  ${r.hasPin ? 'yes' : 'no '}  ${r.createdAt}\n`);
        }
      }),
    );
  readers
    .command('add <name>')
    .description('Add a reader profile')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .option('--role <role>', `${READER_ROLES.join(', ')}`, oneOf('role', READER_ROLES), 'reader')
    .option('--pin-env <VAR>', 'set the profile PIN (4–12 digits) from this environment variable (never on the command line)')
    .action((name: string, opts: { workspace: string; role: ReaderRole; pinEnv?: string }) =>
      withWorkspace(opts.workspace, (ws) => {
        let pin: string | undefined;
        if (opts.pinEnv) {
          pin = process.env[opts.pinEnv];
          if (!pin) throw new CliError(`--pin-env ${opts.pinEnv}: that environment variable is not set`, 2);
        }
        ws.readers.ensureDefault(osUser());
        const profile = ws.readers.add({ name, role: opts.role, ...(pin ? { pin } : {}) });
        process.stdout.write(`added ${profile.name} (${profile.role}${profile.hasPin ? ', PIN' : ''})\n`);
      }),
    );
  readers
    .command('pin <name>')
    .description('Set a new PIN for a profile, or remove it; either ends a lockout after wrong PINs')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .option('--pin-env <VAR>', 'the new PIN (4–12 digits) from this environment variable (never on the command line)')
    .option('--remove', 'remove the PIN: switching to the profile asks for none')
    .action((name: string, opts: { workspace: string; pinEnv?: string; remove?: boolean }) =>
      withWorkspace(opts.workspace, (ws) => {
        if (Boolean(opts.pinEnv) === Boolean(opts.remove)) throw new CliError('give either --pin-env <VAR> or --remove', 2);
        const pin = opts.remove ? '' : process.env[opts.pinEnv!];
        if (pin === undefined || (!opts.remove && pin === '')) throw new CliError(`--pin-env ${opts.pinEnv}: that environment variable is not set`, 2);
        const profile = ws.readers.setPin(name, pin);
        process.stdout.write(`${profile.name}: ${profile.hasPin ? 'new PIN set' : 'PIN removed'}; wrong-PIN count cleared\n`);
      }),
    );

  program
    .command('agreement')
    .description("Inter- and intra-reader agreement of a task read by several readers: Cohen's and Fleiss' kappa, percent agreement (Dice for masks), per class, with 95 % bootstrap intervals, and the active model against each reader")
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'label task name')
    .option('--json', 'print the report as JSON')
    .action((opts: { workspace: string; task: string; json?: boolean }) =>
      withWorkspace(opts.workspace, (ws) => {
        const report = ws.agreement(findTask(ws, opts.task).id);
        process.stdout.write(opts.json ? `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n` : formatAgreement(report));
      }),
    );
}

/** The report as plain-text tables: kappa and agreement for class tasks, Dice for masks. */
export function formatAgreement(r: AgreementReport): string {
  const dice = r.measure === 'dice';
  const kappa = r.weights === 'quadratic' ? 'kappa (quadratic)' : 'kappa';
  let out = `task ${r.taskName}: ${r.readers.length} reader(s), classes ${r.classes.join(', ')}; 95 % bootstrap intervals over cases\n`;
  const pairTable = (title: string, pairs: PairAgreement[]) => {
    if (pairs.length === 0) return `\n${title}: none\n`;
    const head = dice ? 'mean Dice' : `${kappa.padEnd(26)}  agreement`;
    let t = `\n${title}\n${'pair'.padEnd(36)}  ${'cases'.padStart(5)}  ${head}\n`;
    for (const p of pairs) {
      const values = dice ? stat(p.dice) : `${stat(p.kappa).padEnd(26)}  ${stat(p.percent, true)}`;
      t += `${`${p.a} – ${p.b}`.padEnd(36)}  ${String(p.n).padStart(5)}  ${values}\n`;
    }
    t += `per class (${dice ? 'Dice' : 'one vs rest, kappa'})\n${'pair'.padEnd(36)}  ${r.classes.map((c) => c.padEnd(22)).join('  ')}\n`;
    for (const p of pairs) t += `${`${p.a} – ${p.b}`.padEnd(36)}  ${p.perClass.map((c) => stat(dice ? c.dice : c.kappa).padEnd(22)).join('  ')}\n`;
    return t;
  };
  out += pairTable(dice ? 'reader – reader (Dice, cases both painted)' : 'reader – reader (Cohen)', r.pairs);
  if (r.fleiss) {
    out += `\nall readers (Fleiss), ${r.fleiss.n} case(s) with two or more reads: kappa ${stat(r.fleiss.kappa)}, pairwise agreement ${stat(r.fleiss.percent, true)}\n`;
    out += `per class: ${r.fleiss.perClass.map((c) => `${c.className} ${stat(c.kappa)}`).join('; ')}\n`;
  }
  out += r.model ? pairTable(`active model v${r.model.versionId} – reader`, r.model.pairs) : '\nactive model – reader: no active version\n';
  if (!dice) out += pairTable('intra-reader (first read – blind repeat)', r.intra);
  return out;
}

function stat(s: { value: number; lo: number; hi: number } | undefined, percent = false): string {
  const f = (v: number) => (Number.isFinite(v) ? (percent ? `${(v * 100).toFixed(1)}%` : v.toFixed(3)) : 'n/a');
  if (!s || !Number.isFinite(s.value)) return 'n/a';
  return Number.isFinite(s.lo) ? `${f(s.value)} [${f(s.lo)}, ${f(s.hi)}]` : f(s.value);
}

function osUser(): string {
  try {
    return os.userInfo().username || 'user';
  } catch {
    return 'user';
  }
}
