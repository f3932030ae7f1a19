import { InvalidArgumentError, type Command } from 'commander';
import { describeConnection, loadConnection, saveConnection, type PacsConnection } from '../../pacs/connection';
import { PacsError } from '../../pacs/errors';
import { openClient, PACS_PROTOCOLS, type PacsProtocol } from '../../pacs/open-client';
import type { StudyQuery } from '../../pacs/query';
import { validateStudyQuery } from '../../pacs/query';
import { retrieve } from '../../pacs/retrieve';
import { sendReports } from '../../pacs/send';
import { Workspace, WorkspaceError } from '../../store';
import { CliError, EXIT } from '../cli-error';

interface QueryFlags {
  patientId?: string;
  patientName?: string;
  from?: string;
  to?: string;
  modality?: string;
  accession?: string;
  description?: string;
  limit?: number;
}

const wsOption = ['-w, --workspace <dir>', 'the workspace folder'] as const;
const protocolOption = ['--protocol <p>', 'dicomweb, dimse, c-get or c-move (default: DICOMweb when the connection has a URL; dimse retrieves with C-MOVE when the connection has --listen-port, else C-GET)'] as const;

/** `medtune pacs add|list|remove|echo|query|retrieve|send`: query and retrieve studies, send labels back. */
export function registerPacsCommands(program: Command): void {
  const pacs = program.command('pacs').description('Query and retrieve studies from a PACS (DICOMweb or DIMSE), send labels back');

  pacs
    .command('add <name>')
    .description('Add (or replace) a PACS connection; secrets are named environment variables, never stored')
    .requiredOption(...wsOption)
    .option('--url <url>', 'DICOMweb base URL (e.g. http://pacs:8042/dicom-web)')
    .option('--user <user>', 'Basic auth user (with --password-env)')
    .option('--password-env <VAR>', 'environment variable holding the Basic auth password')
    .option('--token-env <VAR>', 'environment variable holding a Bearer token')
    .option('--aet <aet>', 'DIMSE: the PACS AE title')
    .option('--host <host>', 'DIMSE: the PACS host')
    .option('--port <port>', 'DIMSE: the PACS port', parsePort)
    .option('--calling-aet <aet>', 'DIMSE: our AE title', 'MEDTUNE')
    .option('--listen-port <port>', 'DIMSE: our port for C-MOVE (the PACS must know our AE title at this port); without it, C-GET', parsePort)
    .action((name: string, o: { workspace: string; url?: string; user?: string; passwordEnv?: string; tokenEnv?: string; aet?: string; host?: string; port?: number; callingAet: string; listenPort?: number }) =>
      withWorkspace(o.workspace, (ws) => {
        const config: PacsConnection = {};
        if (o.url) {
          if (o.user && !o.passwordEnv) throw new CliError('--user needs --password-env <VAR> (the password itself is never stored)', 2);
          if (o.user && o.tokenEnv) throw new CliError('give either --user/--password-env or --token-env', 2);
          config.dicomweb = {
            url: o.url,
            auth: o.user ? { kind: 'basic', user: o.user, password: { env: o.passwordEnv! } } : o.tokenEnv ? { kind: 'bearer', token: { env: o.tokenEnv } } : undefined,
          };
        }
        if (o.aet || o.host || o.port) {
          if (!o.aet || !o.host || !o.port) throw new CliError('a DIMSE peer needs --aet, --host and --port', 2);
          config.dimse = { aet: o.aet, host: o.host, port: o.port, callingAet: o.callingAet, ...(o.listenPort ? { listenPort: o.listenPort } : {}) };
        }
        const saved = saveConnection(ws, name, config);
        process.stdout.write(`saved ${describeConnection(name, saved)}\n`);
      }),
    );

  pacs
    .command('list')
    .description('List the PACS connections of a workspace (without secrets)')
    .requiredOption(...wsOption)
    .action((o: { workspace: string }) =>
      withWorkspace(o.workspace, (ws) => {
        for (const c of ws.pacsConnections.list()) process.stdout.write(`${describeConnection(c.name, loadConnection(ws, c.name))}\n`);
      }),
    );

  pacs
    .command('remove <name>')
    .description('Remove a PACS connection')
    .requiredOption(...wsOption)
    .action((name: string, o: { workspace: string }) =>
      withWorkspace(o.workspace, (ws) => {
        if (!ws.pacsConnections.remove(name)) throw new CliError(`no PACS connection "${name}"`);
        process.stdout.write(`removed ${name}\n`);
      }),
    );

  pacs
    .command('echo <name>')
    .description('Test a connection (DICOMweb request or C-ECHO)')
    .requiredOption(...wsOption)
    .option(...protocolOption, parseProtocol)
    .action((name: string, o: { workspace: string; protocol?: PacsProtocol }) =>
      withWorkspaceAsync(o.workspace, async (ws) => {
        const client = await openClient(loadConnection(ws, name), o.protocol);
        await client.echo();
        process.stdout.write(`${name}: ${client.protocol} OK\n`);
      }),
    );

  addQueryFlags(
    pacs
      .command('query <name>')
      .description('Find studies (or, with --study, the series of one study)')
      .requiredOption(...wsOption)
      .option(...protocolOption, parseProtocol)
      .option('--study <uid>', 'list the series of this study instead')
      .option('--json', 'print JSON'),
  ).action((name: string, o: QueryFlags & { workspace: string; protocol?: PacsProtocol; study?: string; json?: boolean }) =>
    withWorkspaceAsync(o.workspace, async (ws) => {
      const client = await openClient(loadConnection(ws, name), o.protocol);
      const rows = o.study ? await client.findSeries(o.study) : await client.findStudies(studyQuery(o));
      if (o.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      for (const r of rows) {
        process.stdout.write(
          'seriesUid' in r
            ? `${r.seriesUid}\t${r.modality ?? ''}\t#${r.seriesNumber ?? ''}\t${r.instanceCount ?? '?'} instances\t${r.description ?? ''}\n`
            : `${r.studyUid}\t${r.studyDate ?? ''}\t${r.patientId ?? ''}\t${r.patientName ?? ''}\t${r.modalities.join('/')}\t${r.accessionNumber ?? ''}\t${r.description ?? ''}\n`,
        );
      }
      process.stderr.write(`${rows.length} ${o.study ? 'series' : 'studies'}\n`);
    }),
  );

  addQueryFlags(
    pacs
      .command('retrieve <name>')
      .description('Retrieve studies (or series) into the workspace; run it again to resume: only missing instances are fetched')
      .requiredOption(...wsOption)
      .option(...protocolOption, parseProtocol)
      .option('--all', 'every study the query flags select (all studies without them)')
      .option('--study <uid...>', 'these studies')
      .option('--series <uid...>', 'only these series (of the single --study)')
      .option('--concurrency <n>', 'instances in flight at once', parsePositive, 4)
      .option('--quiet', 'no progress on stderr'),
  ).action(
    (name: string, o: QueryFlags & { workspace: string; protocol?: PacsProtocol; all?: boolean; study?: string[]; series?: string[]; concurrency: number; quiet?: boolean }) =>
      withWorkspaceAsync(o.workspace, async (ws) => {
        if (!o.all === !o.study) throw new CliError('give --all or --study <uid>…', 2);
        if (o.series && o.study?.length !== 1) throw new CliError('--series needs exactly one --study', 2);
        const client = await openClient(loadConnection(ws, name), o.protocol);
        const targets = o.all
          ? (await client.findStudies(studyQuery(o))).map((s) => ({ studyUid: s.studyUid }))
          : o.series
            ? o.series.map((seriesUid) => ({ studyUid: o.study![0], seriesUid }))
            : o.study!.map((studyUid) => ({ studyUid }));
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          const r = await retrieve(ws, client, targets, {
            connection: name,
            concurrency: o.concurrency,
            signal: abort.signal,
            onProgress: o.quiet ? undefined : (p) => p.phase === 'fetching' && process.stderr.write(`\rfetched ${p.done}/${p.total}`),
          });
          if (!o.quiet) process.stderr.write('\n');
          process.stdout.write(
            `listed ${r.listed}, already here ${r.present}, fetched ${r.fetched}: imported ${r.imported}, duplicates ${r.duplicates}, skipped ${r.skipped}, quarantined ${r.quarantined}, failed ${r.failed}\n`,
          );
          for (const f of r.failures) process.stdout.write(`  ${f.code}: ${f.file}: ${f.reason}\n`);
          if (r.interrupted) throw new CliError(`transfer interrupted: ${r.interrupted}`);
          if (r.cancelled) {
            process.stdout.write('retrieve cancelled; run it again to resume\n');
            process.exitCode = 130;
          } else if (r.failed > 0 || r.quarantined > 0) process.exitCode = EXIT.partial;
        } finally {
          process.removeListener('SIGINT', onSigint);
          await client.close?.();
        }
      }),
  );

  pacs
    .command('send <name>')
    .description("Send a task's labels back as one DICOM Basic Text SR per study (STOW-RS or C-STORE)")
    .requiredOption(...wsOption)
    .requiredOption('--task <name>', 'label task name')
    .option(...protocolOption, parseProtocol)
    .option('--retrieved', 'only cases retrieved through this connection')
    .option('--study <uid...>', 'only cases retrieved through this connection from these studies')
    .action((name: string, o: { workspace: string; task: string; protocol?: PacsProtocol; retrieved?: boolean; study?: string[] }) =>
      withWorkspaceAsync(o.workspace, async (ws) => {
        const task = ws.tasks.byName(o.task);
        if (!task) throw new CliError(`No label task named '${o.task}' in ${ws.dir}`);
        const caseIds = o.retrieved || o.study ? ws.pacsOrigins.caseIds(name, o.study) : undefined;
        if (caseIds?.length === 0) throw new CliError(`no case in this workspace was retrieved from ${name}${o.study ? ' (from those studies)' : ''}`);
        const client = await openClient(loadConnection(ws, name), o.protocol);
        const r = await sendReports(ws, client, task.id, { caseIds });
        process.stdout.write(`sent ${r.studies} report(s) covering ${r.cases} case(s) to ${name} (${client.protocol})\n`);
        for (const uid of r.reports) process.stdout.write(`  ${uid}\n`);
      }),
    );
}

function addQueryFlags(cmd: Command): Command {
  return cmd
    .option('--patient-id <id>', 'Patient ID')
    .option('--patient-name <name>', 'Patient name (prefix, or DICOM wildcards * ?)')
    .option('--from <YYYYMMDD>', 'study date from')
    .option('--to <YYYYMMDD>', 'study date to')
    .option('--modality <m>', 'modality in study (CT, MR, OP, …)')
    .option('--accession <n>', 'accession number')
    .option('--description <words>', 'study description words')
    .option('--limit <n>', 'at most this many studies', parsePositive);
}

function studyQuery(o: QueryFlags): StudyQuery {
  try {
    return validateStudyQuery({
      patientId: o.patientId,
      patientName: o.patientName,
      dateFrom: o.from,
      dateTo: o.to,
      modality: o.modality,
      accessionNumber: o.accession,
      studyDescription: o.description,
      limit: o.limit,
    });
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

function withWorkspace(dir: string, fn: (ws: Workspace) => void): void {
  const ws = open(dir);
  try {
    fn(ws);
  } catch (err) {
    throw asCliError(err);
  } finally {
    ws.close();
  }
}

async function withWorkspaceAsync(dir: string, fn: (ws: Workspace) => Promise<void>): Promise<void> {
  const ws = open(dir);
  try {
    await fn(ws);
  } catch (err) {
    throw asCliError(err);
  } finally {
    ws.close();
  }
}

function open(dir: string): Workspace {
  try {
    return Workspace.open(dir);
  } catch (err) {
    throw asCliError(err);
  }
}

function asCliError(err: unknown): unknown {
  if (err instanceof PacsError || err instanceof WorkspaceError) return new CliError(err.message);
  return err;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('a port number (1-65535)');
  return n;
}

function parsePositive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
}

function parseProtocol(v: string): PacsProtocol {
  const p = PACS_PROTOCOLS.find((known) => known === v);
  if (!p) throw new InvalidArgumentError(PACS_PROTOCOLS.join(', '));
  return p;
}

