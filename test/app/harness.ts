/** A handler table on temporary folders that records its events, for the app tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Channel, EventName, IpcEvents, ResponseOf } from '../../preload/api';
import { createHandlerTable, invokeChannel, type HandlerTable, type HandlerTableOptions } from '../../main/ipc/registry';

export interface RecordedEvent {
  event: EventName;
  payload: unknown;
  at: number;
}

export interface Harness {
  root: string;
  table: HandlerTable;
  events: RecordedEvent[];
  /** Through the table, validation included (payloads are untyped on purpose: tests send garbage too). */
  invoke<C extends Channel>(channel: C, payload?: unknown): Promise<ResponseOf<C>>;
  eventsOf<E extends EventName>(event: E): Array<IpcEvents[E]>;
  dispose(): Promise<void>;
}

/**
 * `createHandlerTable` with a temporary config folder (recent projects, sample project), no sample
 * images unless given, and every event kept in `events`.
 */
export function harness(options: HandlerTableOptions = {}): Harness {
  const root = mkdtempSync(join(tmpdir(), 'ld-app-'));
  const events: RecordedEvent[] = [];
  const table = createHandlerTable({
    configDir: join(root, 'config'),
    sampleImagesDir: null,
    ...options,
    emit: (event, payload) => {
      events.push({ event, payload, at: Date.now() });
      options.emit?.(event, payload);
    },
  });
  return {
    root,
    table,
    events,
    invoke: <C extends Channel>(channel: C, payload?: unknown) => invokeChannel(table, channel, payload),
    eventsOf: <E extends EventName>(event: E) => events.filter((e) => e.event === event).map((e) => e.payload as IpcEvents[E]),
    async dispose() {
      await table.dispose();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
