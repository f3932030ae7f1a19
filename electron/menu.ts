import type { Menu as ElectronMenu, MenuItemConstructorOptions } from 'electron';
import type { DesktopCommandT } from '../core/api/contract';

export interface MenuDeps {
  platform: NodeJS.Platform;
  /** Reload and the developer tools are for development builds only. */
  isPackaged: boolean;
  /** Hands a command to the renderer, whose stores carry it out (a dialog, a screen, an overlay). */
  send: (command: DesktopCommandT) => void;
  showAbout: () => void;
}

/**
 * The application menu. Accelerators always carry a modifier (or are function keys): the reading
 * screen owns the plain keys (classes, W/L presets, `d`, `?`), and a menu accelerator would take them
 * from the search box and the task editor too. There is no Undo item: Ctrl+Z undoes the case's label.
 */
export function menuTemplate(deps: MenuDeps): MenuItemConstructorOptions[] {
  const command = (label: string, name: DesktopCommandT, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    ...(accelerator ? { accelerator } : {}),
    click: () => deps.send(name),
  });
  const mac = deps.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [];
  if (mac) template.push({ role: 'appMenu' });
  template.push({
    label: '&File',
    submenu: [
      command('New workspace…', 'workspace-create', 'CmdOrCtrl+N'),
      command('Open workspace…', 'workspace-open', 'CmdOrCtrl+O'),
      { type: 'separator' },
      command('Import files…', 'import-files', 'CmdOrCtrl+I'),
      command('Import folder…', 'import-folder', 'CmdOrCtrl+Shift+O'),
      { type: 'separator' },
      command('Close workspace', 'workspace-close', 'CmdOrCtrl+Shift+W'),
      ...(mac ? [] : [{ type: 'separator' as const }, { role: 'quit' as const, label: 'Quit' }]),
    ],
  });
  // macOS text fields need an Edit menu for copy and paste; elsewhere the context keys work without one.
  if (mac) {
    template.push({ label: 'Edit', submenu: [{ role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] });
  }
  template.push({
    label: '&View',
    submenu: [
      command('Reading', 'view-reading', 'CmdOrCtrl+1'),
      command('Training', 'view-training', 'CmdOrCtrl+2'),
      command('Settings', 'view-settings', 'CmdOrCtrl+3'),
      { type: 'separator' },
      command('Toggle de-identified overlays (d)', 'toggle-deidentified'),
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(deps.isPackaged
        ? []
        : [{ type: 'separator' as const }, { role: 'reload' as const }, { role: 'forceReload' as const }, { role: 'toggleDevTools' as const }]),
    ],
  });
  template.push({
    label: '&Help',
    submenu: [command('Keyboard shortcuts (?)', 'show-shortcuts', 'F1'), { type: 'separator' }, { label: 'About MedTune', click: () => deps.showAbout() }],
  });
  return template;
}

export function installApplicationMenu(menu: Pick<typeof ElectronMenu, 'buildFromTemplate' | 'setApplicationMenu'>, deps: MenuDeps): void {
  menu.setApplicationMenu(menu.buildFromTemplate(menuTemplate(deps)));
}

/** The About box's text: what this build is, and the promise that matters most to a hospital. */
export function aboutDetail(versions: { app: string; electron?: string; chrome?: string; node: string }): string {
  return [
    `Version ${versions.app}`,
    `Electron ${versions.electron ?? '?'} · Chromium ${versions.chrome ?? '?'} · Node ${versions.node}`,
    '',
    'Labels medical images and fine-tunes small adapters on a frozen Vision Transformer.',
    'Everything stays on this computer: MedTune makes no network requests.',
  ].join('\n');
}
