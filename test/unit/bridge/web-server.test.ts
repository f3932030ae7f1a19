import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventBus, type Handlers } from '../../../core/api/dispatch';
import { decodeMessage, encodeMessage } from '../../../core/bridge/codec';
import { BRIDGE_PATH, type ServerMessage } from '../../../core/bridge/protocol';
import { startWebServer, type WebServer } from '../../../core/bridge/web-server';

const info = { dir: '/tmp/w', name: 'w', schemaVersion: 1, caseCount: 0, createdAt: '2026-01-01T00:00:00Z' };
// Only the channels this transport test calls; the rest of the contract is covered elsewhere.
const handlers = {
  'app.info': (_r, ctx) => ({ name: 'MedTune', version: '0', transport: ctx.transport, platform: 'x', node: '20' }),
  'workspace.create': () => info,
  'workspace.open': () => info,
  'workspace.current': () => null,
  'workspace.close': () => null,
  'cases.list': () => ({ total: 0, items: [] }),
} as Partial<Handlers> as Handlers;

let server: WebServer;
const events = new EventBus();
let staticDir: string;

function connect(query: string, origin: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${BRIDGE_PATH}${query}`, origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function nextMessage(ws: WebSocket): Promise<ServerMessage> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(decodeMessage(new Uint8Array(data as Buffer)) as ServerMessage)));
}

beforeAll(async () => {
  staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-static-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>MedTune</title>');
  server = await startWebServer({ handlers, events, staticDir });
});

afterAll(async () => {
  await server.close();
  fs.rmSync(staticDir, { recursive: true, force: true });
});

describe('browser-mode server', () => {
  it('listens on 127.0.0.1 with a long random token in the printed URL', () => {
    const url = new URL(server.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.searchParams.get('token')).toBe(server.token);
    expect(server.token).toMatch(/^[0-9a-f]{48}$/);
  });

  it('serves the renderer with a CSP and refuses paths outside it', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await res.text()).toContain('MedTune');
    const escape = await fetch(`http://127.0.0.1:${server.port}/..%2f..%2fetc%2fpasswd`);
    expect(escape.status).toBe(404);
  });

  it('refuses WebSocket connections without the token, with a wrong token, or from another origin', async () => {
    const origin = `http://127.0.0.1:${server.port}`;
    await expect(connect('', origin)).rejects.toThrow(/403/);
    await expect(connect('?token=deadbeef', origin)).rejects.toThrow(/403/);
    await expect(connect(`?token=${server.token}`, 'http://evil.example')).rejects.toThrow(/403/);
    await expect(connect(`?token=${server.token}`, undefined)).rejects.toThrow(/403/);
  });

  it('carries contract calls and events for a client with the token', async () => {
    const ws = await connect(`?token=${server.token}`, `http://127.0.0.1:${server.port}`);
    ws.send(encodeMessage({ type: 'invoke', id: 7, channel: 'app.info', request: {} }));
    expect(await nextMessage(ws)).toMatchObject({ type: 'result', id: 7, result: { ok: true, value: { transport: 'websocket' } } });
    ws.send(encodeMessage({ type: 'invoke', id: 8, channel: 'no.such', request: {} }));
    expect(await nextMessage(ws)).toMatchObject({ id: 8, result: { ok: false, error: { code: 'unknown-channel' } } });
    const evt = nextMessage(ws);
    events.emit('workspace.changed', info);
    expect(await evt).toEqual({ type: 'event', event: 'workspace.changed', payload: info });
    ws.close();
  });
});
