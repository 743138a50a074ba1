/** Build the renderer and the serve/CLI bundles the way `npm start` does, once per test file. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '../../..');

/** Screenshots of every mode, for people reviewing a change (kept out of git). */
export const screenshotDir = resolve(repoRoot, 'test-results/e2e');

export function buildApp(): void {
  const electronVite = resolve(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js');
  execFileSync(process.execPath, [electronVite, 'build'], { cwd: repoRoot, stdio: 'pipe' });
  execFileSync(process.execPath, [resolve(repoRoot, 'scripts/build-cli.mjs')], { cwd: repoRoot, stdio: 'pipe' });
}
