import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, session as electronSession, shell } from 'electron';
import { APP_NAME, APP_VERSION } from '../core/app-info';
import { createHandlers } from '../core/app/handlers';
import { AppSession } from '../core/app/session';
import { choosePaths } from './dialogs';
import { forwardEvents, registerIpcHandlers } from './ipc';
import { aboutDetail, installApplicationMenu } from './menu';
import { utilityProcessTrainer } from './trainer-process';
import { ELECTRON_CSP, isAppUrl, secureWebPreferences } from './security';

// Built by scripts/build-electron.mjs into dist/electron/; the renderer into dist/renderer/.
const distDir = path.resolve(__dirname, '..');
const rendererIndex = path.join(distDir, 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;

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
  // No remote content: block navigation and new windows; open external links in the OS browser only if https.
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, rendererUrl)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.once('ready-to-show', () => win.show());
  const stopEvents = forwardEvents(appSession.events, win.webContents);
  win.on('closed', () => {
    stopEvents();
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadFile(rendererIndex);
  return win;
}

function hardenSession(): void {
  const ses = electronSession.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [ELECTRON_CSP] } });
  });
  // Nothing leaves the workstation: refuse every request that is not the app's own files or devtools.
  ses.webRequest.onBeforeRequest((details, callback) => {
    const allowed = details.url.startsWith('file://') || details.url.startsWith('devtools://') || details.url.startsWith('data:');
    callback({ cancel: !allowed });
  });
}

export function bootstrap(): void {
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
    hardenSession();
    // Menu commands travel like every other event: the session's bus, forwarded to the window.
    installApplicationMenu(Menu, {
      platform: process.platform,
      isPackaged: app.isPackaged,
      send: (command) => appSession.events.emit('desktop.command', { command }),
      showAbout,
    });
    registerIpcHandlers(ipcMain, createHandlers(appSession), (event) => isAppUrl(event.senderFrame?.url ?? '', rendererUrl));
    mainWindow = createMainWindow();
  });
}

bootstrap();
