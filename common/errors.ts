/**
 * Errors a user can act on, thrown in any layer of main and named by code when they cross the IPC
 * boundary (main/ipc/errors.ts), so that a typo in an id or a step taken too early arrives as
 * `not_found` (HTTP 404), `precondition` or `conflict` (HTTP 409), not as `internal` (500).
 */

/** A named thing (project folder, image, run, landmark set, file) does not exist. */
export class NotFoundError extends Error {
  readonly code = 'not_found' as const;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The request is well-formed but the project is not in a state to do it yet (the message says what first). */
export class PreconditionError extends Error {
  readonly code = 'precondition' as const;
  constructor(message: string) {
    super(message);
    this.name = 'PreconditionError';
  }
}

/**
 * Doing it would replace a file the request did not say it may replace (an export onto an existing
 * file). The message names the file(s); the same request with `overwrite: true` goes ahead.
 */
export class ConflictError extends Error {
  readonly code = 'conflict' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
