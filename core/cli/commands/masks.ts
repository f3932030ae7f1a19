import os from 'node:os';
import type { Command } from 'commander';
import { exportMaskBatch, importMaskBatch } from '../../segmentation/mask-batch';
import { MASK_FILE_FORMATS, MaskTransferError, type MaskExportFormat, type MaskFileFormat } from '../../segmentation/mask-transfer';
import { CliError } from '../cli-error';
import { findTask, markPartial, oneOf, openWorkspace } from '../common';

const EXPORT_FORMATS = MASK_FILE_FORMATS.filter((f): f is MaskExportFormat => f !== 'png-binary');

interface MaskOptions { workspace: string; task: string; format: MaskFileFormat; author?: string; json?: boolean }

/** `medtune masks import|export`: segmentation masks as PNG or DICOM-SEG files. */
export function registerMaskCommands(program: Command): void {
  const masks = program.command('masks').description('Import or export the segmentation masks of a task');
  masks
    .command('import <paths...>')
    .description('Import mask files or folders: PNGs matched to cases by file name, DICOM-SEG by the SOP Instance UIDs it references')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'segmentation task name or id')
    .requiredOption('--format <format>', MASK_FILE_FORMATS.join(', '), oneOf('format', MASK_FILE_FORMATS))
    .option('--author <name>', 'who the imported masks are stored under (default: the OS user)')
    .option('--json', 'print the report as JSON')
    .action(async (paths: string[], opts: MaskOptions) => {
      const ws = openWorkspace(opts.workspace);
      try {
        const task = findTask(ws, opts.task);
        const report = await orCliError(() => importMaskBatch(ws, opts.author ?? osUser(), task.id, opts.format, paths));
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          for (const m of report.matched) process.stdout.write(`imported  ${m.caseName}  ${m.foreground} px  ← ${m.files.join(', ')}\n`);
          for (const u of report.unmatched) process.stdout.write(`unmatched ${u.file}: ${u.reason}\n`);
          for (const r of report.refused) process.stdout.write(`refused   ${r.files.join(', ')}${r.caseName ? ` (${r.caseName})` : ''}: ${r.reason}\n`);
          process.stdout.write(`${report.matched.length} imported, ${report.unmatched.length} unmatched, ${report.refused.length} refused\n`);
        }
        // Nothing stored is a failure; some files left out is "partial" (exit 3), as for `medtune import`.
        if (report.matched.length === 0) throw new CliError('no mask was imported');
        if (report.unmatched.length + report.refused.length > 0) markPartial();
      } finally {
        ws.close();
      }
    });
  masks
    .command('export <dir>')
    .description('Write every current mask of a task into a folder')
    .requiredOption('-w, --workspace <dir>', 'the workspace folder')
    .requiredOption('--task <name>', 'segmentation task name or id')
    .requiredOption('--format <format>', EXPORT_FORMATS.join(', '), oneOf('format', EXPORT_FORMATS))
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, opts: Omit<MaskOptions, 'format'> & { format: MaskExportFormat }) => {
      const ws = openWorkspace(opts.workspace);
      try {
        const task = findTask(ws, opts.task);
        const report = await orCliError(() => exportMaskBatch(ws, task.id, opts.format, dir));
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          for (const w of report.written) process.stdout.write(`wrote   ${w.caseName} → ${w.files.join(', ')}\n`);
          for (const s of report.skipped) process.stdout.write(`skipped ${s.caseName}: ${s.reason}\n`);
          process.stdout.write(`${report.written.length} written, ${report.skipped.length} skipped\n`);
        }
        if (report.written.length === 0) throw new CliError(`no mask of task '${task.name}' was written`);
        if (report.skipped.length > 0) markPartial();
      } finally {
        ws.close();
      }
    });
}

/** Bad input (a missing folder, a task of another kind) is a plain failure, not a stack trace. */
async function orCliError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MaskTransferError) throw new CliError(err.message);
    throw err;
  }
}

function osUser(): string {
  try {
    return os.userInfo().username || 'user';
  } catch {
    return 'user';
  }
}
