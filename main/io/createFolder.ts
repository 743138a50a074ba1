/**
 * `mkdir -p` on the file-I/O threads, without Node's `recursive` mode: where mkdir answers ENOENT
 * although the parent exists (under /proc, say), Node 20's recursive mkdir retries forever, which
 * hangs the main thread (mkdirSync) or one of libuv's four file-I/O threads (fs/promises). Here the
 * first existing ancestor is found with stat, and each missing folder below it is made once: any
 * error is thrown as the file system gave it.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function createFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    const st = await stat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}' (${at} is a file)`), { code: 'ENOTDIR' });
      break;
    }
    missing.unshift(at);
    if (dirname(at) === at) break; // a missing root: mkdir will say why
  }
  for (const folder of missing) {
    await mkdir(folder).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err; // made meanwhile by someone else: fine
    });
  }
}
