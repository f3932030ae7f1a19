import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, safeStorage, session as electronSession, shell } from 'electron';
import { APP_NAME, APP_VERSION } from '../core/app-info';
import { createHandlers } from '../core/app/handlers';
import { AppSession } from '../core/app/session';
import { choosePaths } from './dialogs';
import { forwardEvents, registerIpcHandlers } from './ipc';
import { aboutDetail, installApplicationMenu } from './menu';
import { utilityProcessTrainer } from './trainer-process';
import { APP_INDEX_URL, isAppUrl, registerAppScheme, serveAppProtocol } from './app-protocol';
import { openExternalLink } from './external-links';
import { ELECTRON_CSP, isAllowedRequest, secureWebPreferences } from './security';
import { registerKeychain } from './secret-storage';

// Built by scripts/build-electron.mjs into dist/electron/; the renderer into dist/renderer/, served as app://medtune/.
const rendererDir = path.join(path.resolve(__dirname, '..'), 'renderer');

let mainWindow: BrowserWindow | null = null;
// The trainer runs in an Electron utility process, never in the main process. Native dialogs open over the window.
const appSession = new AppSession(undefined, {
  spawnTrainer: utilityProcessTrainer,
  choosePaths: (purpose) => choosePaths(dialog, mainWindow, purpose),
});

function showAbout(): void {
  const options = {
    type: 'info' as const,
    title: `About ${APP_NAME}`,
    message: APP_NAME,
    detail: aboutDetail({ app: APP_VERSION, electron: process.versions.electron, chrome: process.versions.chrome, node: process.versions.node }),
    buttons: ['OK'],
  };
  void (mainWindow ? dialog.showMessageBox(mainWindow, options) : dialog.showMessageBox(options));
}

export function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#101418',
    title: 'MedTune',
    webPreferences: secureWebPreferences(path.join(__dirname, 'preload.cjs')),
  });
  // No remote content: navigation stays on app://medtune; new windows are refused, and only
  // allow-listed https links go to the OS browser.
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    openExternalLink(shell, url);
    return { action: 'deny' };
  });
  win.once('ready-to-show', () => win.show());
  const stopEvents = forwardEvents(appSession.events, win.webContents);
  win.on('closed', () => {
    stopEvents();
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_INDEX_URL);
  return win;
}

function hardenSession(): void {
  const ses = electronSession.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [ELECTRON_CSP] } });
  });
  // Nothing leaves the workstation and no file: URL is read: only app://medtune, devtools and data: pass.
  ses.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url) });
  });
}

export function bootstrap(): void {
  // Privileged schemes can only be registered before 'ready'.
  registerAppScheme(protocol);
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  app.on('window-all-closed', () => {
    appSession.dispose();
    app.quit();
  });
  void app.whenReady().then(() => {
    serveAppProtocol(protocol, rendererDir);
    hardenSession();
    // Typed PACS passwords and tokens are kept as safeStorage ciphertext (only after 'ready'); without a
    // keyring the panel asks for an environment variable instead.
    registerKeychain(safeStorage);
    // Menu commands travel like every other event: the session's bus, forwarded to the window.
    installApplicationMenu(Menu, {
      platform: process.platform,
      isPackaged: app.isPackaged,
      send: (command) => appSession.events.emit('desktop.command', { command }),
      showAbout,
    });
    registerIpcHandlers(ipcMain, createHandlers(appSession), (event) => isAppUrl(event.senderFrame?.url ?? ''));
    mainWindow = createMainWindow();
  });
}

bootstrap();
