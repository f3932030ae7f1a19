import { ApiFailure } from '../api/errors';
import { EventBus } from '../api/dispatch';
import type { WorkspaceInfoT } from '../api/contract';
import { Workspace } from '../store';

/**
 * The application state one window (or one browser-mode server) works on: the open workspace and
 * the event bus. Services hang off it; the transports only see handlers.
 */
export class AppSession {
  readonly events = new EventBus();
  private workspace: Workspace | null = null;

  get current(): Workspace | null {
    return this.workspace;
  }

  /** The open workspace, or an error value the UI turns into "open a workspace first". */
  requireWorkspace(): Workspace {
    if (!this.workspace) throw new ApiFailure('no-workspace', 'No workspace is open. Create or open one first.');
    return this.workspace;
  }

  createWorkspace(dir: string, name?: string): WorkspaceInfoT {
    const ws = Workspace.create(dir, name ? { name } : undefined);
    return this.replace(ws);
  }

  openWorkspace(dir: string): WorkspaceInfoT {
    const ws = Workspace.open(dir);
    return this.replace(ws);
  }

  closeWorkspace(): void {
    this.workspace?.close();
    this.workspace = null;
    this.events.emit('workspace.changed', null);
  }

  dispose(): void {
    this.workspace?.close();
    this.workspace = null;
  }

  private replace(ws: Workspace): WorkspaceInfoT {
    this.workspace?.close();
    this.workspace = ws;
    const info = ws.info();
    this.events.emit('workspace.changed', info);
    return info;
  }
}
