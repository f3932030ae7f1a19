import os from 'node:os';
import { ApiFailure } from '../api/errors';
import { EventBus } from '../api/dispatch';
import type { ImportReportT, PathPurposeT, WorkspaceInfoT } from '../api/contract';
import { PIN_LOCKOUT, Workspace, type PinAttempt } from '../store';
import { ViewerImages } from './viewer-images';
import { LearningLoop } from './learning-loop';
import { TrainingHost } from './training-host';
import type { TrainerProcess } from '../train/worker-protocol';

/** Shows a native file dialog (Electron main process) and resolves to the chosen paths, none when cancelled. */
export type PathChooser = (purpose: PathPurposeT) => Promise<string[]>;

/** Progress events at most this often: a 10,000-file import must not flood the renderer. */
const PROGRESS_INTERVAL_MS = 100;

/**
 * The application state one window (or one browser-mode server) works on: the open workspace, the
 * event bus, the image decoder and the running import. Services hang off it; the transports only see handlers.
 */
export class AppSession {
  readonly events = new EventBus();
  readonly images = new ViewerImages();
  /** The operating-system account running MedTune: the default reader profile of every workspace. */
  readonly osUser: string;
  private reader: string;
  private workspace: Workspace | null = null;
  private importing: AbortController | null = null;

  /** The background trainer of the open workspace. */
  readonly training: TrainingHost;

  /** Labels → runs → scoring → suggestions, by itself (core/app/learning-loop.ts). */
  readonly loop: LearningLoop;

  private readonly pathChooser?: PathChooser;

  constructor(author?: string, options: { spawnTrainer?: () => TrainerProcess; choosePaths?: PathChooser } = {}) {
    this.osUser = author ?? currentUser();
    this.reader = this.osUser;
    this.training = new TrainingHost(this.events, options.spawnTrainer);
    this.loop = new LearningLoop(this);
    this.loop.start();
    this.pathChooser = options.choosePaths;
  }

  /** Native file dialogs exist only in the desktop app; browser mode types paths instead. */
  async choosePaths(purpose: PathPurposeT): Promise<string[]> {
    if (!this.pathChooser) {
      throw new ApiFailure('unsupported', 'File dialogs are only available in the desktop app. Type or paste the path instead.');
    }
    return this.pathChooser(purpose);
  }

  /** Who labels, reads, measures and comments now: the current reader profile (the OS user until another is chosen). */
  get author(): string {
    return this.reader;
  }

  /** Makes a profile of the open workspace the current reader, after checking its PIN (wrong PINs lock it for a while). */
  switchReader(name: string, pin: string | undefined): void {
    const ws = this.requireWorkspace();
    const profile = ws.readers.require(name);
    const attempt = ws.readers.attemptPin(profile.name, pin);
    if (!attempt.ok) throw new ApiFailure('forbidden', pinRefusal(profile.name, attempt));
    this.reader = profile.name;
  }

  get current(): Workspace | null {
    return this.workspace;
  }

  /** The open workspace, or an error value the UI turns into "open a workspace first". */
  requireWorkspace(): Workspace {
    if (!this.workspace) throw new ApiFailure('no-workspace', 'No workspace is open. Create or open one first.');
    return this.workspace;
  }

  /** The task a request names, or the workspace's first; an error value when there is none. */
  requireTask(taskId?: number): number {
    const ws = this.requireWorkspace();
    if (taskId !== undefined) return ws.tasks.get(taskId).id;
    const first = ws.tasks.list()[0];
    if (!first) throw new ApiFailure('not-found', 'This workspace has no label task yet. Define one in Settings first.');
    return first.id;
  }

  createWorkspace(dir: string, name?: string): WorkspaceInfoT {
    this.refuseWhileImporting();
    const ws = Workspace.create(dir, name ? { name } : undefined);
    return this.replace(ws);
  }

  openWorkspace(dir: string): WorkspaceInfoT {
    this.refuseWhileImporting();
    const ws = Workspace.open(dir);
    return this.replace(ws);
  }

  closeWorkspace(): void {
    this.refuseWhileImporting();
    void this.training.close();
    this.workspace?.close();
    this.workspace = null;
    this.reader = this.osUser;
    this.forgetWorkspaceState();
    this.events.emit('workspace.changed', null);
  }

  /** Imports paths into the open workspace, one import at a time, with throttled progress events. */
  async importPaths(paths: string[], reference: boolean): Promise<ImportReportT> {
    const ws = this.requireWorkspace();
    this.refuseWhileImporting();
    const controller = new AbortController();
    this.importing = controller;
    let lastEmit = 0;
    try {
      const report = await ws.import(paths, {
        reference,
        signal: controller.signal,
        onProgress: (p) => {
          const now = Date.now();
          if (p.done === p.total || now - lastEmit >= PROGRESS_INTERVAL_MS) {
            lastEmit = now;
            this.events.emit('import.progress', p);
          }
        },
      });
      const info = ws.info();
      this.events.emit('workspace.changed', info);
      return {
        total: report.total,
        imported: report.imported,
        duplicates: report.duplicates,
        skipped: report.skipped,
        failed: report.failed,
        quarantine: report.failures,
        skippedFiles: report.skippedFiles,
        cancelled: report.cancelled,
        caseCount: info.caseCount,
      };
    } finally {
      this.importing = null;
    }
  }

  /** Asks the running import to stop after the current file; false when none runs. */
  cancelImport(): boolean {
    if (!this.importing) return false;
    this.importing.abort();
    return true;
  }

  dispose(): void {
    this.importing?.abort();
    void this.training.close();
    this.workspace?.close();
    this.workspace = null;
    void this.images.close();
  }

  private refuseWhileImporting(): void {
    if (this.importing) throw new ApiFailure('busy', 'An import is running. Wait for it to finish or cancel it first.');
  }

  private forgetWorkspaceState(): void {
    this.images.reset();
  }

  private replace(ws: Workspace): WorkspaceInfoT {
    void this.training.close();
    this.workspace?.close();
    this.workspace = ws;
    // Profiles belong to the workspace: every workspace has the OS user's, and a new one starts with it.
    ws.readers.ensureDefault(this.osUser);
    this.reader = this.osUser;
    this.forgetWorkspaceState();
    this.training.open(ws);
    const info = ws.info();
    this.events.emit('workspace.changed', info);
    return info;
  }
}

function currentUser(): string {
  try {
    return os.userInfo().username || 'user';
  } catch {
    return 'user';
  }
}

/** "Wrong PIN for ann (2 more tries before a 30 s lockout)" / "Too many wrong PINs for ann: locked for 30 s more (until 14:03:12); …". */
function pinRefusal(name: string, attempt: Exclude<PinAttempt, { ok: true }>): string {
  if (attempt.reason === 'wrong') {
    const lock = `${PIN_LOCKOUT.firstLockSeconds} s`;
    return `Wrong PIN for ${name} (${attempt.attemptsLeft === 0 ? `the next wrong PIN locks it for ${lock}` : `${attempt.attemptsLeft} more ${attempt.attemptsLeft === 1 ? 'try' : 'tries'} before a ${lock} lockout`})`;
  }
  const until = new Date(attempt.lockedUntil).toLocaleTimeString();
  return `Too many wrong PINs for ${name}: locked for ${attempt.seconds} s more (until ${until}); an admin can end it with a new PIN (medtune readers pin)`;
}
