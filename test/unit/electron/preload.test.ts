import { beforeEach, describe, expect, it, vi } from 'vitest';

const exposeInMainWorld = vi.fn();
const invoke = vi.fn(async () => ({ ok: true, value: 'x' }));
const on = vi.fn();
const removeListener = vi.fn();
const getPathForFile = vi.fn((file: { name?: string; fake?: boolean }) => {
  if (file.fake) throw new TypeError('Error processing argument at index 0');
  return `/home/ann/dicom/${file.name}`;
});

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld },
  ipcRenderer: { invoke, on, removeListener },
  webUtils: { getPathForFile },
}));

describe('electron/preload', () => {
  beforeEach(() => {
    vi.resetModules();
    exposeInMainWorld.mockClear();
    invoke.mockClear();
    on.mockClear();
    removeListener.mockClear();
  });

  it('exposes exactly the contract (and the drop helper) as window.medtune and nothing else', async () => {
    await import('../../../electron/preload');
    expect(exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [key, api] = exposeInMainWorld.mock.calls[0] as [string, Record<string, unknown>];
    expect(key).toBe('medtune');
    expect(Object.keys(api).sort()).toEqual(['invoke', 'on', 'pathsForFiles']);
  });

  it('turns dropped File objects into paths with webUtils, and anything else into an empty string', async () => {
    const { medtuneApi } = await import('../../../electron/preload');
    expect(medtuneApi.pathsForFiles([{ name: 'a.dcm' }, { fake: true }, { name: 'b.zip' }])).toEqual([
      '/home/ann/dicom/a.dcm',
      '',
      '/home/ann/dicom/b.zip',
    ]);
    expect(getPathForFile).toHaveBeenCalledTimes(3);
    expect(invoke).not.toHaveBeenCalled();
  });

  it('forwards allow-listed channels to ipcRenderer.invoke with the namespaced name and the request', async () => {
    const { medtuneApi } = await import('../../../electron/preload');
    await medtuneApi.invoke('workspace.open', { dir: '/data/ws' });
    expect(invoke).toHaveBeenCalledWith('medtune:workspace.open', { dir: '/data/ws' });
    await medtuneApi.invoke('cases.list', { limit: 5 });
    expect(invoke).toHaveBeenLastCalledWith('medtune:cases.list', { limit: 5 });
  });

  it('refuses channels outside the contract without touching IPC', async () => {
    const { medtuneApi } = await import('../../../electron/preload');
    const result = await medtuneApi.invoke('shell.exec' as never, {} as never);
    expect(result).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
    expect(invoke).not.toHaveBeenCalled();
  });

  it('subscribes to allow-listed events and unsubscribes the same listener', async () => {
    const { medtuneApi } = await import('../../../electron/preload');
    const listener = vi.fn();
    const off = medtuneApi.on('workspace.changed', listener);
    expect(on).toHaveBeenCalledWith('medtune-event:workspace.changed', expect.any(Function));
    const wrapped = on.mock.calls[0][1] as (e: unknown, p: unknown) => void;
    wrapped({ sender: 'ipc' }, { name: 'w' });
    expect(listener).toHaveBeenCalledWith({ name: 'w' });
    off();
    expect(removeListener).toHaveBeenCalledWith('medtune-event:workspace.changed', wrapped);
    expect(() => medtuneApi.on('process.exit' as never, listener)).toThrow(/unknown event/);
  });
});
