/**
 * The IPC contract shared by the main process, the preload bridge, the browser-mode server and the
 * renderer. TYPES ONLY: this file is compiled into both the Node and the web TypeScript projects, so it
 * must not import anything at run time (no Node, no Electron, no zod).
 *
 * Add a channel: declare it in `IpcChannels` here, give it a zod request schema in
 * `main/ipc/contract.ts`, and a handler in the domain file under `main/ipc/` (the compiler then refuses
 * the build until all three agree).
 */

/** Mirrors `BackendName` in main/engine/backends.ts (checked there by the handler's return type). */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  available: boolean;
  /** Why it is (un)available: the package found, the adapter, or what is missing. */
  detail: string;
  version?: string;
}

export interface EngineInfo {
  /** Package and runtime versions, e.g. `{ node: '20.20.2', 'tfjs-core': '4.22.0', 'tfjs-node': null }` (null = not installed). */
  versions: Record<string, string | null>;
  backends: BackendInfo[];
}

/** Channel → request (payload) and response types. `void` request = no payload. */
export interface IpcChannels {
  /** Echo, used by tests and health checks. */
  'app:ping': { request: { nonce: string }; response: { nonce: string } };
  /** Runtime versions and the tfjs backends this machine can use. */
  'engine:info': { request: void; response: EngineInfo };
}

export type Channel = keyof IpcChannels;
export type RequestOf<C extends Channel> = IpcChannels[C]['request'];
export type ResponseOf<C extends Channel> = IpcChannels[C]['response'];

/** Arguments after the channel name: the payload, optional when the request is `void`. */
export type PayloadArgs<C extends Channel> = RequestOf<C> extends void ? [payload?: undefined] : [payload: RequestOf<C>];

/** Events pushed from the main process to the renderer (event name → payload). */
export interface IpcEvents {
  /** A message the main process wants shown to the user (nothing emits it yet). */
  'app:notice': { level: 'info' | 'warning' | 'error'; message: string };
}

export type EventName = keyof IpcEvents;

export type IpcErrorCode =
  /** The payload failed the channel's schema; `issues` says where. */
  | 'validation'
  /** No such channel. */
  | 'unknown_channel'
  /** The request itself was malformed (browser mode: bad JSON, wrong content type, too large). */
  | 'bad_request'
  /** Browser mode: no valid token. */
  | 'unauthorized'
  /** The handler failed. */
  | 'internal';

export interface IpcIssue {
  /** Where in the payload, e.g. `['nonce']`; empty for the payload itself. */
  path: (string | number)[];
  message: string;
  code: string;
}

export interface IpcErrorPayload {
  code: IpcErrorCode;
  message: string;
  issues?: IpcIssue[];
}

/** What crosses the process boundary: never a thrown error with a stack. */
export type IpcEnvelope<T> = { result: T } | { error: IpcErrorPayload };

/** What preload/index.ts exposes as `window.ldStudio` (Electron only). */
export interface LdStudioBridge {
  invoke<C extends Channel>(channel: C, ...args: PayloadArgs<C>): Promise<IpcEnvelope<ResponseOf<C>>>;
  /** Subscribe to a main-process event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, callback: (payload: IpcEvents[E]) => void): () => void;
}

/** The ipcRenderer channel name used for an event (kept apart from invoke channels). */
export const eventChannelPrefix = 'ld-studio-event:';
