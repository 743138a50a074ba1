import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

/** Write a file so that readers see either the old or the new content, never half of it. */
export function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w');
  try {
    for (const chunk of Array.isArray(data) ? data : [data]) {
      if (typeof chunk === 'string') writeSync(fd, chunk);
      else writeSync(fd, chunk, 0, chunk.length);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
