// Builds the headless entry points (CLI, trainer worker, benchmarks) into out/cli.
// Runs from `prepare`, so `npm ci` leaves `npx ld-studio` working.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { nodeBundle } from './esbuild-node.mjs';

const entryPoints = {
  cli: 'main/cli.ts',
  'trainer-worker': 'main/jobs/trainWorker.ts',
  serve: 'main/serve.ts',
  bench: 'bench/index.ts',
};
const present = Object.fromEntries(Object.entries(entryPoints).filter(([, file]) => existsSync(file)));
await build({ ...nodeBundle, entryPoints: present, outdir: 'out/cli' });
