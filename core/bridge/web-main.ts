import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHandlers } from '../app/handlers';
import { AppSession } from '../app/session';
import { UPLOADS_DIR } from '../app/work-handlers';
import { startWebServer } from './web-server';

/** Signals that end browser mode: Ctrl-C, `kill <pid>`, and the terminal going away. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** How long a clean stop may take before the process exits anyway. */
const STOP_GRACE_MS = 5000;

/**
 * `npm run web`: MedTune in a browser, served on 127.0.0.1 with a random token. This process is the
 * server (the npm script execs it), so a signal to it stops the server and nothing is left listening.
 * MEDTUNE_RENDERER_DIR serves another build of the renderer (tests use a stand-in page).
 */
async function run(): Promise<void> {
  // A closed terminal or a dead npm parent makes writes fail with EPIPE; a log line must not stop the server.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const staticDir = process.env.MEDTUNE_RENDERER_DIR ? path.resolve(process.env.MEDTUNE_RENDERER_DIR) : path.join(root, 'dist', 'renderer');
  if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
    console.error(`medtune: the renderer is not built (${staticDir}); run "npm run build:renderer" first.`);
    process.exit(1);
  }
  const port = process.env.MEDTUNE_PORT ? Number(process.env.MEDTUNE_PORT) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`medtune: MEDTUNE_PORT must be a port number (0-65535), not "${process.env.MEDTUNE_PORT}".`);
    process.exit(2);
  }
  const session = new AppSession();
  const uploadDir = () => (session.current ? path.join(session.current.dir, UPLOADS_DIR) : null);
  const server = await startWebServer({ handlers: createHandlers(session), events: session.events, staticDir, port, uploadDir });
  console.log(`MedTune (browser mode) is running. Open this address in a browser on this computer:\n${server.url}`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // A second signal or a hung close must not keep the process alive.
    setTimeout(() => process.exit(1), STOP_GRACE_MS).unref();
    void server
      .close()
      .catch((err: unknown) => console.error('medtune: closing the server failed:', err))
      .finally(() => {
        session.dispose();
        console.log(`MedTune (browser mode) stopped (${signal}).`);
        process.exit(0);
      });
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => stop(signal));
}

await run();
