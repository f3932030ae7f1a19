import os from 'node:os';
import type { Handlers } from '../api/dispatch';
import { APP_NAME, APP_VERSION } from '../app-info';
import type { AppSession } from './session';

/** Every contract channel mapped to the core service that does the work. */
export function createHandlers(session: AppSession): Handlers {
  return {
    'app.info': (_req, ctx) => ({
      name: APP_NAME,
      version: APP_VERSION,
      transport: ctx.transport,
      platform: `${os.platform()}-${os.arch()}`,
      node: process.versions.node,
    }),
    'workspace.create': (req) => session.createWorkspace(req.dir, req.name),
    'workspace.open': (req) => session.openWorkspace(req.dir),
    'workspace.current': () => session.current?.info() ?? null,
    'workspace.close': () => {
      session.closeWorkspace();
      return null;
    },
    'cases.list': (req) => session.requireWorkspace().listCases(req),
  };
}
