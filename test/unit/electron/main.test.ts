import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CHANNEL_NAMES } from '../../../core/api/names';

type Listener = (...args: unknown[]) => void;

const state = vi.hoisted(() => ({
  lock: true,
  windows: [] as Array<{
    options: Record<string, unknown>;
    contentsListeners: Record<string, Listener>;
    openHandler?: (d: { url: string }) => unknown;
    loaded?: string;
    send: ReturnType<typeof vi.fn>;
  }>,
  handlers: new Map<string, (...args: unknown[]) => unknown>(),
  appListeners: {} as Record<string, Listener>,
  headersHook: undefined as undefined | ((details: unknown, cb: (r: unknown) => void) => void),
  requestHook: undefined as undefined | ((details: unknown, cb: (r: unknown) => void) => void),
  permissionHook: undefined as undefined | ((wc: unknown, p: string, cb: (ok: boolean) => void) => void),
  quit: 0,
  isPackaged: false,
  /** Order of protocol registration and readiness: privileged schemes must come before 'ready'. */
  timeline: [] as string[],
  privilegedSchemes: undefined as undefined | Array<{ scheme: string; privileges: Record<string, boolean> }>,
  protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
  openExternal: vi.fn(),
  menuTemplate: undefined as undefined | Array<Record<string, unknown>>,
  appMenu: undefined as unknown,
  openDialog: vi.fn(),
  saveDialog: vi.fn(),
  messageBox: vi.fn(),
}));

vi.mock('electron', () => {
  class BrowserWindow {
    webContents: Record<string, unknown>;
    constructor(options: Record<string, unknown>) {
      const entry = {
        options,
        contentsListeners: {} as Record<string, Listener>,
        openHandler: undefined as never,
        loaded: undefined as string | undefined,
        send: vi.fn(),
      };
      state.windows.push(entry);
      this.webContents = {
        on: (name: string, fn: Listener) => (entry.contentsListeners[name] = fn),
        setWindowOpenHandler: (fn: never) => (entry.openHandler = fn),
        send: entry.send,
        isDestroyed: () => false,
      };
      (this as unknown as { _entry: typeof entry })._entry = entry;
    }
    once() {}
    on() {}
    show() {}
    loadURL(url: string) {
      (this as unknown as { _entry: { loaded?: string } })._entry.loaded = url;
      return Promise.resolve();
    }
  }
  return {
    app: {
      requestSingleInstanceLock: () => state.lock,
      quit: () => state.quit++,
      on: (name: string, fn: Listener) => (state.appListeners[name] = fn),
      whenReady: () => {
        state.timeline.push('whenReady');
        return Promise.resolve().then(() => state.timeline.push('ready'));
      },
      get isPackaged() {
        return state.isPackaged;
      },
    },
    Menu: {
      buildFromTemplate: (template: Array<Record<string, unknown>>) => {
        state.menuTemplate = template;
        return { built: template };
      },
      setApplicationMenu: (menu: unknown) => (state.appMenu = menu),
    },
    dialog: {
      showOpenDialog: (...args: unknown[]) => state.openDialog(...args),
      showSaveDialog: (...args: unknown[]) => state.saveDialog(...args),
      showMessageBox: (...args: unknown[]) => state.messageBox(...args),
    },
    BrowserWindow,
    protocol: {
      registerSchemesAsPrivileged: (schemes: never) => {
        state.timeline.push('registerSchemesAsPrivileged');
        state.privilegedSchemes = schemes;
      },
      handle: (scheme: string, fn: (request: Request) => Promise<Response>) => {
        state.timeline.push(`handle:${scheme}`);
        state.protocolHandlers.set(scheme, fn);
      },
    },
    ipcMain: { handle: (name: string, fn: (...args: unknown[]) => unknown) => state.handlers.set(name, fn) },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (fn: never) => (state.permissionHook = fn),
        webRequest: {
          onHeadersReceived: (fn: never) => (state.headersHook = fn),
          onBeforeRequest: (fn: never) => (state.requestHook = fn),
        },
      },
    },
    shell: { openExternal: (...args: unknown[]) => state.openExternal(...args) },
    // Reversible, not secret: this file checks the wiring; test/unit/electron/secret-storage.test.ts the protector.
    safeStorage: {
      isEncryptionAvailable: () => {
        state.timeline.push('keychain');
        return true;
      },
      getSelectedStorageBackend: () => 'gnome_libsecret',
      encryptString: (plain: string) => Buffer.from(plain, 'utf8').reverse(),
      decryptString: (enc: Buffer) => Buffer.from(enc).reverse().toString('utf8'),
    },
  };
});

async function loadMain() {
  vi.resetModules();
  state.windows.length = 0;
  state.handlers.clear();
  state.quit = 0;
  state.menuTemplate = undefined;
  state.appMenu = undefined;
  state.timeline.length = 0;
  state.privilegedSchemes = undefined;
  state.protocolHandlers.clear();
  state.openExternal.mockReset();
  await import('../../../electron/main');
  await new Promise((r) => setTimeout(r, 0));
}

describe('electron/main', () => {
  beforeEach(() => {
    state.lock = true;
  });

  it('opens one window with context isolation, sandbox, no node integration and the bundled preload', async () => {
    await loadMain();
    expect(state.windows).toHaveLength(1);
    const prefs = state.windows[0].options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(path.basename(String(prefs.preload))).toBe('preload.cjs');
    // The renderer comes from the app:// origin, never from file://.
    expect(state.windows[0].loaded).toBe('app://medtune/index.html');
  });

  it('registers app:// as a privileged standard secure scheme before ready, and serves it only after', async () => {
    await loadMain();
    expect(state.privilegedSchemes).toEqual([
      { scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) },
    ]);
    const order = state.timeline;
    expect(order.indexOf('registerSchemesAsPrivileged')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('registerSchemesAsPrivileged')).toBeLessThan(order.indexOf('ready'));
    expect(order.indexOf('handle:app')).toBeGreaterThan(order.indexOf('ready'));
  });

  it('registers the safeStorage protector for typed PACS secrets once the app is ready', async () => {
    await loadMain();
    expect(state.timeline.indexOf('keychain')).toBeGreaterThan(state.timeline.indexOf('ready'));
    const { protectSecret, resolveSecret } = await import('../../../core/pacs/secrets');
    const { KEYCHAIN_PROTECTOR_ID } = await import('../../../core/app/pacs-handlers');
    const ref = protectSecret(KEYCHAIN_PROTECTOR_ID, 'pacs-password');
    expect(JSON.stringify(ref)).not.toContain('pacs-password');
    expect(resolveSecret(ref)).toBe('pacs-password');
  });

    it('serves the renderer folder beside dist/electron through app:// and nothing outside it', async () => {
    await loadMain();
    const handler = state.protocolHandlers.get('app')!;
    // Under vitest main.ts sits in electron/, so its renderer folder is the repository's renderer/ sources.
    const index = await handler(new Request('app://medtune/index.html'));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await index.text()).toContain('<div id="app"></div>');
    expect((await handler(new Request('app://medtune/%2e%2e/package.json'))).status).toBe(404);
    expect((await handler(new Request('app://medtune/..%2fpackage.json'))).status).toBe(404);
  });

  it('registers an IPC handler for every contract channel and nothing else', async () => {
    await loadMain();
    expect([...state.handlers.keys()].sort()).toEqual(CHANNEL_NAMES.map((c) => `medtune:${c}`).sort());
  });

  it('answers contract calls from the app page and refuses other frames', async () => {
    await loadMain();
    const appInfo = state.handlers.get('medtune:app.info')!;
    const trusted = { senderFrame: { url: String(state.windows[0].loaded) } };
    await expect(appInfo(trusted, {})).resolves.toMatchObject({ ok: true, value: { transport: 'electron', name: 'MedTune' } });
    for (const url of [
      'https://example.com/',
      'file:///opt/MedTune/resources/app/dist/renderer/index.html',
      'file://attacker-host/share/index.html',
      'app://other/index.html',
      'app://medtune.evil/index.html',
    ]) {
      await expect(appInfo({ senderFrame: { url } }, {})).resolves.toMatchObject({ ok: false, error: { code: 'unsupported' } });
    }
    const list = state.handlers.get('medtune:cases.list')!;
    await expect(list(trusted, {})).resolves.toMatchObject({ ok: false, error: { code: 'no-workspace' } });
  });

  it('blocks navigation, new windows, permissions and remote requests, and sets the CSP', async () => {
    await loadMain();
    const win = state.windows[0];
    const prevent = vi.fn();
    win.contentsListeners['will-navigate']({ preventDefault: prevent }, 'https://example.com/');
    expect(prevent).toHaveBeenCalledTimes(1);
    win.contentsListeners['will-navigate']({ preventDefault: prevent }, 'file://attacker-host/share/evil.html');
    expect(prevent).toHaveBeenCalledTimes(2);
    win.contentsListeners['will-navigate']({ preventDefault: prevent }, 'app://medtune/index.html#/training');
    expect(prevent).toHaveBeenCalledTimes(2);
    // window.open goes through the external-link allow-list, which holds nothing: nothing opens.
    expect(win.openHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(win.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(state.openExternal).not.toHaveBeenCalled();

    const permission = vi.fn();
    state.permissionHook!({}, 'media', permission);
    expect(permission).toHaveBeenCalledWith(false);

    const requestResult = vi.fn();
    state.requestHook!({ url: 'https://example.com/model.bin' }, requestResult);
    expect(requestResult).toHaveBeenCalledWith({ cancel: true });
    state.requestHook!({ url: 'app://medtune/assets/index.js' }, requestResult);
    expect(requestResult).toHaveBeenLastCalledWith({ cancel: false });
    state.requestHook!({ url: 'file:///app/index.html' }, requestResult);
    expect(requestResult).toHaveBeenLastCalledWith({ cancel: true });
    state.requestHook!({ url: 'file://attacker-host/share/x.js' }, requestResult);
    expect(requestResult).toHaveBeenLastCalledWith({ cancel: true });

    const headers = vi.fn();
    state.headersHook!({ responseHeaders: {} }, headers);
    const csp = (headers.mock.calls[0][0] as { responseHeaders: Record<string, string[]> }).responseHeaders['Content-Security-Policy'][0];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
  });

  it('installs the application menu; its commands reach the window as desktop.command events', async () => {
    await loadMain();
    expect(state.appMenu).toEqual({ built: state.menuTemplate });
    const labels = state.menuTemplate!.map((m) => m.label);
    expect(labels).toEqual(expect.arrayContaining(['&File', '&View', '&Help']));
    const file = state.menuTemplate!.find((m) => m.label === '&File')!.submenu as Array<{ label?: string; click?: () => void }>;
    file.find((i) => i.label === 'Open workspace…')!.click!();
    // The session's event bus is forwarded to the window like import progress.
    expect(state.windows[0].send.mock.calls).toContainEqual(['medtune-event:desktop.command', { command: 'workspace-open' }]);
  });

  it('shows native dialogs for desktop.choosePaths and answers with the chosen paths', async () => {
    await loadMain();
    const choose = state.handlers.get('medtune:desktop.choosePaths')!;
    const trusted = { senderFrame: { url: String(state.windows[0].loaded) } };
    state.openDialog.mockResolvedValueOnce({ canceled: false, filePaths: ['/data/ws'] });
    await expect(choose(trusted, { purpose: 'workspace-open' })).resolves.toEqual({ ok: true, value: { paths: ['/data/ws'] } });
    expect(state.openDialog.mock.calls[0][1]).toMatchObject({ properties: ['openDirectory'] });
    state.saveDialog.mockResolvedValueOnce({ canceled: true, filePath: '' });
    await expect(choose(trusted, { purpose: 'workspace-create' })).resolves.toEqual({ ok: true, value: { paths: [] } });
    await expect(choose(trusted, { purpose: 'format-disk' })).resolves.toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('quits without a window when another instance holds the lock', async () => {
    state.lock = false;
    await loadMain();
    expect(state.quit).toBe(1);
    expect(state.windows).toHaveLength(0);
    expect(state.handlers.size).toBe(0);
  });
});
