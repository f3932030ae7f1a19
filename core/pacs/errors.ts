/** Why a PACS operation failed, in words the CLI and the UI can show as they are. */
export type PacsErrorCode =
  | 'bad-config'
  | 'no-connection'
  | 'secret-missing'
  | 'auth'
  | 'unreachable'
  | 'protocol'
  | 'not-found'
  | 'rejected'
  | 'cancelled';

export class PacsError extends Error {
  constructor(
    readonly code: PacsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PacsError';
  }
}
