import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CHANNEL_NAMES } from '../../../core/api/names';

type Listener = (...args: unknown[]) => void;

const state = vi.hoisted(() => ({
  lock: true,
  windows: [] as Array<{ options: Record<string, unknown>; contentsListeners: Record<string, Listener>; openHandler?: (d: { url: string }) => unknown; loaded?: string }>,
  handlers: new Map<string, (...args: unknown[]) => unknown>(),
  appListeners: {} as Record<string, Listener>,
  headersHook: undefined as undefined | ((details: unknown, cb: (r: unknown) => void) => void),
  requestHook: undefined as undefined | ((details: unknown, cb: (r: unknown) => void) => void),
  permissionHook: undefined as undefined | ((wc: unknown, p: string, cb: (ok: boolean) => void) => void),
  quit: 0,
}));

vi.mock('electron', () => {
  class BrowserWindow {
    webContents: Record<string, unknown>;
    constructor(options: Record<string, unknown>) {
      const entry = { options, contentsListeners: {} as Record<string, Listener>, openHandler: undefined as never, loaded: undefined as string | undefined };
      state.windows.push(entry);
      this.webContents = {
        on: (name: string, fn: Listener) => (entry.contentsListeners[name] = fn),
        setWindowOpenHandler: (fn: never) => (entry.openHandler = fn),
        send: vi.fn(),
        isDestroyed: () => false,
      };
      (this as unknown as { _entry: typeof entry })._entry = entry;
    }
    once() {}
    on() {}
    show() {}
    loadFile(file: string) {
      (this as unknown as { _entry: { loaded?: string } })._entry.loaded = file;
      return Promise.resolve();
    }
  }
  return {
    app: {
      requestSingleInstanceLock: () => state.lock,
      quit: () => state.quit++,
      on: (name: string, fn: Listener) => (state.appListeners[name] = fn),
      whenReady: () => Promise.resolve(),
    },
    BrowserWindow,
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
    shell: { openExternal: vi.fn() },
  };
});

async function loadMain() {
  vi.resetModules();
  state.windows.length = 0;
  state.handlers.clear();
  state.quit = 0;
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
    expect(path.basename(String(state.windows[0].loaded))).toBe('index.html');
  });

  it('registers an IPC handler for every contract channel and nothing else', async () => {
    await loadMain();
    expect([...state.handlers.keys()].sort()).toEqual(CHANNEL_NAMES.map((c) => `medtune:${c}`).sort());
  });

  it('answers contract calls from the app page and refuses other frames', async () => {
    await loadMain();
    const appInfo = state.handlers.get('medtune:app.info')!;
    const loaded = String(state.windows[0].loaded);
    const trusted = { senderFrame: { url: `file://${loaded}` } };
    await expect(appInfo(trusted, {})).resolves.toMatchObject({ ok: true, value: { transport: 'electron', name: 'MedTune' } });
    await expect(appInfo({ senderFrame: { url: 'https://example.com/' } }, {})).resolves.toMatchObject({ ok: false });
    const list = state.handlers.get('medtune:cases.list')!;
    await expect(list(trusted, {})).resolves.toMatchObject({ ok: false, error: { code: 'no-workspace' } });
  });

  it('blocks navigation, new windows, permissions and remote requests, and sets the CSP', async () => {
    await loadMain();
    const win = state.windows[0];
    const prevent = vi.fn();
    win.contentsListeners['will-navigate']({ preventDefault: prevent }, 'https://example.com/');
    expect(prevent).toHaveBeenCalled();
    expect(win.openHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });

    const permission = vi.fn();
    state.permissionHook!({}, 'media', permission);
    expect(permission).toHaveBeenCalledWith(false);

    const requestResult = vi.fn();
    state.requestHook!({ url: 'https://example.com/model.bin' }, requestResult);
    expect(requestResult).toHaveBeenCalledWith({ cancel: true });
    state.requestHook!({ url: 'file:///app/index.html' }, requestResult);
    expect(requestResult).toHaveBeenLastCalledWith({ cancel: false });

    const headers = vi.fn();
    state.headersHook!({ responseHeaders: {} }, headers);
    const csp = (headers.mock.calls[0][0] as { responseHeaders: Record<string, string[]> }).responseHeaders['Content-Security-Policy'][0];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
  });

  it('quits without a window when another instance holds the lock', async () => {
    state.lock = false;
    await loadMain();
    expect(state.quit).toBe(1);
    expect(state.windows).toHaveLength(0);
    expect(state.handlers.size).toBe(0);
  });
});
