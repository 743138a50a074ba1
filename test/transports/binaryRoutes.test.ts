/**
 * The binary routes (pixels, mask) as the contract declares them (common/api.ts `BinaryRoutes`): one
 * path helper for the renderer and the transports, one handler table (main/ipc/binaryRoutes.ts) that
 * the compiler holds to the contract, and browser mode answering every route through that table.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryRouteHeaders, binaryRoutePath, matchBinaryRoute, type BinaryRoute, type MaskHeader, type PixelsHeader } from '../../common/api';
import { binaryError, binaryHandlers, createBinaryTable, type BinaryHandlers } from '../../main/ipc/binaryRoutes';
import { PixelsError } from '../../main/ipc/pixels';
import { Session } from '../../main/ipc/session';
import { NotFoundError } from '../../common/errors';
import { servedHarness, type Harness } from '../ipc/harness';
import type { RunningServer } from '../../main/server';

const PIXELS: PixelsHeader = { width: 2, height: 1, dtype: 'uint8', min: 0, max: 9, windowCenter: 4.5, windowWidth: 9, invert: false };
const MASK: MaskHeader = { imageId: 'a', source: 'corrected', accepted: false, foreground: 0.5, updatedAt: '2024-01-01T00:00:00.000Z', width: 2, height: 1 };

describe('the contract: paths of the binary routes', () => {
  it('binaryRoutePath builds a relative path that matchBinaryRoute reads back, any id', () => {
    for (const route of Object.keys(binaryRouteHeaders) as BinaryRoute[]) {
      for (const id of ['img-1', 'a b/c?d#e%f', 'ü', '..']) {
        const path = binaryRoutePath(route, id);
        expect(path.startsWith('api/images/')).toBe(true);
        expect(matchBinaryRoute(path)).toEqual({ route, imageId: id });
        expect(matchBinaryRoute(`/${path}`)).toEqual({ route, imageId: id });
      }
    }
    expect(binaryRoutePath('pixels', 'img 1')).toBe('api/images/img%201/pixels');
    expect(binaryRoutePath('mask', 'img-1')).toBe('api/images/img-1/mask');
  });

  it('only declared routes match (no prototype names); a bad escape is a match without an id', () => {
    for (const path of ['/api/images/x/other', '/api/images/x/constructor', '/api/images/x/__proto__', '/api/images//pixels', '/api/images/x/pixels/', '/api/invoke/app:ping', '/x/api/images/x/mask']) {
      expect(matchBinaryRoute(path), path).toBeNull();
    }
    expect(matchBinaryRoute('/api/images/%E0%A4%A/mask')).toEqual({ route: 'mask', imageId: null });
  });

  it('the handler table must cover every declared route, each with its own header type', () => {
    const pixels: BinaryHandlers['pixels'] = async () => ({ header: PIXELS, body: new Uint8Array(2) });
    // @ts-expect-error a route of the contract (mask) without a handler
    const missing: BinaryHandlers = { pixels };
    // @ts-expect-error the mask route answering with the pixels' header
    const wrongHeader: BinaryHandlers = { pixels, mask: pixels };
    expect([missing, wrongHeader]).toHaveLength(2);
  });
});

describe('the binary table: one answer shape and one error mapping for every route', () => {
  const session = new Session({ configDir: join(tmpdir(), 'ld-binary-routes-config'), sampleImagesDir: null });
  const fake: BinaryHandlers = {
    pixels: async (_s, id) => {
      if (id === 'gone') throw new PixelsError(404, 'gone.png: the file is missing');
      if (id === 'bad') throw new PixelsError(422, 'bad.png: not an image');
      return { header: PIXELS, body: new Uint8Array([1, 2]) };
    },
    mask: async (_s, id) => {
      if (id === 'broken') throw new Error('disk on fire');
      if (id === 'unknown') throw new NotFoundError('no such image');
      return { header: { ...MASK, imageId: id }, body: new Uint8Array([0, 1]) };
    },
  };
  const table = createBinaryTable(session, fake);

  it('200: the body, its length, the route header as JSON, no caching', async () => {
    const px = await table.pixels('a');
    expect(px).toMatchObject({ ok: true, status: 200 });
    if (!px.ok) throw new Error('unreachable');
    expect(px.headers).toEqual({ 'Content-Type': 'application/octet-stream', 'Content-Length': '2', 'X-LD-Pixels': JSON.stringify(PIXELS), 'Cache-Control': 'no-store' });
    const mask = await table.mask('m');
    if (!mask.ok) throw new Error(mask.error.message);
    expect(JSON.parse(mask.headers['X-LD-Mask'])).toEqual({ ...MASK, imageId: 'm' });
    expect([...mask.body]).toEqual([0, 1]);
  });

  it('errors: PixelsError keeps its status, the rest maps as the IPC errors do', async () => {
    expect(await table.pixels('gone')).toEqual({ ok: false, status: 404, error: { code: 'not_found', message: 'gone.png: the file is missing' } });
    expect(await table.pixels('bad')).toMatchObject({ ok: false, status: 422 });
    expect(await table.mask('broken')).toEqual({ ok: false, status: 500, error: { code: 'internal', message: 'disk on fire' } });
    expect(await table.mask('unknown')).toMatchObject({ ok: false, status: 404, error: { code: 'not_found' } });
    expect(binaryError(new PixelsError(500, 'x'))).toEqual({ status: 500, error: { code: 'internal', message: 'x' } });
  });

  it('the real table: no project open is a 404 on every route', async () => {
    const real = createBinaryTable(session);
    for (const route of Object.keys(binaryRouteHeaders) as BinaryRoute[]) {
      expect(await real[route]('img-1')).toMatchObject({ ok: false, status: 404, error: { message: 'no project is open' } });
    }
  });
});

describe('browser mode answers every binary route through the handler table', () => {
  let h: Harness;
  let server: RunningServer;
  let auth: Record<string, string>;
  const calls: string[] = [];
  beforeAll(async () => {
    ({ h, server, auth } = await servedHarness());
    await h.invoke('project:create', { dir: join(h.root, 'binary-project') });
    // the table's binary routes with spies in front of the real handlers
    const spy: BinaryHandlers = {
      pixels: async (session, id) => (calls.push(`pixels ${id}`), id === 'fake' ? { header: PIXELS, body: new Uint8Array([7, 8]) } : binaryHandlers.pixels(session, id)),
      mask: async (session, id) => (calls.push(`mask ${id}`), id === 'fake' ? { header: MASK, body: new Uint8Array([1, 0]) } : binaryHandlers.mask(session, id)),
    };
    Object.assign(h.table, { binary: createBinaryTable(h.table.session, spy) });
  });
  afterAll(async () => {
    await server?.close();
    await h?.dispose();
  });

  const get = (path: string, init: RequestInit = {}) => fetch(`${server.origin}/${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });

  it('both routes: 200 with the route header and body; HEAD has the header only', async () => {
    const px = await get(binaryRoutePath('pixels', 'fake'));
    expect(px.status).toBe(200);
    expect(JSON.parse(px.headers.get(binaryRouteHeaders.pixels)!)).toEqual(PIXELS);
    expect([...new Uint8Array(await px.arrayBuffer())]).toEqual([7, 8]);
    const mask = await get(binaryRoutePath('mask', 'fake'));
    expect(mask.status).toBe(200);
    expect(JSON.parse(mask.headers.get(binaryRouteHeaders.mask)!)).toEqual(MASK);
    expect([...new Uint8Array(await mask.arrayBuffer())]).toEqual([1, 0]);
    const head = await get(binaryRoutePath('mask', 'fake'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get(binaryRouteHeaders.mask)).toBe(JSON.stringify(MASK));
    expect(calls).toEqual(['pixels fake', 'mask fake', 'mask fake']);
  });

  it('404 for an unknown image on both routes, 400 for a malformed id, 404 for an undeclared route', async () => {
    calls.length = 0;
    for (const route of ['pixels', 'mask'] as const) {
      const res = await get(binaryRoutePath(route, 'img-999'));
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/no image 'img-999' in this project/);
    }
    expect(calls).toEqual(['pixels img-999', 'mask img-999']);
    expect((await get('api/images/%E0%A4%A/pixels')).status).toBe(400);
    expect((await get('api/images/img-1/other')).status).toBe(404);
    expect(calls).toHaveLength(2);
  });
});
