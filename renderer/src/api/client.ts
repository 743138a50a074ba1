/**
 * The one way the renderer talks to the main process. Two transports behind one interface:
 *   electron  window.ldStudio (preload/index.ts) over ipcRenderer.invoke
 *   browser   POST /api/invoke/<channel> on the same origin (main/server.ts); the session cookie
 *             set by the ?token= page load authenticates it.
 * Both answer with an envelope { result } | { error }; `invoke` unwraps it and throws LdStudioError.
 */
import { binaryRoutePath, type Channel, type EventName, type IpcEnvelope, type IpcErrorCode, type IpcEvents, type IpcIssue, type LdStudioBridge, type PayloadArgs, type ResponseOf } from '../../../common/api';
import { EventSocket } from './eventSocket';

declare global {
  interface Window {
    /** Present only inside the Electron app. */
    ldStudio?: LdStudioBridge;
  }
}

export type Transport = 'electron' | 'browser';

export interface LdStudioApi {
  readonly transport: Transport;
  invoke<C extends Channel>(channel: C, ...args: PayloadArgs<C>): Promise<ResponseOf<C>>;
  /** Subscribe to a main-process event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, callback: (payload: IpcEvents[E]) => void): () => void;
  /** Where the viewer fetches an image's pixels (same path under both transports' origins). */
  pixelsUrl(imageId: string): string;
}

export class LdStudioError extends Error {
  constructor(
    readonly channel: string,
    readonly code: IpcErrorCode,
    message: string,
    readonly issues?: IpcIssue[],
  ) {
    super(message);
    this.name = 'LdStudioError';
  }
}

function unwrap<T>(channel: string, envelope: IpcEnvelope<T>): T {
  if ('error' in envelope) {
    const { code, message, issues } = envelope.error;
    throw new LdStudioError(channel, code, message, issues);
  }
  return envelope.result;
}

export function electronApi(bridge: LdStudioBridge): LdStudioApi {
  return {
    transport: 'electron',
    async invoke(channel, ...args) {
      return unwrap(channel, await bridge.invoke(channel, ...args));
    },
    on: (event, callback) => bridge.on(event, callback),
    pixelsUrl,
  };
}

export function browserApi(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): LdStudioApi {
  let socket: EventSocket | undefined;
  return {
    transport: 'browser',
    on(event, callback) {
      socket ??= new EventSocket(new URL('api/events', window.location.href.replace(/^http/, 'ws')).toString());
      return socket.on(event, callback);
    },
    pixelsUrl,
    async invoke<C extends Channel>(channel: C, ...args: PayloadArgs<C>): Promise<ResponseOf<C>> {
      let res: Response;
      try {
        res = await fetchImpl(`/api/invoke/${encodeURIComponent(channel)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(args[0] ?? null),
          credentials: 'same-origin',
        });
      } catch (err) {
        throw new LdStudioError(channel, 'internal', `LD Studio server unreachable (${(err as Error).message}); is it still running?`);
      }
      let envelope: IpcEnvelope<ResponseOf<C>>;
      try {
        envelope = (await res.json()) as IpcEnvelope<ResponseOf<C>>;
      } catch {
        throw new LdStudioError(channel, 'internal', `unexpected ${res.status} response from the LD Studio server`);
      }
      if (res.status === 401) {
        throw new LdStudioError(channel, 'unauthorized', 'session expired or server restarted: open the URL LD Studio printed (with ?token=) again');
      }
      return unwrap(channel, envelope);
    },
  };
}

/** Relative to the page, so it resolves under http://127.0.0.1:port/ and ld-studio://app/ alike. */
function pixelsUrl(imageId: string): string {
  return binaryRoutePath('pixels', imageId);
}

let current: LdStudioApi | undefined;

/** The transport for this page: Electron when the preload bridge is there, browser mode otherwise. */
export function useApi(): LdStudioApi {
  current ??= window.ldStudio ? electronApi(window.ldStudio) : browserApi();
  return current;
}
