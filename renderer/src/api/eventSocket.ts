/**
 * Browser mode's event stream: one WebSocket to `api/events` (authenticated by the session cookie the
 * ?token= page load set), reconnecting with backoff when the server restarts or the machine sleeps.
 * Messages are `{ event, payload }`; unknown events are ignored.
 */
import type { EventName, IpcEvents } from '../../../common/api';

type Listener = (payload: unknown) => void;

export class EventSocket {
  private readonly listeners = new Map<string, Set<Listener>>();
  private ws: WebSocket | null = null;
  private retryMs = 500;
  private closed = false;

  constructor(private readonly url: string) {
    this.connect();
  }

  on<E extends EventName>(event: E, callback: (payload: IpcEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const listener = callback as Listener;
    set.add(listener);
    return () => set.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
    };
    ws.onmessage = (msg) => {
      let parsed: { event?: unknown; payload?: unknown };
      try {
        parsed = JSON.parse(String(msg.data)) as { event?: unknown; payload?: unknown };
      } catch {
        return;
      }
      if (typeof parsed.event !== 'string') return;
      for (const listener of this.listeners.get(parsed.event) ?? []) listener(parsed.payload);
    };
    ws.onclose = () => {
      if (this.closed) return;
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }
}
