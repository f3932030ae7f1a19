import { ZodError } from 'zod';
import { contract, events, type EventPayload, type ParsedRequestOf, type ResponseOf } from './contract';
import { ApiFailure, ERROR_CODES, type ApiError, type ErrorCode, type Result } from './errors';
import { isChannelName, type ChannelName, type EventName } from './names';

export interface CallContext {
  transport: 'electron' | 'websocket';
}

export type Handler<C extends ChannelName> = (
  request: ParsedRequestOf<C>,
  ctx: CallContext,
) => Promise<ResponseOf<C>> | ResponseOf<C>;

export type Handlers = { [C in ChannelName]: Handler<C> };

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

function describeZodError(err: ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
}

/** Turns anything thrown by a service into an error value; unexpected errors are logged, not leaked as stacks. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiFailure) return { code: err.code, message: err.message };
  if (err instanceof ZodError) return { code: 'invalid-request', message: describeZodError(err) };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (isErrorCode(code)) return { code, message: err.message };
    if (typeof code === 'string' && ['ENOENT', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'ENOSPC', 'EROFS'].includes(code)) {
      return { code: 'io-error', message: err.message };
    }
    console.error('[medtune] unexpected error:', err);
    return { code: 'internal', message: err.message || 'unexpected error' };
  }
  return { code: 'internal', message: String(err) };
}

/**
 * The single entry point both transports call: validates the channel and request against the
 * contract, runs the handler, validates its response, and returns a Result instead of throwing.
 */
export async function dispatch(
  handlers: Handlers,
  channel: unknown,
  rawRequest: unknown,
  ctx: CallContext,
): Promise<Result<unknown>> {
  if (!isChannelName(channel)) {
    return { ok: false, error: { code: 'unknown-channel', message: `unknown channel ${JSON.stringify(channel)}` } };
  }
  const spec = contract[channel];
  const parsed = spec.request.safeParse(rawRequest ?? {});
  if (!parsed.success) {
    return { ok: false, error: { code: 'invalid-request', message: `${channel}: ${describeZodError(parsed.error)}` } };
  }
  let value: unknown;
  try {
    const handler = handlers[channel] as (req: unknown, ctx: CallContext) => unknown;
    value = await handler(parsed.data, ctx);
  } catch (err) {
    return { ok: false, error: toApiError(err) };
  }
  const checked = spec.response.safeParse(value);
  if (!checked.success) {
    console.error(`[medtune] ${channel} returned a value outside the contract:`, checked.error.issues);
    return { ok: false, error: { code: 'invalid-response', message: `${channel}: ${describeZodError(checked.error)}` } };
  }
  return { ok: true, value: checked.data };
}

export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** Fan-out of contract events to every connected transport; payloads are validated on the way out. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const checked = events[event].parse(payload) as EventPayload<E>;
    for (const listener of this.listeners) listener(event, checked);
  }
}
