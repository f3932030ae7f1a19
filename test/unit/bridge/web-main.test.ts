import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage } from '../../../core/bridge/codec';
import { BRIDGE_PATH, type ServerMessage } from '../../../core/bridge/protocol';
import { MAX_MESSAGE_BYTES } from '../../../core/bridge/web-server';
import { DB_FILE } from '../../../core/store';
import { startBrowserMode, type RunningApp } from '../../helpers/browser-mode';
import { REPO_ROOT } from '../../helpers/paths';

// The real browser-mode process (core/bridge/web-main.ts with the real handlers), attacked over raw
// sockets: whatever a local process sends, the server must keep serving everyone else.

let tmp: string;
let rendererDir: string;
let home: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-web-main-'));
  rendererDir = path.join(tmp, 'renderer');
  home = path.join(tmp, 'home');
  fs.mkdirSync(rendererDir);
  fs.mkdirSync(home);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>MedTune</title>');
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const start = () => startBrowserMode({ MEDTUNE_RENDERER_DIR: rendererDir, HOME: home, MEDTUNE_PORT: '0' });

/** Sends `request` verbatim and returns everything the server answers until it closes the socket. */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? NaN);
const get = (app: RunningApp, target: string, headers = '') =>
  rawHttp(app.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\n${headers}Connection: close\r\n\r\n`);

/** A client frame (clients must mask), optionally declaring a longer payload than it carries. */
function clientFrame(opcode: number, payload: Buffer, declaredLength = payload.length): Buffer {
  const mask = crypto.randomBytes(4);
  let header: Buffer;
  if (declaredLength < 126) header = Buffer.from([0x80 | opcode, 0x80 | declaredLength]);
  else if (declaredLength < 65536) {
    header = Buffer.from([0x80 | opcode, 0x80 | 126, 0, 0]);
    header.writeUInt16BE(declaredLength, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(declaredLength), 2);
  }
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([header, mask, masked]);
}

/**
 * Opens an authenticated WebSocket by hand over node:net, sends `frame`, and resolves with the
 * close code of the close frame the server answers with (null if it just dropped the socket).
 */
function sendRawFrame(app: RunningApp, frame: Buffer): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(app.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let upgraded = false;
    socket.on('connect', () =>
      socket.write(
        `GET ${BRIDGE_PATH}?token=${app.token} HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          `Origin: http://127.0.0.1:${app.port}\r\n\r\n`,
      ),
    );
    const closeCode = () => (received.length >= 4 && received[0] === 0x88 ? received.readUInt16BE(2) : null);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (upgraded) {
        // Hang up on the server's close frame rather than answer it (ws would wait 30 s for our reply).
        if (closeCode() !== null) socket.destroy();
        return;
      }
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head}`));
      upgraded = true;
      received = received.subarray(end + 4);
      socket.write(frame);
    });
    socket.on('error', () => socket.destroy()); // the server may reset while we still write
    socket.on('close', () => {
      if (!upgraded) return reject(new Error('closed before the upgrade'));
      resolve(closeCode()); // server frames are unmasked: [0x88][length][code u16]…
    });
  });
}

function connect(app: RunningApp): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.port}${BRIDGE_PATH}?token=${app.token}`, { origin: `http://127.0.0.1:${app.port}` });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function invoke(ws: WebSocket, id: number, channel: string, request: unknown): Promise<ServerMessage> {
  const answer = new Promise<ServerMessage>((resolve) => {
    const onMessage = (data: Buffer) => {
      const msg = decodeMessage(new Uint8Array(data)) as ServerMessage;
      if (msg.type === 'result' && msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
  });
  ws.send(encodeMessage({ type: 'invoke', id, channel, request }));
  return answer;
}

/** The server still answers HTTP and a fresh authenticated WebSocket invoke. */
async function expectStillServes(app: RunningApp): Promise<void> {
  expect(app.process.exitCode, app.output()).toBeNull();
  const index = await get(app, '/');
  expect(statusOf(index)).toBe(200);
  expect(index).toContain('<title>MedTune</title>');
  const ws = await connect(app);
  try {
    expect(await invoke(ws, 1, 'app.info', {})).toMatchObject({ result: { ok: true, value: { transport: 'websocket' } } });
  } finally {
    ws.close();
  }
}

describe('browser-mode server under attack', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await start();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers bad URL encodings and NUL bytes with 400, and keeps serving', async () => {
    for (const target of ['/%00', '/index.html%00.png', '/%E0%A4%A', '/%', '/%zz']) {
      expect(statusOf(await get(app, target)), target).toBe(400);
      await expectStillServes(app);
    }
  });

  it('still refuses paths outside the renderer folder, however they are spelled', async () => {
    for (const target of ['/../../etc/passwd', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd', '//[', '/..\\..\\etc\\passwd']) {
      const answer = await get(app, target);
      expect(statusOf(answer), target).toBe(404);
      expect(answer).not.toContain('root:');
    }
    await expectStillServes(app);
  });

  it('answers malformed HTTP with 400 on that socket only', async () => {
    expect(statusOf(await rawHttp(app.port, 'HELLO\r\n\r\n'))).toBe(400);
    expect(statusOf(await rawHttp(app.port, `GET http://evil.example/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))).toBe(400);
    expect(statusOf(await rawHttp(app.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`))).toBe(431);
    // A client that resets its connection mid-request.
    await new Promise<void>((resolve) => {
      const socket = net.connect(app.port, '127.0.0.1', () => {
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
        socket.resetAndDestroy();
        resolve();
      });
    });
    await expectStillServes(app);
  });

  it('refuses upgrades with unparseable URLs', async () => {
    const upgrade = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`;
    for (const target of ['//[', `${BRIDGE_PATH}?token=%E0%A4%A`, `/%00${BRIDGE_PATH}`]) {
      const answer = await rawHttp(app.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nOrigin: http://127.0.0.1:${app.port}\r\n${upgrade}\r\n`);
      expect(statusOf(answer), target).toBe(403);
    }
    await expectStillServes(app);
  });

  it('closes only the offending connection on a WebSocket protocol error', async () => {
    const other = await connect(app); // a bystander that must stay connected
    expect(await sendRawFrame(app, clientFrame(0x3, Buffer.from('x')))).toBe(1002); // reserved opcode
    expect(await sendRawFrame(app, clientFrame(0x2, Buffer.alloc(0), MAX_MESSAGE_BYTES + 1))).toBe(1009); // too big
    expect(await sendRawFrame(app, clientFrame(0x1, Buffer.from('{"type":"invoke"}')))).toBe(1003); // text frame
    expect(await sendRawFrame(app, clientFrame(0x2, Buffer.from([1, 2, 3])))).toBe(1003); // not a bridge message
    const placeholder = encodeMessage({ type: 'invoke', id: 1, channel: 'app.info', request: { $typed: 'constructor', $i: 0, $n: 1 } });
    expect(await sendRawFrame(app, clientFrame(0x2, Buffer.from(placeholder)))).toBe(1003);
    expect(other.readyState).toBe(WebSocket.OPEN);
    expect(await invoke(other, 2, 'app.info', {})).toMatchObject({ result: { ok: true } });
    other.close();
    await expectStillServes(app);
  });

  it('survives a real oversized message sent by a WebSocket client', async () => {
    const ws = await connect(app);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => {}); // the server resets; that is the point
    ws.send(Buffer.alloc(MAX_MESSAGE_BYTES + 1024));
    expect(await closed).toBe(1009);
    await expectStillServes(app);
  });
});

describe('browser-mode workspace paths', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await start();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('expands ~ to the home folder and refuses relative paths, never using the server’s working directory', async () => {
    const ws = await connect(app);
    try {
      const created = await invoke(ws, 1, 'workspace.create', { dir: '~/medtune/test' });
      expect(created).toMatchObject({ result: { ok: true, value: { dir: path.join(home, 'medtune', 'test') } } });
      expect(fs.existsSync(path.join(home, 'medtune', 'test', DB_FILE))).toBe(true);
      expect(await invoke(ws, 2, 'workspace.open', { dir: '~/medtune/test' })).toMatchObject({ result: { ok: true } });

      for (const [id, channel] of [
        [3, 'workspace.create'],
        [4, 'workspace.open'],
      ] as const) {
        const refused = await invoke(ws, id, channel, { dir: 'medtune/relative' });
        expect(refused).toMatchObject({ result: { ok: false, error: { code: 'invalid' } } });
        expect(JSON.stringify(refused)).toContain('\\"medtune/relative\\" is a relative path');
      }
    } finally {
      ws.close();
    }
    expect(fs.existsSync(path.join(REPO_ROOT, '~'))).toBe(false);
    expect(fs.existsSync(path.join(REPO_ROOT, 'medtune'))).toBe(false);
  });
});

describe('stopping browser mode', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`${signal} closes the server cleanly, even with open connections`, async () => {
      const app = await start();
      const ws = await connect(app);
      ws.on('error', () => {});
      const keepAlive = net.connect(app.port, '127.0.0.1'); // an idle HTTP connection must not hold the process
      keepAlive.on('error', () => {});
      await new Promise((resolve) => keepAlive.once('connect', resolve));
      expect(await app.stop(signal)).toBe(0);
      expect(app.output()).toContain(`stopped (${signal})`);
      const refused = await new Promise<string>((resolve) => {
        const probe = net.connect(app.port, '127.0.0.1', () => resolve('connected'));
        probe.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
      keepAlive.destroy();
    });
  }
});
