import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { MedtuneApi } from '../core/api/contract';
import { ipcChannel, ipcEvent, isChannelName, isEventName } from '../core/api/names';

/**
 * Exposes exactly the contract as `window.medtune`: `invoke` for the allow-listed channels and `on`
 * for the allow-listed events, plus `pathsForFiles` for drag-and-drop import. No ipcRenderer, no Node,
 * nothing else crosses the bridge.
 */
export const medtuneApi: Required<MedtuneApi> = {
  invoke(channel, request) {
    if (!isChannelName(channel)) {
      return Promise.resolve({ ok: false, error: { code: 'unknown-channel', message: `unknown channel ${String(channel)}` } });
    }
    return ipcRenderer.invoke(ipcChannel(channel), request);
  },
  on(event, listener) {
    if (!isEventName(event)) throw new Error(`unknown event ${String(event)}`);
    const wrapped = (_e: IpcRendererEvent, payload: unknown) => listener(payload as never);
    ipcRenderer.on(ipcEvent(event), wrapped);
    return () => {
      ipcRenderer.removeListener(ipcEvent(event), wrapped);
    };
  },
  /**
   * The one addition to the contract: a dropped File's path is known only here (the sandboxed page
   * sees names, never paths), and only for File objects the user dropped or picked. It returns
   * strings and reads nothing; the import itself still goes through `invoke('import.start')`.
   */
  pathsForFiles(files) {
    return Array.from(files, (file) => {
      try {
        return webUtils.getPathForFile(file as File);
      } catch {
        return ''; // not a File (or one made by the page, which has no path)
      }
    });
  },
};

contextBridge.exposeInMainWorld('medtune', medtuneApi);
