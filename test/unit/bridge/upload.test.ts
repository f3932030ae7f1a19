import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, type Handlers } from '../../../core/api/dispatch';
import { safeRelativeName } from '../../../core/bridge/upload';
import { startWebServer, type WebServer } from '../../../core/bridge/web-server';

let server: WebServer;
let uploads: string | null;
let staticDir: string;
let origin: string;

beforeAll(async () => {
  staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-static-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>MedTune</title>');
  uploads = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-ws-')), 'uploads');
  server = await startWebServer({ handlers: {} as Handlers, events: new EventBus(), staticDir, uploadDir: () => uploads, maxUploadBytes: 1000 });
  origin = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.close());

const post = (query: string, body: Uint8Array, headers: Record<string, string> = { origin }) =>
  fetch(`${origin}/upload?${query}`, { method: 'POST', body, headers });

describe('POST /upload', () => {
  it('writes a file into the batch folder when token and origin match', async () => {
    const res = await post(`token=${server.token}&batch=abcd1234&name=${encodeURIComponent('study/a b.dcm')}`, new Uint8Array([1, 2, 3]));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, bytes: 3 });
    expect([...fs.readFileSync(path.join(uploads!, 'abcd1234', 'study', 'a b.dcm'))]).toEqual([1, 2, 3]);
  });

  it('refuses a wrong token, another origin, a bad name, an oversized body, and no workspace, leaving nothing behind', async () => {
    const body = new Uint8Array(10);
    expect((await post(`token=nope&batch=abcd1234&name=x.dcm`, body)).status).toBe(403);
    expect((await post(`token=${server.token}&batch=abcd1234&name=x.dcm`, body, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(`token=${server.token}&batch=abcd1234&name=..%2F..%2Fx.dcm`, body)).status).toBe(400);
    expect((await post(`token=${server.token}&batch=..&name=x.dcm`, body)).status).toBe(400);
    const big = await post(`token=${server.token}&batch=abcd1234&name=big.dcm`, new Uint8Array(5000));
    expect(big.status).toBe(413);
    expect(fs.existsSync(path.join(uploads!, 'abcd1234', 'big.dcm'))).toBe(false);
    expect(fs.existsSync(path.join(uploads!, 'abcd1234', 'big.dcm.part'))).toBe(false);
    const saved = uploads;
    uploads = null;
    expect((await post(`token=${server.token}&batch=abcd1234&name=x.dcm`, body)).status).toBe(409);
    uploads = saved;
    // The server still answers.
    expect((await fetch(`${origin}/`)).status).toBe(200);
  });

  it('counts the bytes received when no Content-Length is sent (chunked) and stops at the limit', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, method: 'POST', path: `/upload?token=${server.token}&batch=abcd1234&name=chunked.dcm`, headers: { origin } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err)));
      for (let i = 0; i < 5; i++) req.write(Buffer.alloc(400, i));
      req.end();
    });
    expect(status).toBe(413);
    expect(fs.existsSync(path.join(uploads!, 'abcd1234', 'chunked.dcm'))).toBe(false);
    expect(fs.existsSync(path.join(uploads!, 'abcd1234', 'chunked.dcm.part'))).toBe(false);
  });

  it('accepts only relative names without "..", empty or control segments', () => {
    expect(safeRelativeName('a/b.dcm')).toBe(path.join('a', 'b.dcm'));
    for (const bad of ['/etc/passwd', '../x', 'a//b', 'a/./b', 'a\\..\\b', 'a\u0000b', '', null]) expect(safeRelativeName(bad)).toBeNull();
  });
});
