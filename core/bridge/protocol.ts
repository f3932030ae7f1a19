import type { Result } from '../api/errors';

/** Messages of the loopback WebSocket bridge (binary frames, see codec.ts). */
export type ClientMessage = { type: 'invoke'; id: number; channel: string; request: unknown };

export type ServerMessage =
  | { type: 'result'; id: number; result: Result<unknown> }
  | { type: 'event'; event: string; payload: unknown };

export const BRIDGE_PATH = '/medtune-bridge';
