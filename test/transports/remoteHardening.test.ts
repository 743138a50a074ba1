/**
 * Browser mode beyond loopback (issue 16): the token travelled over plain HTTP and any IP literal was
 * accepted as the Host. Now: HTTPS with a certificate and key (a self-signed one made here with
 * openssl), a warning for --allow-remote without TLS, and a Host allow-list (loopback, the bind
 * address, --allow-host names). And ELECTRON_RENDERER_URL is taken only on this machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDevServerUrl } from '../../main/args';
import { hostNamesFor, startServer, type RunningServer } from '../../main/server';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const openssl = hasOpenssl();

let dir: string;
let rendererDir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ld-studio-remote-'));
  rendererDir = join(dir, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>test</title>');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(server: RunningServer, path: string, headers: Record<string, string>, tls?: { ca: Buffer }): Promise<Answer> {
  return new Promise((resolveRes, reject) => {
    const options = { host: '127.0.0.1', port: server.port, path, headers, ...(tls ? { ca: tls.ca, servername: 'localhost' } : {}) };
    const req = (tls ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveRes({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!openssl)(`HTTPS with --tls-cert/--tls-key${openssl ? '' : ' (skipped: no openssl on PATH to make a test certificate)'}`, () => {
  let server: RunningServer;
  let ca: Buffer;
  beforeAll(async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
    ca = readFileSync(cert);
    server = await startServer({ rendererDir, tls: { cert: ca, key: readFileSync(key) } });
  });
  afterAll(() => server?.close());

  it('serves the page and the API over TLS, the origin is https, and the token cookie is Secure', async () => {
    expect(server.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url.startsWith(`${server.origin}/?token=`)).toBe(true);
    const host = `127.0.0.1:${server.port}`;
    const swap = await get(server, `/?token=${server.token}`, { Host: host }, { ca });
    expect(swap.status).toBe(303);
    expect(String(swap.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict; Secure/);
    const page = await get(server, '/', { Host: host, Authorization: `Bearer ${server.token}` }, { ca });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>test</title>');
  });

  it('a plain-HTTP client gets no answer it can read', async () => {
    await expect(get(server, '/', { Host: `127.0.0.1:${server.port}` }).then((a) => a.status)).rejects.toThrow();
  });
});

describe('Host allow-list', () => {
  let server: RunningServer;
  const warnings: string[] = [];
  beforeAll(async () => {
    // allowRemote on a loopback address: the Host rules are those of a remote server, nothing leaves the machine
    server = await startServer({ rendererDir, allowRemote: true, allowedHosts: ['Workstation.Lab'], warn: (m) => warnings.push(m) });
  });
  afterAll(() => server?.close());

  const status = async (host: string) => (await get(server, '/', { Host: host.replace('PORT', String(server.port)), Authorization: `Bearer ${server.token}` })).status;

  it('accepts loopback names, the bind address and --allow-host names on our port', async () => {
    for (const host of ['127.0.0.1:PORT', 'localhost:PORT', '[::1]:PORT', 'workstation.lab:PORT', 'WORKSTATION.LAB:PORT']) expect(await status(host), host).toBe(200);
  });

  it('refuses any other name or address, IP literals included, and another port', async () => {
    for (const host of ['10.9.8.7:PORT', '[fe80::1]:PORT', 'evil.example:PORT', 'workstation.lab:1']) expect(await status(host), host).toBe(403);
  });

  it('the names for a wildcard bind are this machine\'s interface addresses, IPv6 in brackets, zone ids left out', () => {
    const interfaces = {
      eth0: [
        { address: '192.168.1.20', family: 'IPv4' },
        { address: 'fe80::1%eth0', family: 'IPv6' },
        { address: '2001:db8::5', family: 'IPv6' },
      ],
    } as unknown as ReturnType<typeof import('node:os').networkInterfaces>;
    expect([...hostNamesFor('0.0.0.0', ['ws.lab'], interfaces)].sort()).toEqual(['127.0.0.1', '192.168.1.20', '[2001:db8::5]', '[::1]', 'localhost', 'ws.lab'].sort());
    expect([...hostNamesFor('10.0.0.4', [], interfaces)].sort()).toEqual(['10.0.0.4', '127.0.0.1', '[::1]', 'localhost'].sort());
  });

  it('warns when --allow-remote listens beyond loopback without TLS', async () => {
    const said: string[] = [];
    const open = await startServer({ rendererDir, host: '0.0.0.0', allowRemote: true, warn: (m) => said.push(m) });
    await open.close();
    expect(said.join('\n')).toMatch(/without TLS the token and every image cross the network unencrypted; give --tls-cert <pem> --tls-key <pem>/);
    expect(warnings).toEqual([]); // loopback: no warning
  });
});

describe('ELECTRON_RENDERER_URL', () => {
  it.each(['http://localhost:5173', 'http://127.0.0.1:5173/', 'https://[::1]:5173/index.html', 'http://127.0.0.2:80'])('accepts %s', (url) => {
    expect(checkDevServerUrl(url).url).toBe(new URL(url).href);
  });

  it.each(['https://evil.example/', 'http://192.168.1.5:5173', 'file:///tmp/index.html', 'http://localhost.evil.example:5173', 'http://user:pw@localhost:5173', 'javascript:alert(1)', 'not a url'])(
    'refuses %s',
    (url) => {
      const checked = checkDevServerUrl(url);
      expect(checked.url).toBeUndefined();
      expect(checked.refused).toMatch(/ELECTRON_RENDERER_URL/);
    },
  );

  it('unset is no dev server', () => {
    expect(checkDevServerUrl(undefined)).toEqual({});
  });
});
