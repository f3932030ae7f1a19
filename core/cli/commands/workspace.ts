import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  TASK_KINDS,
  Workspace,
  WorkspaceError,
  exportLabels,
  importLabelCsv,
  measurementExportRows,
  measurementsByCase,
  measurementsCsv,
  type ImportProgress,
  type TaskKind,
} from '../../store';
import { exportVersion } from '../../train/export-version';
import { CliError, EXIT } from '../cli-error';

/** `medtune workspace init|info`, `medtune import`, `medtune label`, `medtune export labels|adapter`. */
export function registerWorkspaceCommands(program: Command): void {
  const workspace = program.command('workspace').description('Create and inspect workspaces');
  workspace
    .command('init <dir>')
    .description('Create a new workspace in an empty or absent folder')
    .option('--name <name>', 'display name (default: the folder name)')
    .action((dir: string, opts: { name?: string }) => {
      const ws = withWorkspaceErrors(() => Workspace.create(dir, { name: opts.name }));
      process.stdout.write(`Created workspace ${ws.dir}\n`);
      ws.close();
    });
  workspace
    .command('info <dir>')
    .description('Print a workspace summary as JSON')
    .action((dir: string) =>
      withWorkspace(dir, (ws) => {
        const tasks = ws.tasks.list().map((t) => ({ id: t.id, name: t.name, kind: t.kind, labelled: ws.labels.counts(t.id).total }));
        const info = { ...ws.info(), split: ws.cases.splitCounts(), quarantined: ws.cases.quarantined(1_000_000).length, tasks };
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      }),
    );

  program
    .command('import <path...>')
    .description('Import DICOM files, photos, folders, zip archives and DICOMDIRs into a workspace')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .option('--reference', 'reference files in place instead of copying them into the workspace')
    .option('--quiet', 'no progress on stderr')
    .action(async (paths: string[], opts: { workspace: string; reference?: boolean; quiet?: boolean }) => {
      const ws = withWorkspaceErrors(() => Workspace.open(opts.workspace));
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        const report = await withWorkspaceErrorsAsync(() =>
          ws.import(paths, { reference: opts.reference, signal: abort.signal, onProgress: opts.quiet ? undefined : progressPrinter() }),
        );
        if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\n');
        const out = process.stdout;
        out.write(`imported ${report.imported}, duplicates ${report.duplicates}, skipped ${report.skipped}, failed ${report.failed} (of ${report.total} files)\n`);
        for (const f of report.failures) out.write(`  failed: ${f.file}: ${f.reason}\n`);
        if (report.cancelled) {
          out.write('import cancelled; run it again to finish\n');
          process.exitCode = EXIT.cancelled;
        } else if (report.failed > 0) {
          // Done, but some files were quarantined (listed above).
          process.exitCode = EXIT.partial;
        }
      } finally {
        process.removeListener('SIGINT', onSigint);
        ws.close();
      }
    });

  program
    .command('label')
    .description('Set labels in bulk from a CSV (columns: case_id | sop_instance_uid | file, and label)')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'label task name')
    .requiredOption('--csv <file>', 'CSV file with the labels')
    .option('--classes <list>', 'comma-separated class names: create the task when it does not exist', parseList)
    .option('--kind <kind>', `task kind when creating it (${TASK_KINDS.join(', ')})`, parseKind, 'multiclass')
    .option('--author <name>', 'who is recorded as the labeller', os.userInfo().username || 'cli')
    .action((opts: { workspace: string; task: string; csv: string; classes?: string[]; kind: TaskKind; author: string }) => {
      let csvText: string;
      try {
        csvText = fs.readFileSync(opts.csv, 'utf8');
      } catch (err) {
        throw new CliError(`${opts.csv}: cannot read (${(err as Error).message})`);
      }
      withWorkspace(opts.workspace, (ws) => {
        const r = importLabelCsv(ws, {
          task: opts.task,
          csvText,
          csvName: opts.csv,
          author: opts.author,
          classes: opts.classes,
          kind: opts.kind,
        });
        if (r.taskCreated) process.stdout.write(`created task '${opts.task}'\n`);
        process.stdout.write(`labelled ${r.labelled} case(s), ${r.unchanged} unchanged\n`);
      });
    });

  const exp = program.command('export').description('Export labels or adapter versions');
  exp
    .command('labels')
    .description('Export the labels of a task as CSV or JSON')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'label task name')
    .option('--format <format>', 'csv or json', parseFormat, 'csv')
    .option('-o, --out <file>', 'write to this file (default: stdout)')
    .option('--deidentify', 'drop patient identifiers and hash UIDs (DICOM PS3.15 Annex E basic profile)')
    .option('--history', 'every label event, not only the current labels')
    .option('--reads', 'a task read by several readers: every read with its reader, the case state and the consensus')
    .option('--measurements <file>', 'CSV: also write the measurements on the task\'s cases to this file (JSON carries them per case)')
    .action((opts: { workspace: string; task: string; format: 'csv' | 'json'; out?: string; deidentify?: boolean; history?: boolean; reads?: boolean; measurements?: string }) =>
      withWorkspaceAsync(opts.workspace, async (ws) => {
        const task = ws.tasks.byName(opts.task);
        if (!task) throw new CliError(`No label task named '${opts.task}' in ${ws.dir}`);
        if (opts.measurements && opts.format !== 'csv') throw new CliError('--measurements is for CSV exports; JSON exports carry the measurements per case', 2);
        const measured = opts.format === 'json' || opts.measurements ? await measurementExportRows(ws, { taskId: task.id, deidentify: opts.deidentify }) : [];
        const text = exportLabels(ws, {
          taskId: task.id,
          format: opts.format,
          deidentify: opts.deidentify,
          history: opts.history,
          reads: opts.reads,
          ...(opts.format === 'json' ? { measurements: measurementsByCase(measured) } : {}),
        });
        if (opts.out) {
          fs.writeFileSync(opts.out, text);
          process.stderr.write(`wrote ${path.resolve(opts.out)}\n`);
        } else process.stdout.write(text);
        if (opts.measurements) {
          fs.writeFileSync(opts.measurements, measurementsCsv(measured, opts.deidentify === true));
          process.stderr.write(`wrote ${measured.length} measurement(s) to ${path.resolve(opts.measurements)}\n`);
        }
      }),
    );
  exp
    .command('adapter')
    .description('Write the active (or a given) adapter version to <out>/medtune-<task>-v<id>/ (adapter_model.safetensors, adapter_config.json, medtune_version.json)')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .option('--task <name>', 'export the active version of this task')
    .option('--id <id>', 'adapter version id', parseId)
    .requiredOption('-o, --out <dir>', 'folder to write medtune-<task>-v<id>/ into (as `medtune train export`)')
    .action(async (opts: { workspace: string; task?: string; id?: number; out: string }) => {
      const ws = withWorkspaceErrors(() => Workspace.open(opts.workspace));
      try {
        let versionId = opts.id;
        if (versionId === undefined) {
          if (!opts.task) throw new CliError('give --id <id> or --task <name>', 2);
          const task = ws.tasks.byName(opts.task);
          if (!task) throw new CliError(`No label task named '${opts.task}' in ${ws.dir}`);
          const active = ws.versions.active(task.id);
          if (!active) throw new CliError(`Task '${opts.task}' has no adapter version yet`);
          versionId = active.id;
        }
        let result;
        try {
          result = await exportVersion(ws, versionId, opts.out);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        for (const f of result.files) process.stdout.write(`wrote ${path.join(result.dir, f.name)}\n`);
      } finally {
        ws.close();
      }
    });
}

/** Progress on stderr: one updating line on a terminal, a line every ~5 % otherwise. */
function progressPrinter(): (p: ImportProgress) => void {
  let lastPercent = -1;
  return (p) => {
    const percent = p.total ? Math.floor((100 * p.done) / p.total) : 100;
    if (process.stderr.isTTY) {
      const name = p.current.length > 60 ? `…${p.current.slice(-59)}` : p.current;
      process.stderr.write(`\r\x1b[2Kimport ${p.done}/${p.total} ${name}`);
    } else if (percent >= lastPercent + 5 || p.done === p.total) {
      lastPercent = percent;
      process.stderr.write(`import ${p.done}/${p.total} (${percent}%)\n`);
    }
  };
}

function withWorkspace(dir: string, fn: (ws: Workspace) => void): void {
  const ws = withWorkspaceErrors(() => Workspace.open(dir));
  try {
    withWorkspaceErrors(() => fn(ws));
  } finally {
    ws.close();
  }
}

async function withWorkspaceAsync(dir: string, fn: (ws: Workspace) => Promise<void>): Promise<void> {
  const ws = withWorkspaceErrors(() => Workspace.open(dir));
  try {
    await withWorkspaceErrorsAsync(() => fn(ws));
  } finally {
    ws.close();
  }
}

/** Expected workspace failures become CLI errors (exit 1 with the message). */
function withWorkspaceErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof WorkspaceError) throw new CliError(err.message);
    throw err;
  }
}

async function withWorkspaceErrorsAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkspaceError) throw new CliError(err.message);
    throw err;
  }
}

function parseList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError('expected comma-separated names');
  return list;
}

function parseKind(value: string): TaskKind {
  if (!(TASK_KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${TASK_KINDS.join(', ')}`);
  return value as TaskKind;
}

function parseFormat(value: string): 'csv' | 'json' {
  if (value !== 'csv' && value !== 'json') throw new InvalidArgumentError('expected csv or json');
  return value;
}

function parseId(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
