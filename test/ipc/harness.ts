/** A handler table on temporary folders that records its events, for the app tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Channel, EventName, IpcEvents, ResponseOf } from '../../common/api';
import { createHandlerTable, invokeChannel, type HandlerTable, type HandlerTableOptions } from '../../main/ipc/registry';
import { startServer, type RunningServer } from '../../main/server';

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

/** A harness behind a browser-mode server (a stub page as the renderer): events go to its WebSocket. */
export async function servedHarness(): Promise<{ h: Harness; server: RunningServer; auth: Record<string, string> }> {
  const sink: { server?: RunningServer } = {};
  const h = harness({ emit: (event, payload) => sink.server?.broadcast(event, payload) });
  const rendererDir = join(h.root, 'renderer');
  mkdirSync(rendererDir, { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>test</title>');
  const server = await startServer({ rendererDir, handlers: h.table });
  sink.server = server;
  return { h, server, auth: { Authorization: `Bearer ${server.token}` } };
}

/** Poll `condition` every 25 ms until it holds, or fail after `timeoutMs` naming `what`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The longest the event loop of this process was held, from Node's histogram and a 20 ms timer. */
export function eventLoopLag(): { stop(): void; maxMs(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let timerLag = 0;
  let last = performance.now();
  const meter = setInterval(() => {
    const now = performance.now();
    timerLag = Math.max(timerLag, now - last - 20);
    last = now;
  }, 20);
  return {
    stop() {
      clearInterval(meter);
      histogram.disable();
    },
    maxMs: () => Math.max(histogram.max / 1e6, timerLag),
  };
}
