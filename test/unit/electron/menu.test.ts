import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { aboutDetail, installApplicationMenu, menuTemplate, type MenuDeps } from '../../../electron/menu';
import { DesktopCommand } from '../../../core/api/contract';

function deps(over: Partial<MenuDeps> = {}): MenuDeps & { send: ReturnType<typeof vi.fn>; showAbout: ReturnType<typeof vi.fn> } {
  return { platform: 'linux', isPackaged: true, send: vi.fn(), showAbout: vi.fn(), ...over } as never;
}
const items = (menu: MenuItemConstructorOptions) => menu.submenu as MenuItemConstructorOptions[];
const find = (template: MenuItemConstructorOptions[], label: string) => template.find((m) => m.label === label)!;
const allItems = (template: MenuItemConstructorOptions[]) => template.flatMap((m) => (Array.isArray(m.submenu) ? m.submenu : []));

describe('application menu', () => {
  it('has File, View and Help with the workspace, import, screen and help items', () => {
    const template = menuTemplate(deps());
    expect(template.map((m) => m.label)).toEqual(['&File', '&View', '&Help']);
    expect(items(find(template, '&File')).filter((i) => i.label).map((i) => i.label)).toEqual([
      'New workspace…',
      'Open workspace…',
      'Import files…',
      'Import folder…',
      'Close workspace',
      'Quit',
    ]);
    expect(items(find(template, '&File')).find((i) => i.label === 'Quit')?.role).toBe('quit');
    expect(items(find(template, '&View')).filter((i) => i.label).map((i) => i.label)).toEqual([
      'Reading',
      'Training',
      'Settings',
      'Toggle de-identified overlays (d)',
    ]);
    expect(items(find(template, '&Help')).filter((i) => i.label).map((i) => i.label)).toEqual(['Keyboard shortcuts (?)', 'About MedTune']);
  });

  it('sends each command item to the renderer, with a valid contract command', () => {
    const d = deps();
    const template = menuTemplate(d);
    const clickable = allItems(template).filter((i) => i.click && i.label !== 'About MedTune');
    for (const item of clickable) (item.click as () => void)();
    const sent = d.send.mock.calls.map((c) => c[0]);
    expect(sent).toEqual([
      'workspace-create',
      'workspace-open',
      'import-files',
      'import-folder',
      'workspace-close',
      'view-reading',
      'view-training',
      'view-settings',
      'toggle-deidentified',
      'show-shortcuts',
    ]);
    for (const command of sent) expect(DesktopCommand.safeParse(command).success).toBe(true);
    (items(find(template, '&Help')).find((i) => i.label === 'About MedTune')!.click as () => void)();
    expect(d.showAbout).toHaveBeenCalledTimes(1);
  });

  it('offers reload and developer tools only in development builds', () => {
    const roles = (isPackaged: boolean) => allItems(menuTemplate(deps({ isPackaged }))).map((i) => i.role).filter(Boolean);
    expect(roles(true)).not.toContain('toggleDevTools');
    expect(roles(true)).not.toContain('reload');
    expect(roles(false)).toEqual(expect.arrayContaining(['reload', 'forceReload', 'toggleDevTools']));
  });

  it('never takes a plain key from the reading screen: every accelerator has a modifier or is a function key', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      for (const item of allItems(menuTemplate(deps({ platform, isPackaged: false })))) {
        if (item.accelerator) expect(String(item.accelerator)).toMatch(/^(CmdOrCtrl\+|F\d+$)/);
      }
    }
  });

  it('on macOS adds the app menu and an Edit menu without Undo (Ctrl+Z belongs to the label undo)', () => {
    const template = menuTemplate(deps({ platform: 'darwin' }));
    expect(template[0].role).toBe('appMenu');
    const edit = items(find(template, 'Edit')).map((i) => i.role);
    expect(edit).toEqual(['cut', 'copy', 'paste', 'selectAll']);
    expect(items(find(template, '&File')).some((i) => i.role === 'quit')).toBe(false);
  });

  it('builds and installs the menu, and the About text names the versions', () => {
    const menu = { buildFromTemplate: vi.fn(() => 'built' as never), setApplicationMenu: vi.fn() };
    installApplicationMenu(menu, deps());
    expect(menu.setApplicationMenu).toHaveBeenCalledWith('built');
    expect(aboutDetail({ app: '0.1.0', electron: '38.8.6', chrome: '140', node: '22' })).toMatch(/Version 0\.1\.0.*Electron 38\.8\.6/s);
  });
});
