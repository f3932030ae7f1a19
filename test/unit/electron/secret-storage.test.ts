import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dispatch } from '../../../core/api/dispatch';
import type { RequestOf, ResponseOf } from '../../../core/api/contract';
import type { ChannelName } from '../../../core/api/names';
import { createHandlers } from '../../../core/app/handlers';
import { AppSession } from '../../../core/app/session';
import { keychainProtector, keychainUnavailable, registerKeychain, type Keychain } from '../../../electron/secret-storage';

const PASSWORD = 'pw-Üñ-7f3a-never-in-clear';
const TOKEN = 'eyJ.bearer-token-9c1d.never-in-clear';

/**
 * Electron's safeStorage is not installed here; this stands in for it with real AES-GCM under a key
 * that lives in this process only, as the OS keychain's key lives outside the workspace.
 */
function fakeSafeStorage(opts: { available?: boolean; backend?: ReturnType<Keychain['getSelectedStorageBackend']> } = {}): Keychain {
  const key = crypto.randomBytes(32);
  return {
    isEncryptionAvailable: () => opts.available ?? true,
    getSelectedStorageBackend: () => opts.backend ?? 'gnome_libsecret',
    encryptString: (plain) => {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptString: (b) => {
      const d = crypto.createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
      d.setAuthTag(b.subarray(12, 28));
      return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

/** Every byte under a folder, so a secret anywhere in a workspace (database, WAL, backups, exports) is found. */
function bytesUnder(dir: string): Buffer {
  const out: Buffer[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(fs.readFileSync(path.join(e.parentPath, e.name)));
  }
  return Buffer.concat(out);
}

describe('which desktops may keep typed secrets', () => {
  it('refuses without encryption, and on Linux without a keyring (Electron would use a fixed key)', () => {
    expect(keychainUnavailable(fakeSafeStorage({ available: false }), 'darwin')).toMatch(/not available/);
    expect(keychainUnavailable(fakeSafeStorage({ backend: 'basic_text' }), 'linux')).toMatch(/no keyring .*basic_text/);
    expect(keychainUnavailable(fakeSafeStorage({ backend: 'unknown' }), 'linux')).toMatch(/unknown/);
    expect(keychainUnavailable(fakeSafeStorage({ backend: 'kwallet5' }), 'linux')).toBeUndefined();
    expect(keychainUnavailable(fakeSafeStorage({ backend: 'basic_text' }), 'win32')).toBeUndefined();
    expect(registerKeychain(fakeSafeStorage({ backend: 'basic_text' }), 'linux')).toEqual({ registered: false, reason: expect.stringMatching(/no keyring/) });
  });

  it('names the problem, not the ciphertext, when the keychain cannot decrypt', () => {
    const stored = keychainProtector(fakeSafeStorage()).protect(PASSWORD);
    const other = keychainProtector(fakeSafeStorage());
    expect(() => other.unprotect(stored)).toThrow(/keychain cannot decrypt .* add the connection again/);
    try {
      other.unprotect(stored);
    } catch (err) {
      expect((err as Error).message).not.toContain(stored);
    }
  });
});

describe('typed PACS secrets in the desktop app (safeStorage protector)', () => {
  let tmp: string;
  let session: AppSession;
  let server: http.Server;
  let url: string;
  const authorizations: string[] = [];
  const logged: string[] = [];
  let handlers: ReturnType<typeof createHandlers>;

  const call = async <C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
    const r = await dispatch(handlers, channel, request, { transport: 'electron' });
    if (!r.ok) throw new Error(`${channel}: ${r.error.code}: ${r.error.message}`);
    return r.value as ResponseOf<C>;
  };

  beforeAll(async () => {
    // A DICOMweb endpoint that records what credentials reach it (a real HTTP server on loopback).
    server = http.createServer((req, res) => {
      authorizations.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/dicom-web`;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-keychain-'));
    session = new AppSession('reader');
    handlers = createHandlers(session);
    for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void logged.push(a.map(String).join(' ')));
    for (const s of [process.stdout, process.stderr]) {
      const write = s.write.bind(s);
      vi.spyOn(s, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
        logged.push(String(chunk));
        return write(chunk, ...rest);
      }) as typeof s.write);
    }
  });
  afterAll(() => {
    vi.restoreAllMocks();
    session?.dispose();
    server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('keeps a typed password and token only as ciphertext, sends them to the PACS, and never shows or logs them', async () => {
    expect(registerKeychain(fakeSafeStorage(), 'linux')).toEqual({ registered: true });
    const ws = path.join(tmp, 'ws');
    await call('workspace.create', { dir: ws });

    const basic = await call('pacs.add', { name: 'basic', dicomweb: { url, user: 'reader', password: PASSWORD } });
    const bearer = await call('pacs.add', { name: 'bearer', dicomweb: { url, token: TOKEN } });
    expect(basic.dicomweb).toMatchObject({ auth: 'basic', user: 'reader', secret: 'kept by os-keychain' });
    expect(bearer.dicomweb).toMatchObject({ auth: 'bearer', secret: 'kept by os-keychain' });
    expect(bearer.description).toContain('bearer token protected by os-keychain');

    await call('pacs.echo', { connection: 'basic' });
    await call('pacs.echo', { connection: 'bearer' });
    expect(authorizations).toEqual([`Basic ${Buffer.from(`reader:${PASSWORD}`).toString('base64')}`, `Bearer ${TOKEN}`]);

    // An export of the labels and a failing request too: nothing the workspace or the process writes holds either secret.
    const task = await call('tasks.create', { name: 'grade', kind: 'multiclass', classes: [{ name: 'a' }, { name: 'b' }] });
    const exportDir = path.join(tmp, 'export');
    fs.mkdirSync(exportDir);
    const exported = await call('labels.export', { taskId: task.id, dir: exportDir, format: 'csv' });
    server.close();
    await expect(call('pacs.query', { connection: 'bearer', query: {} })).rejects.toThrow(/unreachable/);
    const everything = Buffer.concat([bytesUnder(ws), bytesUnder(exportDir), Buffer.from(JSON.stringify([await call('pacs.list', {}), exported])), Buffer.from(logged.join('\n'))]);
    for (const secret of [PASSWORD, TOKEN, Buffer.from(`reader:${PASSWORD}`).toString('base64')]) expect(everything.includes(Buffer.from(secret))).toBe(false);
  });
});
