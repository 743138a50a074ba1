/**
 * Browser mode (main/server.ts) over real HTTP: the real server on a random loopback port, the real
 * handler table, a temporary renderer folder with a secret file beside it (for traversal checks),
 * and, when `electron-vite build` has run, the real out/renderer.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, startServer, type RunningServer } from '../../main/server';
import { CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_META } from '../../main/static';

const SECRET = 'top-secret-outside-the-renderer';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http with the path and headers exactly as given (fetch would normalise `..` and set Host). */
function raw(port: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolveRes, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveRes({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

let dir: string;
let rendererDir: string;
let server: RunningServer;
let base: string;
let auth: Record<string, string>;

function invoke(channel: string, body: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/invoke/${channel}`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json', ...headers },
    body,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ld-studio-server-'));
  rendererDir = join(dir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'secret.txt'), SECRET);
  writeFileSync(join(dir, 'renderer-evil.txt'), SECRET); // a sibling whose name starts with the root's
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>test renderer</title>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'export {};');
  writeFileSync(join(rendererDir, 'assets', 'worker.mjs'), 'export {};');
  writeFileSync(join(rendererDir, 'assets', 'style.css'), 'body{}');
  writeFileSync(join(rendererDir, 'assets', 'codec.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  server = await startServer({ port: 0, rendererDir, maxBodyBytes: 64 * 1024 });
  base = server.origin;
  auth = { Authorization: `Bearer ${server.token}` };
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('startup', () => {
  it('listens on loopback with a random 32-byte hex token and returns the URL with it', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.url).toBe(`${server.origin}/?token=${server.token}`);
  });

  it('refuses a non-loopback host unless allowRemote', async () => {
    await expect(startServer({ rendererDir, host: '0.0.0.0' })).rejects.toThrow(/non-loopback host '0.0.0.0'.*allowRemote/);
    await expect(startServer({ rendererDir, host: '192.168.1.10' })).rejects.toThrow(/non-loopback/);
    expect(['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.com', '127.0.0.1.nip.io'].some(isLoopbackHost)).toBe(false);
  });

  it('refuses a weak token and gives each server its own', async () => {
    await expect(startServer({ rendererDir, token: 'short' })).rejects.toThrow(/token/);
    const other = await startServer({ rendererDir });
    try {
      expect(other.token).not.toBe(server.token);
      expect(other.port).not.toBe(server.port);
      // One server's token does not open the other.
      expect((await fetch(`${other.origin}/`, { headers: auth })).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('authentication', () => {
  it('401 without a token, for pages and API', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(401);
    expect(await page.text()).not.toContain('test renderer');
    const api = await fetch(`${base}/api/invoke/app:ping`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"nonce":"x"}' });
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('401 with a wrong token (bearer, query or cookie)', async () => {
    const wrong = 'f'.repeat(64);
    expect((await fetch(`${base}/`, { headers: { Authorization: `Bearer ${wrong}` } })).status).toBe(401);
    expect((await fetch(`${base}/?token=${wrong}`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${base}/`, { headers: { Cookie: `ld_studio_token_${server.port}=${wrong}` } })).status).toBe(401);
    expect((await fetch(`${base}/`, { headers: { Authorization: `Basic ${server.token}` } })).status).toBe(401);
  });

  it('200 with the bearer token, with the CSP header', async () => {
    const res = await fetch(`${base}/`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('test renderer');
  });

  it('?token= on a page load sets an HttpOnly SameSite=Strict cookie and redirects without the token', async () => {
    const first = await fetch(`${base}/?token=${server.token}&mode=review`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/?mode=review');
    const [cookie] = first.headers.getSetCookie();
    expect(cookie).toMatch(new RegExp(`^ld_studio_token_${server.port}=${server.token}; `));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const jar = cookie.split(';')[0];

    const page = await fetch(`${base}/?mode=review`, { headers: { Cookie: jar } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('test renderer');
    // The renderer's fetches then carry the cookie (same origin).
    const api = await fetch(`${base}/api/invoke/app:ping`, {
      method: 'POST',
      headers: { Cookie: jar, 'Content-Type': 'application/json' },
      body: JSON.stringify({ nonce: 'via-cookie' }),
    });
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({ result: { nonce: 'via-cookie' } });
  });

  it('?token= is not accepted on the API (only bearer or cookie)', async () => {
    const res = await fetch(`${base}/api/invoke/app:ping?token=${server.token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"nonce":"x"}',
    });
    expect(res.status).toBe(401);
  });
});

describe('Host header (DNS rebinding)', () => {
  it.each(['evil.example:PORT', 'evil.example', '127.0.0.1', '127.0.0.1:1', 'localhost.evil.example:PORT', '127.0.0.1:PORT.evil.example'])(
    'refuses Host %j with 403 even with the token',
    async (host) => {
      const res = await raw(server.port, '/', { headers: { ...auth, Host: host.replace('PORT', String(server.port)) } });
      expect(res.status).toBe(403);
      expect(res.body).not.toContain('test renderer');
    },
  );

  it.each([
    ['HTTP/1.0 without Host', 'HTTP/1.0', ''],
    ['HTTP/1.1 without Host', 'HTTP/1.1', ''],
    ['an empty Host', 'HTTP/1.1', 'Host: \r\n'],
  ])('refuses %s', async (_label, version, hostLine) => {
    const response = await new Promise<string>((done, fail) => {
      let text = '';
      const sock = connect(server.port, '127.0.0.1', () =>
        sock.write(`GET / ${version}\r\n${hostLine}Authorization: Bearer ${server.token}\r\nConnection: close\r\n\r\n`),
      );
      sock.on('data', (d: Buffer) => (text += d.toString('utf8')));
      sock.on('end', () => done(text));
      sock.on('error', fail);
    });
    expect(response).toMatch(/^HTTP\/1\.[01] (400|403) /);
    expect(response).not.toContain('test renderer');
  });

  it.each(['127.0.0.1:PORT', 'localhost:PORT', 'LOCALHOST:PORT', '[::1]:PORT'])('accepts Host %j', async (host) => {
    const res = await raw(server.port, '/', { headers: { ...auth, Host: host.replace('PORT', String(server.port)) } });
    expect(res.status).toBe(200);
  });
});

describe('API', () => {
  it('engine:info returns the real engine information (wasm available)', async () => {
    const res = await invoke('engine:info', undefined);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const { result } = (await res.json()) as { result: { versions: Record<string, string | null>; backends: { name: string; available: boolean; detail: string }[] } };
    expect(result.backends.find((b) => b.name === 'wasm')?.available).toBe(true);
    expect(result.versions['tfjs-core']).toBe('4.22.0');
    expect(Object.keys(result.versions)).toContain('tfjs-node'); // null, not dropped
  });

  it('engine:info accepts null, {} and an empty body; the channel may be percent-encoded', async () => {
    for (const body of ['null', '{}', undefined]) expect((await invoke('engine:info', body)).status).toBe(200);
    expect((await invoke('engine%3Ainfo', '{}')).status).toBe(200);
  });

  it('app:ping round-trips', async () => {
    const res = await invoke('app:ping', JSON.stringify({ nonce: 'n-1' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: { nonce: 'n-1' } });
  });

  it.each(['{', '{"nonce": }', 'nonce=x', '\u0000\u0001', '{"nonce":"x"}{"nonce":"y"}', '[1,2'])('malformed JSON %j → 400, server keeps serving', async (body) => {
    const res = await invoke('app:ping', body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('bad_request');
    expect(error.message).toMatch(/not valid JSON/);
    expect((await invoke('app:ping', '{"nonce":"alive"}')).status).toBe(200);
  });

  it('a malformed body is answered with where, never with its content', async () => {
    const { error } = (await (await invoke('app:ping', 'root:x:0:0:root:/root:/bin/bash')).json()) as { error: { message: string } };
    expect(error.message).toBe('request body is not valid JSON (at line 1, column 1)');
  });

  it('a body nested deeper than 64 levels is refused before parsing; 64 levels, and brackets in strings, are not', async () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const deep = await invoke('app:ping', nested(65));
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { error: { message: string } }).error.message).toBe('request body nests arrays or objects deeper than 64 levels');
    const at64 = (await (await invoke('app:ping', nested(64))).json()) as { error: { code: string } };
    expect(at64.error.code).toBe('validation'); // parsed, then refused by the channel's schema
    expect((await invoke('app:ping', JSON.stringify({ nonce: '['.repeat(1000) }))).status).toBe(200);
  });

  it('16 MiB of "[" is refused at once and holds no other request up', async () => {
    const big = await startServer({ port: 0, rendererDir }); // the default 16 MiB body limit
    try {
      const post = (body: string) =>
        fetch(`${big.origin}/api/invoke/app:ping`, { method: 'POST', headers: { Authorization: `Bearer ${big.token}`, 'Content-Type': 'application/json' }, body });
      const [bomb, ping] = await Promise.all([post('['.repeat(16 * 1024 * 1024 - 1)), post('{"nonce":"meanwhile"}')]);
      expect(bomb.status).toBe(400);
      expect(((await bomb.json()) as { error: { message: string } }).error.message).toMatch(/deeper than 64 levels/);
      expect(await ping.json()).toEqual({ result: { nonce: 'meanwhile' } });
    } finally {
      await big.close();
    }
  });

  it('a bad payload → 400 with the validation issues', async () => {
    const res = await invoke('app:ping', JSON.stringify({ nonce: 7, extra: 1 }));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string; issues: { path: (string | number)[]; code: string }[] } };
    expect(error.code).toBe('validation');
    expect(error.message).toContain("'app:ping'");
    expect(error.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['nonce']));
    expect(error.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
    expect(JSON.stringify(error)).not.toMatch(/at .*\.ts:\d+/); // no stack
  });

  it('an unknown channel → 404', async () => {
    for (const channel of ['nope:nothing', 'constructor', '__proto__']) {
      const res = await invoke(channel, '{}');
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unknown_channel');
    }
    expect((await invoke('%E0%A4%A', '{}')).status).toBe(400); // malformed percent-encoding
    expect((await fetch(`${base}/api/other`, { headers: auth })).status).toBe(404);
  });

  it('only POST with application/json, same origin, bounded size', async () => {
    const get = await fetch(`${base}/api/invoke/app:ping`, { headers: auth });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await invoke('app:ping', '{"nonce":"x"}', { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await invoke('app:ping', '{"nonce":"x"}', { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await invoke('app:ping', '{"nonce":"x"}', { Origin: base })).status).toBe(200);
    const big = JSON.stringify({ nonce: 'x'.repeat(100 * 1024) });
    expect((await invoke('app:ping', big)).status).toBe(413);
    expect((await invoke('app:ping', '{"nonce":"after-413"}')).status).toBe(200);
  });

  it('survives bytes that are not HTTP at all', async () => {
    await new Promise<void>((done) => {
      const sock = connect(server.port, '127.0.0.1', () => sock.end('\u0016\u0003\u0001garbage\r\n\r\n'));
      sock.on('data', () => undefined);
      sock.on('close', () => done());
      sock.on('error', () => done());
    });
    expect((await invoke('app:ping', '{"nonce":"still-up"}')).status).toBe(200);
  });
});

describe('static files', () => {
  it.each([
    ['/assets/app.js', 'text/javascript; charset=utf-8'],
    ['/assets/worker.mjs', 'text/javascript; charset=utf-8'],
    ['/assets/style.css', 'text/css; charset=utf-8'],
    ['/assets/codec.wasm', 'application/wasm'],
    ['/index.html', 'text/html; charset=utf-8'],
  ])('%s is served as %s with the CSP header', async (path, type) => {
    const res = await fetch(`${base}${path}`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('404 for a missing file, 405 for other methods, HEAD works', async () => {
    expect((await fetch(`${base}/assets/missing.js`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/index.html`, { method: 'PUT', headers: auth, body: 'x' })).status).toBe(405);
    const head = await fetch(`${base}/assets/app.js`, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
  });

  it.each([
    '/../secret.txt',
    '/../../package.json',
    '/../package.json',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..%5csecret.txt',
    '/assets\\..\\..\\secret.txt',
    '/../renderer-evil.txt',
    '/%2e%2e/renderer-evil.txt',
    '/index.html%00.js',
    '/./index.html',
  ])('refuses path traversal %s', async (path) => {
    const res = await raw(server.port, path, { headers: auth });
    expect([400, 403, 404]).toContain(res.status);
    expect(res.body).not.toContain(SECRET);
    expect(res.body).not.toContain('"name": "ld-studio"');
  });

  it('decodes only once (a double-encoded dot-dot is a literal name, not found)', async () => {
    const res = await raw(server.port, '/%252e%252e/secret.txt', { headers: auth });
    expect(res.status).toBe(404);
  });
});

describe('renderer/index.html', () => {
  it('carries a CSP meta tag equal to the header minus frame-ancestors', () => {
    const html = readFileSync(resolve(__dirname, '../../renderer/index.html'), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html);
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY_META);
    expect(CONTENT_SECURITY_POLICY).toBe(`${CONTENT_SECURITY_POLICY_META}; frame-ancestors 'none'`);
  });
});

const builtRenderer = resolve(__dirname, '../../out/renderer');
const hasBuild = existsSync(join(builtRenderer, 'index.html'));
if (!hasBuild) console.warn(`[skip] built renderer not found at ${builtRenderer}: run \`npx electron-vite build\` to test serving it`);

describe.skipIf(!hasBuild)('the built renderer (out/renderer)', () => {
  let built: RunningServer;
  beforeAll(async () => {
    built = await startServer({ rendererDir: builtRenderer });
  });
  afterAll(async () => {
    await built?.close();
  });

  it('serves index.html and every asset it references, with the right types', async () => {
    const headers = { Authorization: `Bearer ${built.token}` };
    const page = await fetch(`${built.origin}/`, { headers });
    expect(page.status).toBe(200);
    const html = await page.text();
    const refs = [...html.matchAll(/(?:src|href)="\.?\/?([^"]+)"/g)].map((m) => m[1]);
    expect(refs.some((r) => r.endsWith('.js'))).toBe(true);
    for (const ref of refs) {
      const res = await fetch(`${built.origin}/${ref}`, { headers });
      expect(res.status, ref).toBe(200);
      const type = res.headers.get('content-type') ?? '';
      if (ref.endsWith('.js')) expect(type).toMatch(/^text\/javascript/);
      if (ref.endsWith('.css')) expect(type).toMatch(/^text\/css/);
    }
  });
});
