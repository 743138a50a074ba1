/**
 * The binary routes' handler table (routes declared in common/api.ts `BinaryRoutes`): route →
 * `(session, imageId) → { header, body }`. `createBinaryTable` binds it to a session and answers every
 * route the same way, headers and error mapping included, so a transport matches the path with
 * `matchBinaryRoute` and writes out what comes back, with no code per route.
 */
import { binaryRouteHeaders, type BinaryRoute, type BinaryRoutes, type IpcErrorPayload } from '../../common/api';
import { httpStatusFor, toErrorPayload } from './errors';
import { PixelsError, readPixels } from './pixels';
import { readMaskPayload } from './segment';
import type { Session } from './session';

export interface BinaryPayload<R extends BinaryRoute> {
  /** Sent as JSON in the route's header (`binaryRouteHeaders`). */
  header: BinaryRoutes[R];
  body: Uint8Array;
}

export type BinaryHandler<R extends BinaryRoute> = (session: Session, imageId: string) => Promise<BinaryPayload<R>>;

/** One handler per declared route: the type refuses a route of the contract without one. */
export type BinaryHandlers = { [R in BinaryRoute]: BinaryHandler<R> };

export const binaryHandlers: BinaryHandlers = {
  pixels: readPixels,
  mask: readMaskPayload,
};

/** What a transport writes out: 200 with the body, or a status with an error (JSON in browser mode, text in Electron). */
export type BinaryResponse =
  | { ok: true; status: 200; headers: Record<string, string>; body: Uint8Array }
  | { ok: false; status: number; error: IpcErrorPayload };

export type BinaryTable = { readonly [R in BinaryRoute]: (imageId: string) => Promise<BinaryResponse> };

export function createBinaryTable(session: Session, handlers: BinaryHandlers = binaryHandlers): BinaryTable {
  const table = {} as Record<BinaryRoute, (imageId: string) => Promise<BinaryResponse>>;
  for (const route of Object.keys(binaryRouteHeaders) as BinaryRoute[]) table[route] = (imageId) => answer(route, () => handlers[route](session, imageId));
  return Object.freeze(table);
}

async function answer<R extends BinaryRoute>(route: R, read: () => Promise<BinaryPayload<R>>): Promise<BinaryResponse> {
  try {
    const { header, body } = await read();
    return {
      ok: true,
      status: 200,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(body.length),
        [binaryRouteHeaders[route]]: JSON.stringify(header),
        'Cache-Control': 'no-store',
      },
      body,
    };
  } catch (err) {
    return { ok: false, ...binaryError(err) };
  }
}

/** A handler's error → HTTP status and payload. PixelsError carries its own status (the mask route throws it too). */
export function binaryError(err: unknown): { status: number; error: IpcErrorPayload } {
  // a missing image or project is not_found, as on every channel; an unreadable file stays bad_request (422)
  if (err instanceof PixelsError) return { status: err.status, error: { code: err.status === 500 ? 'internal' : err.status === 404 ? 'not_found' : 'bad_request', message: err.message } };
  const error = toErrorPayload(err);
  return { status: httpStatusFor(error.code), error };
}
