import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_INDEX_URL,
  APP_SCHEME_PRIVILEGES,
  createAppProtocolHandler,
  isAppUrl,
  registerAppScheme,
  resolveAppFile,
  serveAppProtocol,
} from '../../../electron/app-protocol';
import { isAllowedRequest } from '../../../electron/security';

// A real folder laid out like dist/: renderer/ with the app's files, and a secret beside it that
// app:// must never reach.
let dist: string;
let renderer: string;
const JS = 'console.log("app");';

beforeAll(() => {
  dist = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-app-protocol-'));
  renderer = path.join(dist, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><div id="app"></div>');
  fs.writeFileSync(path.join(renderer, 'assets', 'index-abc.js'), JS);
  fs.writeFileSync(path.join(renderer, 'assets', 'index-abc.css'), 'body{}');
  fs.writeFileSync(path.join(renderer, 'favicon.svg'), '<svg/>');
  fs.writeFileSync(path.join(renderer, 'model.wasm'), Buffer.from([0, 97, 115, 109]));
  fs.writeFileSync(path.join(renderer, 'notes.xyz'), 'x');
  fs.writeFileSync(path.join(dist, 'secret.txt'), 'patient list');
  fs.mkdirSync(path.join(dist, 'renderer-evil'));
  fs.writeFileSync(path.join(dist, 'renderer-evil', 'index.html'), 'evil');
});

afterAll(() => fs.rmSync(dist, { recursive: true, force: true }));

describe('isAppUrl', () => {
  it('accepts the app origin, any path, query or fragment', () => {
    for (const url of [APP_INDEX_URL, 'app://medtune/', 'app://medtune/assets/index-abc.js', 'app://medtune/index.html?x=1#/training']) {
      expect(isAppUrl(url), url).toBe(true);
    }
  });

  it('refuses file: (local or a network share), other hosts, ports, user info and lookalikes', () => {
    for (const url of [
      'file:///opt/MedTune/resources/app/dist/renderer/index.html',
      'file://attacker-host/share/dist/renderer/index.html',
      'file://medtune/index.html',
      'app://other/index.html',
      'app://medtune.evil/index.html',
      'app://evil.medtune/index.html',
      'app://medtune:8080/index.html',
      'app://medtune@evil/index.html',
      'app://user:pw@medtune/index.html',
      'app:medtune/index.html',
      'apps://medtune/index.html',
      'https://medtune/index.html',
      'http://127.0.0.1/index.html',
      'devtools://devtools/bundled/inspector.html',
      'not a url',
      '',
    ]) {
      expect(isAppUrl(url), url).toBe(false);
    }
  });
});

describe('resolveAppFile', () => {
  it('maps app:// paths into the renderer folder, / to index.html', () => {
    expect(resolveAppFile(renderer, 'app://medtune/')).toBe(path.join(renderer, 'index.html'));
    expect(resolveAppFile(renderer, 'app://medtune/assets/index-abc.js?v=2#x')).toBe(path.join(renderer, 'assets', 'index-abc.js'));
    expect(resolveAppFile(renderer, 'app://medtune/assets/')).toBe(path.join(renderer, 'assets', 'index.html'));
  });

  it('refuses every way out of the folder and every foreign URL', () => {
    for (const url of [
      'app://medtune/../secret.txt',
      'app://medtune/%2e%2e/secret.txt',
      'app://medtune/..%2fsecret.txt',
      'app://medtune/assets/..%2f..%2fsecret.txt',
      'app://medtune/..%5csecret.txt',
      'app://medtune/assets%5c..%5c..%5csecret.txt',
      'app://medtune/..%2f..%2f..%2f..%2f..%2fetc/passwd',
      'app://medtune/%2e%2e%2frenderer-evil/index.html',
      'app://medtune/index.html%00.js',
      'app://medtune/%E0%A4%A',
      'app://other/index.html',
      'file:///etc/passwd',
    ]) {
      const file = resolveAppFile(renderer, url);
      if (file !== null) expect(path.relative(renderer, file).startsWith('..'), `${url} -> ${file}`).toBe(false);
      else expect(file, url).toBeNull();
    }
    // The encoded forms that survive URL parsing are refused outright, not merely kept inside.
    expect(resolveAppFile(renderer, 'app://medtune/..%2fsecret.txt')).toBeNull();
    expect(resolveAppFile(renderer, 'app://medtune/..%5csecret.txt')).toBeNull();
    expect(resolveAppFile(renderer, 'app://medtune/%2e%2e%2frenderer-evil/index.html')).toBeNull();
  });
});

describe('app:// handler', () => {
  const handler = () => createAppProtocolHandler(renderer);

  it('serves the renderer files with their MIME type, the CSP and nosniff', async () => {
    const cases: Array<[string, string]> = [
      ['app://medtune/index.html', 'text/html; charset=utf-8'],
      ['app://medtune/', 'text/html; charset=utf-8'],
      ['app://medtune/assets/index-abc.js', 'text/javascript; charset=utf-8'],
      ['app://medtune/assets/index-abc.css', 'text/css; charset=utf-8'],
      ['app://medtune/favicon.svg', 'image/svg+xml'],
      ['app://medtune/model.wasm', 'application/wasm'],
      ['app://medtune/notes.xyz', 'application/octet-stream'],
    ];
    for (const [url, type] of cases) {
      const response = await handler()(new Request(url));
      expect(response.status, url).toBe(200);
      expect(response.headers.get('content-type'), url).toBe(type);
      expect(response.headers.get('content-security-policy'), url).toContain("script-src 'self'");
      expect(response.headers.get('x-content-type-options'), url).toBe('nosniff');
    }
    expect(await (await handler()(new Request('app://medtune/assets/index-abc.js'))).text()).toBe(JS);
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await handler()(new Request('app://medtune/index.html', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await handler()(new Request('app://medtune/index.html', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
  });

  it('answers 404 for missing files, folders and anything outside the renderer folder', async () => {
    for (const url of [
      'app://medtune/missing.js',
      'app://medtune/assets',
      'app://medtune/..%2fsecret.txt',
      'app://medtune/%2e%2e/secret.txt',
      'app://medtune/assets/..%2f..%2fsecret.txt',
      'app://medtune/..%5csecret.txt',
      'app://medtune/%E0%A4%A',
      'app://other/index.html',
    ]) {
      const response = await handler()(new Request(url));
      expect(response.status, url).toBe(404);
      expect(await response.text(), url).not.toContain('patient list');
    }
  });

  it('registers the scheme as privileged and installs the handler for app:', async () => {
    const registered: unknown[] = [];
    registerAppScheme({ registerSchemesAsPrivileged: (schemes) => registered.push(...schemes) });
    expect(registered).toEqual([APP_SCHEME_PRIVILEGES]);
    expect(APP_SCHEME_PRIVILEGES.privileges).toMatchObject({ standard: true, secure: true });
    let installed: { scheme: string; fn: (r: Request) => Response | Promise<Response> } | undefined;
    serveAppProtocol({ handle: (scheme, fn) => (installed = { scheme, fn }) }, renderer);
    expect(installed?.scheme).toBe('app');
    expect((await installed!.fn(new Request(APP_INDEX_URL))).status).toBe(200);
  });
});

describe('request filter', () => {
  it('lets through only the app origin, devtools and data:', () => {
    for (const url of ['app://medtune/assets/index-abc.js', 'devtools://devtools/bundled/inspector.html', 'data:image/png;base64,AAAA']) {
      expect(isAllowedRequest(url), url).toBe(true);
    }
    for (const url of [
      'file:///opt/MedTune/resources/app/dist/renderer/index.html',
      'file://attacker-host/share/x.js',
      'app://other/x.js',
      'https://example.com/model.bin',
      'http://127.0.0.1:8080/',
      'ws://127.0.0.1:8080/',
      'blob:https://example.com/uuid',
      'chrome://gpu',
    ]) {
      expect(isAllowedRequest(url), url).toBe(false);
    }
  });
});
