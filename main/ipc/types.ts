import type { Channel, RequestOf, ResponseOf } from '../../common/api';
import type { Session } from './session';
import type { EventSink } from './sessionState';

export type { EventSink } from './sessionState';

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
