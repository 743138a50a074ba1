/**
 * Browser-mode entry (built by scripts/start.mjs into out/cli/serve.js): serves out/renderer and the
 * IPC table on loopback until Ctrl+C; events go to the page over the server's WebSocket.
 *
 *   node out/cli/serve.js [--port <n>] [--host <addr>] [--allow-remote] [--allow-host <name>]…
 *                         [--tls-cert <pem> --tls-key <pem>] [--project <dir> | --sample]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseLaunchArgs } from './args';
import { createHandlerTable, invokeChannel } from './ipc/registry';
import { startServer, type RunningServer } from './server';

async function main(): Promise<void> {
  const args = parseLaunchArgs(process.argv.slice(2));
  if (args.errors.length) {
    for (const e of args.errors) console.error(`ld-studio: ${e}`);
    process.exit(2);
  }
  // out/cli/serve.js → out/renderer; LD_STUDIO_RENDERER_DIR overrides (e.g. a packaged layout).
  const rendererDir = resolve(process.env.LD_STUDIO_RENDERER_DIR ?? resolve(__dirname, '../renderer'));
  // events go to the server's WebSocket clients (nothing is emitted before the server listens)
  const handlers = createHandlerTable({ emit: (event, payload) => server.broadcast(event, payload) });
  const tls = args.tlsCert && args.tlsKey ? { cert: readPem(args.tlsCert, '--tls-cert'), key: readPem(args.tlsKey, '--tls-key') } : undefined;
  const server: RunningServer = await startServer({
    rendererDir,
    port: args.port,
    host: args.host,
    allowRemote: args.allowRemote,
    allowedHosts: args.allowHosts,
    tls,
    handlers,
  });
  // The project is open before the URL is printed, so the first page load shows it.
  if (args.project) {
    try {
      const project = await invokeChannel(handlers, 'project:open', { dir: args.project });
      console.log(`project: ${project.name} (${project.dir}, ${project.images.length} images)`);
    } catch (err) {
      console.error(`ld-studio: --project ${args.project}: ${(err as Error).message}`);
    }
  } else if (args.sample) {
    try {
      const project = await invokeChannel(handlers, 'project:openSample', undefined);
      console.log(`project: ${project.name} (${project.dir}, ${project.images.length} images)`);
    } catch (err) {
      console.error(`ld-studio: the sample project could not be opened: ${(err as Error).message}`);
    }
  }
  console.log(`LD Studio (browser mode): ${server.url}`);

  // Whatever happens, the open project's last changes reach the disk.
  process.on('exit', () => handlers.session.flushSync());
  let closing = false;
  const stop = () => {
    if (closing) process.exit(130);
    closing = true;
    // stop training with a checkpoint, save the project, then close the server
    handlers
      .dispose()
      .then(() => server.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${option} ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

main().catch((err: unknown) => {
  console.error(`ld-studio: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
