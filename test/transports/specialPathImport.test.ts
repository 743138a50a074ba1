/**
 * Special paths through browser mode (issue 16). Importing a named pipe, again and again, or /dev/zero
 * answers with a failure naming the file, and the server goes on answering (before, a pipe held a
 * file-I/O thread forever and /dev/zero grew memory until killed). Creating a project where no
 * folder can be made (/proc/nope) fails with a message naming the folder (before, a recursive
 * mkdirSync looped forever on the server's only thread). A project file that is a link to /etc/passwd
 * is refused as not JSON, without quoting a byte of it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../ipc/harness';
import { servedHarness } from '../ipc/harness';
import type { RunningServer } from '../../main/server';

let h: Harness;
let server: RunningServer;
let auth: Record<string, string>;

beforeAll(async () => {
  ({ h, server, auth } = await servedHarness());
});
afterAll(async () => {
  await server.close();
  await h.dispose();
});

/** POST a channel; a request that gets no answer in 2 s fails here instead of hanging the suite. */
async function invoke(channel: string, payload: unknown): Promise<{ status: number; body: { result?: unknown; error?: { message: string } } }> {
  const res = await fetch(`${server.origin}/api/invoke/${channel}`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(2000),
  });
  return { status: res.status, body: (await res.json()) as { result?: unknown; error?: { message: string } } };
}

describe('images:import of special files', () => {
  it('a FIFO (four times) and /dev/zero fail, each named, and the server keeps answering', async () => {
    const dir = join(h.root, 'project');
    expect((await invoke('project:create', { dir, name: 'special' })).status).toBe(200);
    const fifo = join(h.root, 'x.dcm');
    execFileSync('mkfifo', [fifo]);

    for (let i = 0; i < 4; i++) {
      const { status, body } = await invoke('images:import', { jobId: `fifo-${i}`, paths: [fifo] });
      expect(status).toBe(200);
      expect(body.result).toMatchObject({ imported: [], failed: [{ path: fifo, reason: expect.stringMatching(/named pipe \(FIFO\), not a regular file/) }] });
    }
    const zero = await invoke('images:import', { jobId: 'zero', paths: ['/dev/zero'] });
    expect(zero.body.result).toMatchObject({ imported: [], failed: [{ path: '/dev/zero', reason: expect.stringMatching(/character device, not a regular file/) }] });

    // the file-I/O pool is free: a folder listing and the project still answer
    expect((await invoke('fs:list', { dir: h.root })).status).toBe(200);
    expect((await invoke('project:get', null)).body.result).toMatchObject({ name: 'special', images: [] });
  });
});

describe('project:create where no folder can be made', () => {
  it('/proc/nope fails with a message naming the folder, and the server keeps answering', async () => {
    const { status, body } = await invoke('project:create', { dir: '/proc/nope', name: 'nope' });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(body.error?.message).toMatch(/^\/proc\/nope: cannot create the project folder here \(ENOENT.*\); choose another folder$/);
    expect((await invoke('fs:list', { dir: h.root })).status).toBe(200);
  });
});

describe('project:open of a project file that is not one', () => {
  it('a link to /etc/passwd: the file is named and called not valid JSON, its content never quoted', async () => {
    const dir = join(h.root, 'linked');
    mkdirSync(dir);
    const file = join(dir, 'ld-project.json');
    symlinkSync('/etc/passwd', file);
    const { body } = await invoke('project:open', { dir });
    expect(body.error?.message).toContain(`${file}: not valid JSON (at line 1, column 1)`);
    expect(body.error?.message.replace(file, '')).not.toMatch(/root|:x:|bin/);
  });
});
