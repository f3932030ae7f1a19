/**
 * Expected workspace failures (a folder that is not a workspace, a schema from a newer app, a bad
 * argument to a service method). `code` is stable and machine-readable; `message` is for people.
 */
export type WorkspaceErrorCode =
  | 'not-a-workspace'
  | 'schema-too-new'
  | 'not-empty'
  | 'not-found'
  | 'invalid'
  | 'conflict'
  | 'blob-missing'
  | 'io';

export class WorkspaceError extends Error {
  constructor(
    readonly code: WorkspaceErrorCode | (string & {}),
    message: string,
  ) {
    super(message);
    this.name = 'WorkspaceError';
  }
}
