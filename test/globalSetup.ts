import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Worker-thread and CLI tests run the bundled code in out/cli: build it once, fresh, before the suite. */
export default function setup(): void {
  execFileSync(process.execPath, [resolve(__dirname, '../scripts/build-cli.mjs')], { stdio: 'inherit', cwd: resolve(__dirname, '..') });
}
