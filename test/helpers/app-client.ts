import { afterEach } from 'vitest';
import { dispatch, type Handlers } from '../../core/api/dispatch';
import type { ChannelName } from '../../core/api/names';
import type { RequestOf, ResponseOf } from '../../core/api/contract';
import { createHandlers } from '../../core/app/handlers';
import { AppSession } from '../../core/app/session';

/**
 * Clients of the real handlers, each on its own AppSession (as one window or browser tab), all disposed
 * after every test. `call` answers the value or throws naming the channel and error; `failure` answers the
 * error of a call that must fail; `raw` answers the Result as the transport would.
 */
export function appClients() {
  const sessions: AppSession[] = [];
  afterEach(() => {
    for (const s of sessions.splice(0)) s.dispose();
  });
  return function client(author: string, session = new AppSession(author)) {
    sessions.push(session);
    const handlers: Handlers = createHandlers(session);
    const raw = (channel: ChannelName, request: unknown) => dispatch(handlers, channel, request, { transport: 'websocket' });
    const call = async <C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
      const result = await raw(channel, request);
      if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
      return result.value as ResponseOf<C>;
    };
    const failure = async (channel: ChannelName, request: unknown) => {
      const result = await raw(channel, request);
      if (result.ok) throw new Error(`${channel} was expected to fail`);
      return result.error;
    };
    return { session, call, raw, failure };
  };
}
