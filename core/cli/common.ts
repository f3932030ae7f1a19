/** Option parsers and workspace helpers shared by the CLI's commands. */
import { InvalidArgumentError } from 'commander';
import { Workspace, WorkspaceError, type LabelTask } from '../store';
import { CliError, EXIT } from './cli-error';

export const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

export const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

export const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

export const oneOf =
  <T extends string>(name: string, values: readonly T[]) =>
  (v: string) => {
    if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
    return v as T;
  };

export function findTask(ws: Workspace, name: string): LabelTask {
  const task = ws.tasks.byName(name) ?? (/^\d+$/.test(name) ? ws.tasks.list().find((t) => t.id === Number(name)) : undefined);
  if (!task) {
    const known = ws.tasks.list().map((t) => t.name);
    throw new CliError(`no label task "${name}" in ${ws.dir}${known.length ? ` (tasks: ${known.join(', ')})` : ' (create one with `medtune label --classes …`)'}`);
  }
  return task;
}

export function findBackbone(ws: Workspace, name?: string): number {
  const all = ws.versions.backbones();
  if (all.length === 0) throw new CliError(`no backbone in ${ws.dir}: add one with \`medtune backbone add <file.safetensors> -w ${ws.dir}\``);
  if (!name) return all[all.length - 1].id;
  const hit = all.find((b) => b.name === name || String(b.id) === name);
  if (!hit) throw new CliError(`no backbone "${name}" (backbones: ${all.map((b) => b.name).join(', ')})`);
  return hit.id;
}

/** Opens a workspace; a missing or unreadable one is a plain failure, not a stack trace. */
export function openWorkspace(dir: string): Workspace {
  try {
    return Workspace.open(dir);
  } catch (err) {
    if (err instanceof WorkspaceError) throw new CliError(err.message);
    throw err;
  }
}

/** Runs `fn` with the workspace open, closing it whatever happens; workspace errors become plain failures. */
export function withWorkspace<T>(dir: string, fn: (ws: Workspace) => T): T {
  const ws = openWorkspace(dir);
  try {
    return fn(ws);
  } catch (err) {
    if (err instanceof WorkspaceError) throw new CliError(err.message);
    throw err;
  } finally {
    ws.close();
  }
}

/** Runs `fn` with the workspace open and Ctrl-C turned into an abort signal. */
export async function withCancellableWorkspace<T>(dir: string, fn: (ws: Workspace, signal: AbortSignal) => Promise<T>): Promise<T> {
  const ws = openWorkspace(dir);
  const abort = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ncancelling…\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await fn(ws, abort.signal);
  } catch (err) {
    if (err instanceof WorkspaceError) throw new CliError(err.message);
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
    ws.close();
  }
}

/** Leaves with "done, some items failed" unless a worse code is already set. */
export function markPartial(): void {
  if (typeof process.exitCode !== 'number' || process.exitCode === EXIT.ok) process.exitCode = EXIT.partial;
}
