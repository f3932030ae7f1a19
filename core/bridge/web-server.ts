import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { dispatch, type Handlers } from '../api/dispatch';
import type { EventBus } from '../api/dispatch';
import { decodeMessage, encodeMessage } from './codec';
import { BRIDGE_PATH, type ClientMessage, type ServerMessage } from './protocol';
import { serveStatic } from './static-files';

export interface WebServerOptions {
  handlers: Handlers;
  events: EventBus;
  /** Folder with the built renderer (index.html). */
  staticDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token for tests; a random one otherwise. */
  token?: string;
}

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function tokensMatch(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/**
 * Browser mode: serves the renderer and carries the contract over a WebSocket, bound to 127.0.0.1
 * only. A WebSocket must present the session token and come from this server's own origin, so
 * neither another local user's browser tab nor a DNS-rebound page can drive the workspace.
 */
export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? crypto.randomBytes(24).toString('hex');
  const server = http.createServer((req, res) => serveStatic(opts.staticDir, req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  let origin = '';

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const allowed =
      url.pathname === BRIDGE_PATH && tokensMatch(url.searchParams.get('token'), token) && req.headers.origin === origin;
    if (!allowed) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const send = (msg: ServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeMessage(msg));
    };
    const unsubscribe = opts.events.subscribe((event, payload) => send({ type: 'event', event, payload }));
    ws.on('close', unsubscribe);
    ws.on('message', async (data, isBinary) => {
      let msg: ClientMessage;
      try {
        if (!isBinary) throw new Error('text frame');
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        msg = decodeMessage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as ClientMessage;
      } catch {
        ws.close(1003, 'malformed message');
        return;
      }
      if (msg?.type !== 'invoke' || typeof msg.id !== 'number') {
        ws.close(1003, 'malformed message');
        return;
      }
      const result = await dispatch(opts.handlers, msg.channel, msg.request, { transport: 'websocket' });
      send({ type: 'result', id: msg.id, result });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
