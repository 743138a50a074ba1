/**
 * Errors that cross the IPC boundary. Handlers may throw anything; the transports (ipcMain in
 * main/app.ts, HTTP in main/server.ts) turn it into an `IpcErrorPayload` with `toErrorPayload`, so the
 * renderer sees a code and a message, never a stack.
 */
import type { z } from 'zod';
import type { IpcErrorCode, IpcErrorPayload, IpcIssue } from '../../common/api';
import { ConflictError, NotFoundError, PreconditionError } from '../../common/errors';
import { ImageReadError } from '../io/imageRecord';

export class IpcError extends Error {
  constructor(
    readonly code: IpcErrorCode,
    message: string,
    readonly issues?: IpcIssue[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The payload failed the channel's zod schema. `zodIssues` keeps zod's own issue objects. */
export class IpcValidationError extends IpcError {
  constructor(
    readonly channel: string,
    readonly zodIssues: readonly z.core.$ZodIssue[],
  ) {
    const issues = zodIssues.map(toIssue);
    const summary = issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    super('validation', `invalid payload for '${channel}': ${summary}`, issues);
  }
}

export class IpcUnknownChannelError extends IpcError {
  constructor(
    readonly channel: string,
    known: readonly string[],
  ) {
    super('unknown_channel', `unknown IPC channel '${channel.slice(0, 100)}' (known: ${known.join(', ') || 'none'})`);
  }
}

/** The request could not be read at all (browser mode: bad JSON, wrong content type, too large). */
export class IpcBadRequestError extends IpcError {
  constructor(message: string) {
    super('bad_request', message);
  }
}

function toIssue(issue: z.core.$ZodIssue): IpcIssue {
  return {
    path: issue.path.map((p) => (typeof p === 'number' ? p : String(p))),
    message: issue.message,
    code: issue.code,
  };
}

/** Serialisable form of any thrown value: code + message (+ issues), no stack. */
export function toErrorPayload(err: unknown): IpcErrorPayload {
  if (err instanceof IpcError) {
    return err.issues ? { code: err.code, message: err.message, issues: err.issues } : { code: err.code, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof NotFoundError || err instanceof PreconditionError || err instanceof ConflictError) return { code: err.code, message };
  if ((err instanceof ImageReadError && err.code === 'missing') || (err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return { code: 'not_found', message };
  return { code: 'internal', message: message || 'internal error' };
}

/** HTTP status for an error code (browser mode). */
export function httpStatusFor(code: IpcErrorCode): number {
  switch (code) {
    case 'validation':
    case 'bad_request':
      return 400;
    case 'unauthorized':
      return 401;
    case 'unknown_channel':
    case 'not_found':
      return 404;
    case 'precondition':
    case 'conflict':
      return 409;
    case 'internal':
      return 500;
  }
}
