/**
 * project:create refusals are the user's to fix, so they carry a user-error code, not `internal`
 * (issue 16: each came back as HTTP 500): a folder that already holds a project or a file in the
 * way is `conflict`, a folder that cannot be made or written is `precondition` (both HTTP 409).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toErrorPayload } from '../../main/ipc/errors';
import type { RunningServer } from '../../main/server';
import { servedHarness, type Harness } from './harness';

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('project:create errors', () => {
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

  it('a folder that already holds a project, or a file where the folder should be: conflict', async () => {
    const dir = join(h.root, 'p');
    await h.invoke('project:create', { dir });
    expect(toErrorPayload(await errorOf(h.invoke('project:create', { dir })))).toMatchObject({ code: 'conflict', message: expect.stringMatching(/already holds a project/) });
    const file = join(h.root, 'a-file');
    writeFileSync(file, 'x');
    expect(toErrorPayload(await errorOf(h.invoke('project:create', { dir: file })))).toMatchObject({ code: 'conflict', message: expect.stringMatching(/this is a file; choose a folder/) });
  });

  it('a folder that cannot be made: precondition, HTTP 409 in browser mode', async () => {
    const file = join(h.root, 'in-the-way');
    writeFileSync(file, 'x');
    expect(toErrorPayload(await errorOf(h.invoke('project:create', { dir: join(file, 'sub') }))).code).toBe('precondition');
    const res = await fetch(`${server.origin}/api/invoke/project:create`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ dir: join(file, 'sub') }),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('precondition');
  });
});
