import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { dispatch, type EventBus, type Handlers } from '../core/api/dispatch';
import { CHANNEL_NAMES, ipcChannel, ipcEvent } from '../core/api/names';

/**
 * Registers one ipcMain handler per contract channel. Requests from frames other than the app's own
 * are refused (a defence in depth against navigation to foreign content).
 */
export function registerIpcHandlers(
  ipcMain: Pick<IpcMain, 'handle'>,
  handlers: Handlers,
  isTrustedSender: (event: IpcMainInvokeEvent) => boolean,
): void {
  for (const name of CHANNEL_NAMES) {
    ipcMain.handle(ipcChannel(name), async (event: IpcMainInvokeEvent, request: unknown) => {
      if (!isTrustedSender(event)) {
        return { ok: false, error: { code: 'unsupported', message: 'request from an untrusted frame' } };
      }
      return dispatch(handlers, name, request, { transport: 'electron' });
    });
  }
}

/** Forwards contract events to a window for as long as it lives. */
export function forwardEvents(events: EventBus, webContents: Pick<WebContents, 'send' | 'isDestroyed'>): () => void {
  return events.subscribe((event, payload) => {
    if (!webContents.isDestroyed()) webContents.send(ipcEvent(event), payload);
  });
}
