/**
 * The transport-free handler table: channel → `async (payload: unknown) => result`. Every entry
 * validates its payload with the channel's zod schema before the handler runs. main/app.ts registers
 * the table on ipcMain, main/server.ts on loopback HTTP; tests call it directly.
 *
 * Each table owns a Session (the open project, jobs, the training run), and answers the binary
 * routes (pixels, mask: common/api.ts `BinaryRoutes`) through `table.binary[route](imageId)`;
 * `table.dispose()` at the end cancels jobs, stops training with a checkpoint, saves the project.
 */
import type { Channel, ResponseOf } from '../../common/api';
import { appHandlers } from './app';
import { createBinaryTable, type BinaryTable } from './binaryRoutes';
import { channels, requestSchemas } from './contract';
import { engineHandlers } from './engine';
import { IpcUnknownChannelError, IpcValidationError } from './errors';
import { exportHandlers } from './export';
import { fsHandlers } from './fs';
import { imagesHandlers } from './images';
import { jobHandlers } from './jobs';
import { landmarksHandlers } from './landmarks';
import { projectHandlers } from './project';
import { segmentHandlers } from './segment';
import { Session, type SessionOptions } from './session';
import { trainHandlers } from './train';
import type { Handler, HandlerContext, RawHandler } from './types';

export { IpcBadRequestError, IpcError, IpcUnknownChannelError, IpcValidationError, toErrorPayload, httpStatusFor } from './errors';
export type { EventSink, HandlerContext, RawHandler } from './types';
export { Session, type Dialogs, type SessionOptions } from './session';
export type { BinaryResponse, BinaryTable } from './binaryRoutes';

/** A Map, not an object: a channel named `constructor` or `__proto__` must not find anything. */
export interface HandlerTable extends ReadonlyMap<string, RawHandler> {
  readonly session: Session;
  /** The binary routes of this session: route → `(imageId) → BinaryResponse` (never throws). */
  readonly binary: BinaryTable;
  /** Cancel jobs, stop training (it checkpoints), save and close the project. */
  dispose(): Promise<void>;
}

/** `emit`, config folder, sample images, native dialogs: see SessionOptions. */
export type HandlerTableOptions = SessionOptions;

export function createHandlerTable(options: HandlerTableOptions = {}): HandlerTable {
  const session = new Session(options);
  const ctx: HandlerContext = { emit: session.emit, session };
  // Adding a domain: spread its handlers here. The type below refuses a missing or extra channel.
  const handlers: { [C in Channel]: Handler<C> } = {
    ...appHandlers,
    ...engineHandlers,
    ...projectHandlers,
    ...fsHandlers,
    ...imagesHandlers,
    ...trainHandlers,
    ...landmarksHandlers,
    ...segmentHandlers,
    ...exportHandlers,
    ...jobHandlers,
  };
  const table = new Map<string, RawHandler>();
  for (const channel of channels) table.set(channel, bind(channel, handlers, ctx));
  return Object.assign(table, { session, binary: createBinaryTable(session), dispose: () => session.dispose() });
}

function bind<C extends Channel>(channel: C, handlers: { [K in Channel]: Handler<K> }, ctx: HandlerContext): RawHandler {
  const handler: Handler<C> = handlers[channel];
  const schema = requestSchemas[channel];
  return async (payload) => {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw new IpcValidationError(channel, parsed.error.issues);
    return handler(parsed.data as Parameters<Handler<C>>[0], ctx);
  };
}

/** Look up and run a channel; throws `IpcUnknownChannelError` for a channel that is not in the table. */
export function invokeChannel<C extends Channel>(table: ReadonlyMap<string, RawHandler>, channel: C, payload: unknown): Promise<ResponseOf<C>>;
export function invokeChannel(table: ReadonlyMap<string, RawHandler>, channel: string, payload: unknown): Promise<unknown>;
export async function invokeChannel(table: ReadonlyMap<string, RawHandler>, channel: string, payload: unknown): Promise<unknown> {
  const handler = typeof channel === 'string' ? table.get(channel) : undefined;
  if (!handler) throw new IpcUnknownChannelError(String(channel), [...table.keys()]);
  return handler(payload);
}
