import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHandlers } from '../app/handlers';
import { AppSession } from '../app/session';
import { startWebServer } from './web-server';

/** `npm run web`: MedTune in a browser, served on 127.0.0.1 with a random token. */
async function run(): Promise<void> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const staticDir = path.join(root, 'dist', 'renderer');
  if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
    console.error(`medtune: the renderer is not built (${staticDir}); run "npm run build:renderer" first.`);
    process.exit(1);
  }
  const port = process.env.MEDTUNE_PORT ? Number(process.env.MEDTUNE_PORT) : 0;
  const session = new AppSession();
  const server = await startWebServer({ handlers: createHandlers(session), events: session.events, staticDir, port });
  console.log(`MedTune (browser mode) is running. Open this address in a browser on this computer:\n${server.url}`);
  const stop = async () => {
    await server.close();
    session.dispose();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await run();
