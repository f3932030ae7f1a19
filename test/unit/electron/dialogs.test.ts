import { describe, expect, it, vi } from 'vitest';
import type { BaseWindow } from 'electron';
import { choosePaths } from '../../../electron/dialogs';

function fakeDialog(open: { canceled: boolean; filePaths: string[] }, save: { canceled: boolean; filePath: string }) {
  return { showOpenDialog: vi.fn(async () => open), showSaveDialog: vi.fn(async () => save) };
}
const win = { id: 1 } as unknown as BaseWindow;

describe('native path dialogs', () => {
  it('names a new workspace folder in a save dialog over the window', async () => {
    const d = fakeDialog({ canceled: false, filePaths: [] }, { canceled: false, filePath: '/home/ann/retina' });
    expect(await choosePaths(d, win, 'workspace-create')).toEqual(['/home/ann/retina']);
    expect(d.showSaveDialog).toHaveBeenCalledWith(win, expect.objectContaining({ title: 'New workspace' }));
    expect(d.showOpenDialog).not.toHaveBeenCalled();
  });

  it('picks one folder to open, several files or folders to import', async () => {
    const d = fakeDialog({ canceled: false, filePaths: ['/a', '/b'] }, { canceled: false, filePath: '' });
    expect(await choosePaths(d, win, 'import-files')).toEqual(['/a', '/b']);
    await choosePaths(d, win, 'import-folder');
    await choosePaths(d, null, 'workspace-open');
    const calls = d.showOpenDialog.mock.calls as unknown[][];
    expect(calls[0][1]).toMatchObject({ properties: ['openFile', 'multiSelections'] });
    // DICOM files often have no extension: "All files" must be the first (default) filter.
    expect((calls[0][1] as { filters: { name: string }[] }).filters[0].name).toBe('All files');
    expect(calls[1][1]).toMatchObject({ properties: ['openDirectory', 'multiSelections'] });
    expect(calls[2]).toEqual([expect.objectContaining({ properties: ['openDirectory'] })]);
  });

  it('picks (or creates) one folder to export a version into', async () => {
    const d = fakeDialog({ canceled: false, filePaths: ['/home/ann/exports'] }, { canceled: false, filePath: '' });
    expect(await choosePaths(d, win, 'export-folder')).toEqual(['/home/ann/exports']);
    expect((d.showOpenDialog.mock.calls as unknown[][])[0][1]).toMatchObject({ properties: ['openDirectory', 'createDirectory'] });
  });

  it('answers a cancelled dialog with no paths', async () => {
    const d = fakeDialog({ canceled: true, filePaths: ['/ignored'] }, { canceled: true, filePath: '/ignored' });
    expect(await choosePaths(d, win, 'import-folder')).toEqual([]);
    expect(await choosePaths(d, win, 'workspace-create')).toEqual([]);
  });
});
