import type { Channel, EventName, IpcEvents, RequestOf, ResponseOf } from '../../preload/api';
import type { Session } from './session';

/** Pushes an event to the renderer(s); each transport supplies its own. */
export type EventSink = <E extends EventName>(event: E, payload: IpcEvents[E]) => void;

/** Per-table services handed to every handler. */
export interface HandlerContext {
  emit: EventSink;
  /** The open project, running jobs and training, caches: one per handler table. */
  session: Session;
}

/** A handler receives the payload already validated by its channel's schema. */
export type Handler<C extends Channel> = (payload: RequestOf<C>, ctx: HandlerContext) => Promise<ResponseOf<C>>;

/** The handlers one domain file (`main/ipc/<domain>.ts`) contributes. */
export type DomainHandlers<K extends Channel> = { [C in K]: Handler<C> };

/** Transport-facing handler: takes the raw, untrusted payload. */
export type RawHandler = (payload: unknown) => Promise<unknown>;
