/**
 * The transport-free handler table: channel → `async (payload: unknown) => result`. Every entry
 * validates its payload with the channel's zod schema before the handler runs. main/app.ts registers
 * the table on ipcMain, main/server.ts on loopback HTTP; tests call it directly.
 */
import type { Channel, ResponseOf } from '../../preload/api';
import { appHandlers } from './app';
import { channels, requestSchemas } from './contract';
import { engineHandlers } from './engine';
import { IpcUnknownChannelError, IpcValidationError } from './errors';
import type { EventSink, Handler, HandlerContext, RawHandler } from './types';

export { IpcBadRequestError, IpcError, IpcUnknownChannelError, IpcValidationError, toErrorPayload, httpStatusFor } from './errors';
export type { EventSink, HandlerContext, RawHandler } from './types';

/** A Map, not an object: a channel named `constructor` or `__proto__` must not find anything. */
export type HandlerTable = ReadonlyMap<string, RawHandler>;

export interface HandlerTableOptions {
  /** Where handlers' events go; dropped when omitted. */
  emit?: EventSink;
}

export function createHandlerTable(options: HandlerTableOptions = {}): HandlerTable {
  const ctx: HandlerContext = { emit: options.emit ?? (() => undefined) };
  // Adding a domain: spread its handlers here. The type below refuses a missing or extra channel.
  const handlers: { [C in Channel]: Handler<C> } = { ...appHandlers, ...engineHandlers };
  const table = new Map<string, RawHandler>();
  for (const channel of channels) table.set(channel, bind(channel, handlers, ctx));
  return table;
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
export function invokeChannel<C extends Channel>(table: HandlerTable, channel: C, payload: unknown): Promise<ResponseOf<C>>;
export function invokeChannel(table: HandlerTable, channel: string, payload: unknown): Promise<unknown>;
export async function invokeChannel(table: HandlerTable, channel: string, payload: unknown): Promise<unknown> {
  const handler = typeof channel === 'string' ? table.get(channel) : undefined;
  if (!handler) throw new IpcUnknownChannelError(String(channel), [...table.keys()]);
  return handler(payload);
}
