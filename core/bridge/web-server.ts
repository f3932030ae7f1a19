import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { dispatch, toApiError, type Handlers } from '../api/dispatch';
import type { EventBus } from '../api/dispatch';
import { decodeMessage, encodeMessage } from './codec';
import { BRIDGE_PATH, type ClientMessage, type ServerMessage } from './protocol';
import { serveStatic } from './static-files';
import { handleUpload, MAX_UPLOAD_BYTES, UPLOAD_PATH } from './upload';

export interface WebServerOptions {
  handlers: Handlers;
  events: EventBus;
  /** Folder with the built renderer (index.html). */
  staticDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token for tests; a random one otherwise. */
  token?: string;
  /** Where POST /upload writes files (the open workspace's uploads folder); null refuses uploads (no workspace). */
  uploadDir?: () => string | null;
  /** Largest uploaded file (default MAX_UPLOAD_BYTES). */
  maxUploadBytes?: number;
}

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** Largest WebSocket message a client may send; a bigger one closes that connection (1009). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function tokensMatch(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Answers `status` and closes the socket without waiting for the client to close its side. */
function refuse(socket: Duplex, status: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
}

/** The path and token of an upgrade request's URL; null when the URL does not parse. */
function bridgeRequest(requestUrl: string | undefined): { pathname: string; token: string | null } | null {
  try {
    const url = new URL(requestUrl ?? '/', 'http://127.0.0.1');
    return { pathname: url.pathname, token: url.searchParams.get('token') };
  } catch {
    return null; // e.g. "//[": new URL throws ERR_INVALID_URL
  }
}

/**
 * Browser mode: serves the renderer and carries the contract over a WebSocket, bound to 127.0.0.1
 * only. A WebSocket must present the session token and come from this server's own origin, so
 * neither another local user's browser tab nor a DNS-rebound page can drive the workspace.
 *
 * No request may stop the server: every socket, connection and handler has its errors caught, and
 * a protocol error (bad frame, oversized message, malformed bridge message) closes only the
 * connection that sent it.
 */
export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? crypto.randomBytes(24).toString('hex');
  const server = http.createServer((req, res) => {
    const target = bridgeRequest(req.url);
    if (target?.pathname === UPLOAD_PATH) {
      // Token and origin checked exactly as for the WebSocket: no other page or local user may write files.
      const allowed = tokensMatch(target.token, token) && req.headers.origin === origin;
      handleUpload(req, res, { allowed, dir: opts.uploadDir?.() ?? null, maxBytes: opts.maxUploadBytes ?? MAX_UPLOAD_BYTES });
      return;
    }
    try {
      serveStatic(opts.staticDir, req, res);
    } catch (err) {
      console.error('[medtune] static request failed:', err);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    }
  });
  // Unparseable HTTP (bad request line, oversized headers): answer on that socket only, as Node would.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    refuse(socket, err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request');
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  let origin = '';

  server.on('upgrade', (req, socket, head) => {
    // Node takes its own error listener off an upgraded socket; a reset before ws adopts it must not throw.
    socket.on('error', () => socket.destroy());
    const target = bridgeRequest(req.url);
    const allowed =
      target !== null && target.pathname === BRIDGE_PATH && tokensMatch(target.token, token) && req.headers.origin === origin;
    if (!allowed) {
      refuse(socket, '403 Forbidden');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const send = (msg: ServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      try {
        ws.send(encodeMessage(msg));
      } catch (err) {
        console.error('[medtune] cannot send a bridge message:', err);
      }
    };
    // ws has already closed the connection (1002 bad frame, 1009 too big) when it reports the error.
    ws.on('error', (err) => console.warn(`[medtune] WebSocket client error: ${err.message}`));
    const unsubscribe = opts.events.subscribe((event, payload) => send({ type: 'event', event, payload }));
    ws.on('close', unsubscribe);
    ws.on('message', (data, isBinary) => {
      const msg = isBinary ? readInvoke(data) : null;
      if (!msg) {
        ws.close(1003, 'malformed message');
        return;
      }
      dispatch(opts.handlers, msg.channel, msg.request, { transport: 'websocket' })
        .catch((err: unknown) => ({ ok: false as const, error: toApiError(err) }))
        .then((result) => send({ type: 'result', id: msg.id, result }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => console.error('[medtune] browser-mode server error:', err));
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
        server.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
      }),
  };
}

/** A well-formed invoke message, or null for anything else. */
function readInvoke(data: RawData): ClientMessage | null {
  try {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const msg = decodeMessage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as Partial<ClientMessage> | null;
    if (!msg || typeof msg !== 'object' || msg.type !== 'invoke' || typeof msg.id !== 'number' || typeof msg.channel !== 'string') {
      return null;
    }
    return msg as ClientMessage;
  } catch {
    return null;
  }
}
