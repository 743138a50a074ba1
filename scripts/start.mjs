// `npm start`: build what is stale, then run the Electron app, or browser mode where Electron has no
// binary (electron ≥ 41 downloads it lazily on first use; we never trigger that download here).
//
//   node scripts/start.mjs [--browser] [--port <n>] [--host <addr>] [--allow-remote] [--project <dir>]
//
// Without --project the app opens on the sample project (--sample).
//
// --browser forces browser mode. Other arguments go to the app (Electron) or to out/cli/serve.js.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { electronBinary } from './electronBinary.mjs';
import { nodeBundle } from './esbuild-node.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);
const forceBrowser = args.includes('--browser');
const passArgs = args.filter((a) => a !== '--browser');
// Without a project to open, start on the sample project (the hand radiographs of ../shared/data).
if (!passArgs.some((a) => a === '--project' || a.startsWith('--project='))) passArgs.push('--sample');

/** Newest modification time (ms) of the files under `paths` (folders walked; node_modules skipped). */
function newest(paths) {
  let latest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) if (name !== 'node_modules' && !name.startsWith('.')) visit(join(p, name));
    } else if (st.mtimeMs > latest) latest = st.mtimeMs;
  };
  paths.forEach((p) => visit(join(root, p)));
  return latest;
}

/** Oldest modification time of `files`, or -1 when one is missing. */
function oldest(files) {
  let earliest = Infinity;
  for (const f of files) {
    const p = join(root, f);
    if (!existsSync(p)) return -1;
    earliest = Math.min(earliest, statSync(p).mtimeMs);
  }
  return earliest;
}

const appSources = ['main', 'common', 'preload', 'renderer', 'electron.vite.config.ts', 'package.json'];
const appOutputs = ['out/main/index.js', 'out/preload/index.js', 'out/renderer/index.html'];
if (oldest(appOutputs) < newest(appSources)) {
  console.log('Building the app (electron-vite build)…');
  // Run electron-vite's bin through node: no reliance on the bin's executable bit or a shell.
  const bin = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
  const res = spawnSync(process.execPath, [bin, 'build'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

function run(command, argv) {
  const child = spawn(command, argv, { cwd: root, stdio: 'inherit' });
  // The terminal's Ctrl+C reaches the child too; forward the rest and exit with it.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
}

const electron = forceBrowser ? { path: undefined, why: '--browser given' } : electronBinary(root);
if (electron.path) {
  run(electron.path, ['.', ...passArgs]);
} else {
  console.log(`Electron is unavailable here: ${electron.why}. Starting browser mode instead.`);
  const serveOut = join(root, 'out/cli/serve.js');
  if (oldest(['out/cli/serve.js']) < newest(['main', 'common', 'scripts/esbuild-node.mjs'])) {
    await build({ ...nodeBundle, absWorkingDir: root, entryPoints: { serve: 'main/serve.ts' }, outdir: 'out/cli' });
  }
  run(process.execPath, ['--enable-source-maps', serveOut, ...passArgs]);
}
