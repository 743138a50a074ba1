/**
 * Browser-mode entry (built by scripts/start.mjs into out/cli/serve.js): serves out/renderer and the
 * IPC table on loopback until Ctrl+C.
 *
 *   node out/cli/serve.js [--port <n>] [--host <addr>] [--allow-remote] [--project <dir>]
 */
import { resolve } from 'node:path';
import { parseLaunchArgs } from './args';
import { startServer } from './server';

async function main(): Promise<void> {
  const args = parseLaunchArgs(process.argv.slice(2));
  if (args.errors.length) {
    for (const e of args.errors) console.error(`ld-studio: ${e}`);
    process.exit(2);
  }
  // out/cli/serve.js → out/renderer; LD_STUDIO_RENDERER_DIR overrides (e.g. a packaged layout).
  const rendererDir = resolve(process.env.LD_STUDIO_RENDERER_DIR ?? resolve(__dirname, '../renderer'));
  const server = await startServer({ rendererDir, port: args.port, host: args.host, allowRemote: args.allowRemote });
  console.log(`LD Studio (browser mode): ${server.url}`);
  if (args.project) console.log(`(--project ${args.project} noted; opening projects comes with the project store)`);

  let closing = false;
  const stop = () => {
    if (closing) process.exit(130);
    closing = true;
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`ld-studio: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
