/**
 * electron-vite build of the three Electron bundles into out/:
 *   out/main/index.js     main/app.ts     (CJS, Node; tfjs bundled, other dependencies external)
 *   out/preload/index.js  preload/index.ts (CJS, sandboxed preload: must not require node_modules)
 *   out/renderer/         renderer/index.html (Vue 3 + Pinia)
 * `electron-vite build` needs only node_modules/electron/package.json, not the Electron binary.
 */
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = __dirname;
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
// tfjs must be bundled: `@tensorflow/tfjs-core/dist/register_all_gradients` is ESM with extensionless
// imports (works only bundled), and core, gradients and backends must share one tfjs-core instance.
const bundled = Object.keys(pkg.dependencies ?? {}).filter((name) => name.startsWith('@tensorflow/'));
// Resolve packages through their ESM `module` entries (as scripts/esbuild-node.mjs does): mixing
// tfjs's CJS `main` and ESM `module` files would load two tfjs-core copies ("backend not found").
const mainFields = ['module', 'jsnext:main', 'jsnext', 'main'];

export default defineConfig({
  main: {
    resolve: { mainFields },
    ssr: { resolve: { mainFields } },
    build: {
      lib: { entry: { index: resolve(root, 'main/app.ts') } },
      externalizeDeps: { exclude: bundled },
      sourcemap: true,
    },
  },
  preload: {
    build: {
      lib: { entry: { index: resolve(root, 'preload/index.ts') } },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [vue()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rolldownOptions: { input: resolve(root, 'renderer/index.html') },
    },
  },
});
