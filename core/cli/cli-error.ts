/**
 * The CLI's exit codes, documented in the README: scripts tell "done" from "done, but some items
 * failed" from a usage mistake and from a failure.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Failed: nothing (or nothing more) was done; the message says why. */
  failure: 1,
  /** Bad usage: unknown command or option, missing or invalid value (as commander reports it). */
  usage: 2,
  /** Done, but some items failed and were reported (files quarantined by import, cases not predicted). */
  partial: 3,
  /** Cancelled with Ctrl-C (128 + SIGINT). */
  cancelled: 130,
} as const;

/** An expected failure with a message for the user and the exit code to leave with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
