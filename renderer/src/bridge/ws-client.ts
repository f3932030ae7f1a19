import type { MedtuneApi } from '../../../core/api/contract';
import type { Result } from '../../../core/api/errors';
import { isChannelName, isEventName } from '../../../core/api/names';
import { decodeMessage, encodeMessage } from '../../../core/bridge/codec';
import { BRIDGE_PATH, type ClientMessage, type ServerMessage } from '../../../core/bridge/protocol';

/**
 * Browser mode: implements `window.medtune` over the loopback WebSocket with exactly the shape the
 * Electron preload exposes, so the app cannot tell the transports apart.
 */
export function createWebSocketApi(token: string, host = location.host): MedtuneApi {
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let opening: Promise<WebSocket> | null = null;

  const failAll = (message: string) => {
    for (const resolve of pending.values()) resolve({ ok: false, error: { code: 'io-error', message } });
    pending.clear();
  };

  const connect = (): Promise<WebSocket> => {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    if (opening) return opening;
    opening = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://${host}${BRIDGE_PATH}?token=${encodeURIComponent(token)}`);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        socket = ws;
        opening = null;
        resolve(ws);
      };
      ws.onerror = () => {
        opening = null;
        reject(new Error('Cannot reach the MedTune server. Is `npm run web` still running, and is the address complete?'));
      };
      ws.onclose = () => {
        socket = null;
        failAll('The connection to the MedTune server was lost.');
      };
      ws.onmessage = (msg) => {
        const data = decodeMessage(new Uint8Array(msg.data as ArrayBuffer)) as ServerMessage;
        if (data.type === 'result') {
          pending.get(data.id)?.(data.result);
          pending.delete(data.id);
        } else if (data.type === 'event') {
          for (const listener of listeners.get(data.event) ?? []) listener(data.payload);
        }
      };
    });
    return opening;
  };

  return {
    async invoke(channel, request) {
      if (!isChannelName(channel)) return { ok: false, error: { code: 'unknown-channel', message: `unknown channel ${String(channel)}` } };
      let ws: WebSocket;
      try {
        ws = await connect();
      } catch (err) {
        return { ok: false, error: { code: 'io-error', message: (err as Error).message } };
      }
      const id = nextId++;
      const message: ClientMessage = { type: 'invoke', id, channel, request };
      return new Promise((resolve) => {
        pending.set(id, resolve as (r: Result<unknown>) => void);
        ws.send(encodeMessage(message));
      });
    },
    on(event, listener) {
      if (!isEventName(event)) throw new Error(`unknown event ${String(event)}`);
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (payload: unknown) => void);
      listeners.set(event, set);
      void connect().catch(() => undefined);
      return () => set.delete(listener as (payload: unknown) => void);
    },
  };
}

/** Installs the WebSocket implementation when no preload provided `window.medtune`. */
export function installWebSocketApiIfNeeded(): void {
  if (window.medtune) return;
  const token = new URLSearchParams(location.search).get('token') ?? '';
  window.medtune = createWebSocketApi(token);
}
