/**
 * Browser mode beyond invoke: the pixels endpoint and the WebSocket event stream, over real HTTP on a
 * random loopback port, with the real handler table wired to the server's broadcast as main/serve.ts
 * does.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pixelsHeaderName, type PixelsHeader } from '../../common/api';
import type { RunningServer } from '../../main/server';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { servedHarness, type Harness } from '../ipc/harness';

let h: Harness;
let server: RunningServer;
let auth: Record<string, string>;

beforeAll(async () => {
  ({ h, server, auth } = await servedHarness());
});

afterAll(async () => {
  await server?.close();
  await h?.dispose();
});

const invoke = async (channel: string, payload: unknown) => {
  const res = await fetch(`${server.origin}/api/invoke/${channel}`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(payload) });
  const body = (await res.json()) as { result?: unknown; error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${res.status} ${body.error?.message}`);
  return body.result;
};

/** Connect to /api/events; resolves with the socket, or with the HTTP status of a refused upgrade. */
function connectEvents(headers: Record<string, string>, path = '/api/events'): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers });
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      res.resume();
    });
    ws.on('error', () => resolve({ status: -1 }));
  });
}

describe('authentication of the new routes', () => {
  it('401 without the token for invoke of the new channels, pixels, and the WebSocket upgrade', async () => {
    const invokeRes = await fetch(`${server.origin}/api/invoke/project:get`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'null' });
    expect(invokeRes.status).toBe(401);
    const pixels = await fetch(`${server.origin}/api/images/img-1/pixels`);
    expect(pixels.status).toBe(401);
    expect(pixels.headers.get(pixelsHeaderName)).toBeNull();
    expect((await connectEvents({})).status).toBe(401);
    expect((await connectEvents({ Authorization: `Bearer ${'f'.repeat(64)}` })).status).toBe(401);
    expect((await connectEvents({ Cookie: `ld_studio_token_${server.port}=${'0'.repeat(64)}` })).status).toBe(401);
  });

  it('the upgrade checks Origin, Host and path too', async () => {
    expect((await connectEvents({ ...auth, Origin: 'http://evil.example' })).status).toBe(403);
    expect((await connectEvents({ ...auth, Host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await connectEvents(auth, '/api/other')).status).toBe(404);
  });

  it('pixels: 404 with a message when no project is open or the image is unknown', async () => {
    const res = await fetch(`${server.origin}/api/images/img-1/pixels`, { headers: auth });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/no project is open/);
    expect((await fetch(`${server.origin}/api/images/img-1/pixels`, { method: 'POST', headers: auth })).status).toBe(405);
  });
});

describe('events over the WebSocket', () => {
  it('arrive with the token (bearer or the page cookie), as { event, payload } JSON, to every client', async () => {
    const a = (await connectEvents(auth)).ws!;
    const b = (await connectEvents({ Cookie: `ld_studio_token_${server.port}=${server.token}` })).ws!;
    expect(a && b).toBeTruthy();
    expect(server.eventClients).toBe(2);
    const received = (ws: WebSocket) => {
      const list: Array<{ event: string; payload: Record<string, unknown> }> = [];
      ws.on('message', (data) => list.push(JSON.parse(String(data))));
      return list;
    };
    const ra = received(a);
    const rb = received(b);
    await invoke('project:create', { dir: join(h.root, 'ws-project'), name: 'WS' });
    const until = Date.now() + 3000;
    while ((ra.length === 0 || rb.length === 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(ra[0]).toMatchObject({ event: 'project:changed', payload: { savedAt: expect.any(String) } });
    expect(rb[0]).toEqual(ra[0]);
    a.close();
    b.close();
    const closed = Date.now() + 2000;
    while (server.eventClients > 0 && Date.now() < closed) await new Promise((r) => setTimeout(r, 20));
    expect(server.eventClients).toBe(0);
  });
});

describe.skipIf(!hasSharedData)(`pixels over HTTP${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  it('a hand PNG and a CR DICOM: the X-LD-Pixels header and the byte length', async () => {
    await invoke('project:create', { dir: join(h.root, 'pixels-project') });
    const res = (await invoke('images:import', { jobId: 'px', paths: [dataPath('landmarks/hand/3231.png'), dataPath('dicom/cr/RG2_JPLL.dcm')] })) as {
      imported: Array<{ id: string; name: string; width: number; height: number }>;
    };
    const [png, dcm] = res.imported;
    for (const [image, bytesPer, dtype] of [[png, 1, 'uint8'], [dcm, 2, 'uint16']] as const) {
      const r = await fetch(`${server.origin}/api/images/${encodeURIComponent(image.id)}/pixels`, { headers: auth });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/octet-stream');
      const header = JSON.parse(r.headers.get(pixelsHeaderName)!) as PixelsHeader;
      expect(header).toMatchObject({ width: image.width, height: image.height, dtype });
      const body = Buffer.from(await r.arrayBuffer());
      expect(body.length).toBe(image.width * image.height * bytesPer);
      expect(Number(r.headers.get('content-length'))).toBe(body.length);
    }
    const head = await fetch(`${server.origin}/api/images/${png.id}/pixels`, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(head.headers.get(pixelsHeaderName)).toContain('"dtype":"uint8"');
    expect((await fetch(`${server.origin}/api/images/img-999/pixels`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.origin}/api/images/${png.id}/pixels`, { headers: { ...auth, Origin: 'http://evil.example' } })).status).toBe(403);
  });
});
