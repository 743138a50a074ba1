/**
 * `ld-studio serve` as a child process, the way a user starts browser mode: its own event loop, its own
 * config folder, and the URL (with the session token) read from its output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { repoRoot } from './appBuild';

export interface ServeProcess {
  url: string;
  origin: string;
  token: string;
  output(): string;
  stop(): Promise<void>;
}

export function startServe(env: Record<string, string>, timeoutMs = 60_000): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [resolve(repoRoot, 'out/cli/serve.js'), '--port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`serve did not print its URL within ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/\?token=([A-Za-z0-9_-]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolveStart({
          url: m[0],
          origin: m[1],
          token: m[2],
          output: () => log,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGINT');
              setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before printing its URL:\n${log}`));
    });
  });
}
