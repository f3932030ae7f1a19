import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { MedtuneApi } from '../core/api/contract';
import { ipcChannel, ipcEvent, isChannelName, isEventName } from '../core/api/names';

/**
 * Exposes exactly the contract as `window.medtune`: `invoke` for the allow-listed channels and `on`
 * for the allow-listed events. No ipcRenderer, no Node, nothing else crosses the bridge.
 */
export const medtuneApi: MedtuneApi = {
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
};

contextBridge.exposeInMainWorld('medtune', medtuneApi);
