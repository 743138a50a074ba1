/**
 * Browser mode: the same renderer and the same IPC handler table as the Electron app, served on
 * loopback HTTP (node:http), or HTTPS (node:https) when given a certificate and key.
 *
 *   GET  /…                         the built renderer (static files, CSP header on every response)
 *   POST /api/invoke/<channel>      JSON body = payload → 200 { result } | 4xx/5xx { error }
 *   GET  /api/images/<id>/<route>   a binary route of common/api.ts `BinaryRoutes` (pixels, mask): binary
 *                                   body, the route's JSON header (`X-LD-Pixels`, `X-LD-Mask`)
 *   GET  /api/events                WebSocket upgrade: every event as a `{ event, payload }` JSON text message
 *
 * Every request must carry the session token: `Authorization: Bearer <token>`, or the cookie that a
 * page load with `?token=<token>` sets (HttpOnly, SameSite=Strict; the redirect drops the token from
 * the address bar). The Host header must name, with our port, a loopback name (localhost, 127.0.0.1,
 * [::1]), the address we listen on (for a wildcard address: this machine's interface addresses), or
 * a name given in `allowedHosts` (DNS-rebinding defence: an attacker's domain that resolves to us
 * carries its own name). A browser's Origin header, when sent, must be ours. A refused WebSocket
 * upgrade gets a plain HTTP 401/403/404 response on the socket.
 *
 * Beyond loopback (`allowRemote`) the token and the images cross the network: without `tls` they do
 * so in clear text, and a warning says so. Prints nothing else; the caller prints `url`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { matchBinaryRoute, type BinaryRouteMatch, type EventName, type IpcErrorPayload, type IpcEvents } from '../common/api';
import { jsonNestsDeeperThan, jsonSyntaxError } from './io/jsonSyntax';
import { createHandlerTable, httpStatusFor, IpcBadRequestError, invokeChannel, toErrorPayload, type HandlerTable } from './ipc/registry';
import { contentTypeFor, resolveStaticFile, SECURITY_HEADERS } from './static';

export interface ServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Anything but loopback is refused unless `allowRemote`. */
  host?: string;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** Session token; default 32 random bytes as hex. */
  token?: string;
  /** Listen beyond loopback (prints a warning). The token is still required. */
  allowRemote?: boolean;
  /** Serve HTTPS with this PEM certificate (chain) and private key; the cookie is then `Secure`. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Further names (or addresses) the Host header may carry, e.g. this machine's DNS name. */
  allowedHosts?: readonly string[];
  /** Default `createHandlerTable({ emit: <this server's broadcast> })`. */
  handlers?: HandlerTable;
  /** Largest accepted request body; default 16 MiB. */
  maxBodyBytes?: number;
  /** Where the `allowRemote` warning goes; default console.warn. */
  warn?: (message: string) => void;
}

export interface RunningServer {
  /** Open this: the page URL with `?token=`. */
  url: string;
  /** `http(s)://127.0.0.1:<port>` (no token). */
  origin: string;
  port: number;
  token: string;
  httpServer: Server;
  /** Whether a request carries the token (bearer header or cookie) and an allowed Host. */
  authorize(req: IncomingMessage): boolean;
  /** Send an event to every connected WebSocket client (the EventSink of browser mode). */
  broadcast<E extends EventName>(event: E, payload: IpcEvents[E]): void;
  /** Connected event clients. */
  readonly eventClients: number;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;
const INVOKE_PREFIX = '/api/invoke/';
const EVENTS_PATH = '/api/events';
/** No payload of the contract nests deeper than a few levels; far deeper is an attempt to hold the thread. */
export const MAX_JSON_DEPTH = 64;
/** Events are small; a client has nothing to send but pings. */
const MAX_WS_MESSAGE = 64 * 1024;
const WS_HEARTBEAT_MS = 30_000;

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.has(h) || (isIP(h) === 4 && h.startsWith('127.'));
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    if (!options.allowRemote) {
      throw new Error(`refusing to listen on non-loopback host '${host}': pass allowRemote (--allow-remote) to expose LD Studio beyond this machine`);
    }
    const warn = options.warn ?? console.warn;
    warn(`warning: LD Studio browser mode is listening on ${host}, reachable from other machines; anyone with the token can use it`);
    if (!options.tls) {
      warn('warning: without TLS the token and every image cross the network unencrypted; give --tls-cert <pem> --tls-key <pem> to serve HTTPS');
    }
  }
  const scheme = options.tls ? 'https' : 'http';
  const token = options.token ?? randomBytes(32).toString('hex');
  if (!TOKEN_PATTERN.test(token)) throw new Error('token must be 16–256 characters of [A-Za-z0-9_-]');
  const tokenBuf = Buffer.from(token);
  const clients = new Set<WebSocket>();
  const broadcast = <E extends EventName>(event: E, payload: IpcEvents[E]): void => {
    if (clients.size === 0) return;
    const text = JSON.stringify({ event, payload });
    for (const ws of clients) if (ws.readyState === WebSocket.OPEN) ws.send(text);
  };
  const ownHandlers = !options.handlers;
  const handlers = options.handlers ?? createHandlerTable({ emit: broadcast });
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const rendererDir = options.rendererDir;

  let port = 0;
  let allowedHosts = new Set<string>();
  // Cookies are not port-scoped: name ours by port so two instances on 127.0.0.1 don't clash.
  const cookieName = () => `ld_studio_token_${port}`;

  const tokenMatches = (candidate: string | undefined): boolean => {
    if (!candidate) return false;
    const buf = Buffer.from(candidate);
    return buf.length === tokenBuf.length && timingSafeEqual(buf, tokenBuf);
  };

  const hostAllowed = (req: IncomingMessage): boolean => allowedHosts.has((req.headers.host ?? '').toLowerCase());
  const ownOrigin = (req: IncomingMessage) => `${scheme}://${req.headers.host}`;

  const credential = (req: IncomingMessage): string | undefined => {
    const auth = req.headers.authorization;
    if (auth) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      return m ? m[1] : undefined;
    }
    return parseCookies(req.headers.cookie)[cookieName()];
  };

  const authorize = (req: IncomingMessage): boolean => hostAllowed(req) && tokenMatches(credential(req));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req)) return sendText(res, 403, 'Forbidden: unexpected Host header');
    const rawUrl = req.url ?? '/';
    if (!rawUrl.startsWith('/')) return sendText(res, 400, 'Bad request');
    const q = rawUrl.indexOf('?');
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    const isApi = rawPath === '/api' || rawPath.startsWith('/api/');

    if (!tokenMatches(credential(req))) {
      // A page load with ?token= trades the token for a cookie, then reloads without it.
      if (!isApi && (req.method === 'GET' || req.method === 'HEAD') && tokenMatches(query.get('token') ?? undefined)) {
        query.delete('token');
        const rest = query.toString();
        res.writeHead(303, {
          ...SECURITY_HEADERS,
          'Set-Cookie': `${cookieName()}=${token}; Path=/; HttpOnly; SameSite=Strict${options.tls ? '; Secure' : ''}`,
          Location: rawPath + (rest ? `?${rest}` : ''),
          'Cache-Control': 'no-store',
        });
        res.end();
        return;
      }
      if (isApi) return sendJson(res, 401, { error: { code: 'unauthorized', message: 'missing or wrong token' } }, { 'WWW-Authenticate': 'Bearer' });
      return sendText(res, 401, 'Unauthorized: open the URL that LD Studio printed (it carries ?token=…)', { 'WWW-Authenticate': 'Bearer' });
    }

    if (isApi) return handleApi(req, res, rawPath);
    return handleStatic(req, res, rawPath);
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> => {
    const binary = matchBinaryRoute(rawPath);
    if (binary) return handleBinary(req, res, binary);
    if (!rawPath.startsWith(INVOKE_PREFIX)) return sendJson(res, 404, { error: { code: 'bad_request', message: `no API route ${rawPath}` } });
    if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'bad_request', message: 'use POST' } }, { Allow: 'POST' });
    // Cross-origin pages cannot send this content type without a CORS preflight (which we never allow),
    // and a browser's Origin header must be ours.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== ownOrigin(req)) {
      return sendJson(res, 403, { error: { code: 'bad_request', message: 'cross-origin request refused' } });
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (contentType !== 'application/json') {
      return sendJson(res, 415, { error: { code: 'bad_request', message: 'Content-Type must be application/json' } });
    }
    let channel: string;
    try {
      channel = decodeURIComponent(rawPath.slice(INVOKE_PREFIX.length));
    } catch {
      return sendError(res, new IpcBadRequestError('malformed channel name'));
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === 'too-large') {
      return sendJson(res, 413, { error: { code: 'bad_request', message: `request body over ${maxBodyBytes} bytes` } }, { Connection: 'close' });
    }
    let payload: unknown;
    if (body.length > 0) {
      if (jsonNestsDeeperThan(body, MAX_JSON_DEPTH)) {
        return sendError(res, new IpcBadRequestError(`request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`));
      }
      const text = body.toString('utf8');
      try {
        payload = JSON.parse(text);
      } catch {
        return sendError(res, new IpcBadRequestError(`request body is ${jsonSyntaxError(text)}`));
      }
    }
    try {
      const result = await invokeChannel(handlers, channel, payload);
      sendJson(res, 200, { result: result ?? null });
    } catch (err) {
      sendError(res, err);
    }
  };

  /** Every binary route alike (pixels, mask): the handler table answers, errors as `{ error }` JSON. */
  const handleBinary = async (req: IncomingMessage, res: ServerResponse, { route, imageId }: BinaryRouteMatch): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: { code: 'bad_request', message: 'use GET' } }, { Allow: 'GET, HEAD' });
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== ownOrigin(req)) {
      return sendJson(res, 403, { error: { code: 'bad_request', message: 'cross-origin request refused' } });
    }
    if (imageId === null) return sendError(res, new IpcBadRequestError('malformed image id'));
    const answer = await handlers.binary[route](imageId);
    if (!answer.ok) return sendJson(res, answer.status, { error: answer.error });
    res.writeHead(200, { ...SECURITY_HEADERS, ...answer.headers });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  };

  const handleStatic = async (req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
    const found = await resolveStaticFile(rendererDir, rawPath);
    if (!found.ok) return sendText(res, found.status, found.status === 404 ? 'Not found' : `Refused: ${found.reason}`);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': contentTypeFor(found.file),
      'Content-Length': String(found.size),
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(found.file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    req.on('error', () => res.destroy());
    handle(req, res).catch((err: unknown) => {
      // Never crash the server over one request.
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    });
  };
  const httpServer: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : createServer(onRequest);
  httpServer.on('clientError', (_err, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  // Events: WebSocket on /api/events, behind the same Host, Origin and token checks as the API.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE });
  const refuseUpgrade = (socket: Duplex, status: number, text: string) => {
    if (!socket.writable) return socket.destroy();
    const response = `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${status === 401 ? 'WWW-Authenticate: Bearer\r\n' : ''}\r\n${text}`;
    socket.end(response, () => socket.destroy());
  };
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const rawUrl = req.url ?? '/';
    const path = rawUrl.split('?')[0];
    if (!hostAllowed(req)) return refuseUpgrade(socket, 403, 'Forbidden');
    if (path !== EVENTS_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== ownOrigin(req)) return refuseUpgrade(socket, 403, 'Forbidden');
    if (!authorize(req)) return refuseUpgrade(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      let alive = true;
      ws.on('pong', () => (alive = true));
      const heartbeat = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.ping();
      }, WS_HEARTBEAT_MS);
      heartbeat.unref();
      ws.on('close', () => {
        clearInterval(heartbeat);
        clients.delete(ws);
      });
      ws.on('error', () => ws.terminate());
      ws.on('message', () => undefined); // nothing to receive: events only go out
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, host, () => {
      httpServer.off('error', reject);
      resolveListen();
    });
  });
  port = (httpServer.address() as AddressInfo).port;
  allowedHosts = new Set([...hostNamesFor(host, options.allowedHosts ?? [])].map((name) => `${name}:${port}`));

  const origin = `${scheme}://${urlHostFor(host)}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    httpServer,
    authorize,
    broadcast,
    get eventClients() {
      return clients.size;
    },
    close: async () => {
      // a table this server made is this server's to end (save the project, stop jobs)
      if (ownHandlers) await handlers.dispose();
      await new Promise<void>((resolveClose, reject) => {
        for (const ws of clients) ws.terminate();
        clients.clear();
        wss.close();
        httpServer.close((err) => (err ? reject(err) : resolveClose()));
        httpServer.closeAllConnections();
      });
    },
  };
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** A name as the Host header writes it: lower case, IPv6 in brackets. */
function hostHeaderName(name: string): string {
  const h = name.toLowerCase().replace(/^\[|\]$/g, '');
  return isIP(h) === 6 ? `[${h}]` : h;
}

/**
 * The names a request's Host may carry (without the port): loopback, the address we listen on (for
 * a wildcard: every interface address of this machine, IP literals an attacker's DNS cannot forge),
 * and the names the user allowed.
 */
export function hostNamesFor(bind: string, allowed: readonly string[], interfaces = networkInterfaces()): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]']);
  const h = bind.toLowerCase();
  if (WILDCARDS.has(h)) {
    for (const list of Object.values(interfaces)) for (const a of list ?? []) if (!a.address.includes('%')) names.add(hostHeaderName(a.address));
  } else names.add(hostHeaderName(h));
  for (const name of allowed) names.add(hostHeaderName(name.trim()));
  return names;
}

/** The host to put in the printed URL: the listening address, or loopback for a wildcard. */
function urlHostFor(host: string): string {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === '0.0.0.0' || h === '::') return '127.0.0.1';
  return isIP(h) === 6 ? `[${h}]` : h;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolveBody('too-large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolveBody('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolveBody(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, body: { result: unknown } | { error: IpcErrorPayload }, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const error = toErrorPayload(err);
  sendJson(res, httpStatusFor(error.code), { error });
}
