/** Stable error codes the renderer can switch on; the message is for humans. */
export const ERROR_CODES = [
  'invalid-request',
  'invalid-response',
  'unknown-channel',
  'no-workspace',
  'not-a-workspace',
  'not-empty',
  'schema-too-new',
  'not-found',
  'invalid',
  'conflict',
  /** The current reader's role does not allow it, or a PIN did not match. */
  'forbidden',
  'busy',
  'decode-failed',
  'blob-missing',
  'unsupported',
  'io-error',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ApiError {
  code: ErrorCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** An expected failure raised inside a handler; becomes `{ ok: false, error }` at the boundary. */
export class ApiFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

