/**
 * The transport-free handler table (main/ipc): payload validation, unknown channels, real handlers.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, PreconditionError } from '../../common/errors';
import { ImageReadError } from '../../main/io/imageRecord';
import { channels, requestSchemas } from '../../main/ipc/contract';
import {
  createHandlerTable,
  httpStatusFor,
  invokeChannel,
  IpcUnknownChannelError,
  IpcValidationError,
  toErrorPayload,
} from '../../main/ipc/registry';

const table = createHandlerTable({ configDir: join(tmpdir(), 'ld-ipc-test-config'), sampleImagesDir: null });

describe('handler table', () => {
  it('has exactly one entry per contract channel', () => {
    expect([...table.keys()].sort()).toEqual([...channels].sort());
    expect(Object.keys(requestSchemas)).toEqual(expect.arrayContaining(['app:ping', 'engine:info', 'project:open', 'images:import', 'train:start', 'landmarks:propagate', 'export:landmarks', 'job:cancel']));
    expect(Object.keys(requestSchemas)).toHaveLength(channels.length);
  });

  it('app:ping echoes the nonce', async () => {
    await expect(invokeChannel(table, 'app:ping', { nonce: 'abc' })).resolves.toEqual({ nonce: 'abc' });
  });

  const garbage: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a string', 'nonce'],
    ['an array', [{ nonce: 'x' }]],
    ['a wrong type', { nonce: 5 }],
    ['an empty nonce', { nonce: '' }],
    ['an unknown key', { nonce: 'x', extra: true }],
    ['a prototype-polluting key', JSON.parse('{"nonce":"x","__proto__":{"admin":true}}')],
  ];
  it.each(garbage)('app:ping refuses %s with an IpcValidationError naming the channel', async (_label, payload) => {
    const err = await invokeChannel(table, 'app:ping', payload).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IpcValidationError);
    const v = err as IpcValidationError;
    expect(v.channel).toBe('app:ping');
    expect(v.message).toContain("'app:ping'");
    expect(v.zodIssues.length).toBeGreaterThan(0);
    expect(v.issues?.length).toBeGreaterThan(0);
    // Serialisable as is: what crosses IPC / HTTP.
    const payloadOut = toErrorPayload(err);
    expect(payloadOut.code).toBe('validation');
    expect(JSON.parse(JSON.stringify(payloadOut))).toEqual(payloadOut);
    expect(httpStatusFor(payloadOut.code)).toBe(400);
  });

  it('points validation issues at the offending field', async () => {
    const err = (await invokeChannel(table, 'app:ping', { nonce: 5 }).catch((e: unknown) => e)) as IpcValidationError;
    expect(err.issues).toEqual([expect.objectContaining({ path: ['nonce'], code: 'invalid_type' })]);
    expect(err.message).toMatch(/^invalid payload for 'app:ping': nonce: /);
  });

  it.each([['nothing', undefined], ['null', null], ['{}', {}]])('engine:info accepts %s as "no payload"', async (_l, payload) => {
    const info = await invokeChannel(table, 'engine:info', payload);
    expect(info.backends.map((b) => b.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
  });

  it('engine:info refuses a payload it does not take', async () => {
    await expect(invokeChannel(table, 'engine:info', { refresh: true })).rejects.toBeInstanceOf(IpcValidationError);
    await expect(invokeChannel(table, 'engine:info', 'x')).rejects.toThrow("invalid payload for 'engine:info'");
  });

  it('engine:info reports real backends and versions (wasm available, missing packages as null)', async () => {
    const info = await invokeChannel(table, 'engine:info', undefined);
    const wasm = info.backends.find((b) => b.name === 'wasm');
    expect(wasm).toMatchObject({ available: true, version: '4.22.0' });
    expect(info.versions['tfjs-core']).toBe('4.22.0');
    expect(info.versions.node).toBe(process.versions.node);
    for (const v of Object.values(info.versions)) expect(v === null || typeof v === 'string').toBe(true);
    for (const b of info.backends) expect(b.detail.length).toBeGreaterThan(0);
  });

  it.each(['nope:nothing', '', 'constructor', '__proto__', 'toString', 'app:ping '])('unknown channel %j is a clear error', async (channel) => {
    const err = await invokeChannel(table, channel, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpcUnknownChannelError);
    expect((err as Error).message).toContain('unknown IPC channel');
    expect((err as Error).message).toContain('app:ping'); // lists the known ones
    expect(toErrorPayload(err).code).toBe('unknown_channel');
    expect(httpStatusFor('unknown_channel')).toBe(404);
  });

  it('a non-string channel is an unknown channel, not a crash', async () => {
    await expect(invokeChannel(table, 42 as unknown as string, {})).rejects.toBeInstanceOf(IpcUnknownChannelError);
  });

  it('user mistakes are "not_found" (404) or "precondition" (409), whichever layer threw them', () => {
    expect(toErrorPayload(new NotFoundError("no image 'x'"))).toEqual({ code: 'not_found', message: "no image 'x'" });
    expect(toErrorPayload(new PreconditionError('no project is open'))).toEqual({ code: 'precondition', message: 'no project is open' });
    expect(toErrorPayload(new ImageReadError('/a.png', 'file not found', 'missing')).code).toBe('not_found');
    expect(toErrorPayload(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })).code).toBe('not_found');
    expect(toErrorPayload(new ImageReadError('/a.png', 'truncated', 'truncated')).code).toBe('internal');
    expect([httpStatusFor('not_found'), httpStatusFor('precondition'), httpStatusFor('internal')]).toEqual([404, 409, 500]);
  });

  it('other errors become "internal" with the message and no stack', () => {
    const e = new Error('disk full');
    expect(toErrorPayload(e)).toEqual({ code: 'internal', message: 'disk full' });
    expect(toErrorPayload('weird')).toEqual({ code: 'internal', message: 'weird' });
  });
});
