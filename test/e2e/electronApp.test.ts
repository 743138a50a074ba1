/**
 * Smoke test of the real desktop app through Playwright's `_electron`, where an Electron binary exists.
 * This workplace cannot download one, so here it is skipped with the reason; on a developer machine
 * (`npx electron --version` once, which fetches the binary) it runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { electronBinary } from '../../scripts/electronBinary.mjs';
import { buildApp, repoRoot, screenshotDir } from './helpers/appBuild';

const binary = electronBinary(repoRoot);
if (!binary.path) console.warn(`[skip] Electron smoke test: ${binary.why}`);

describe.skipIf(!binary.path)('desktop app (Electron)', () => {
  it('opens a sandboxed window on the renderer, answers IPC and opens the sample project', async () => {
    buildApp();
    const config = mkdtempSync(join(tmpdir(), 'ld-electron-'));
    const app = await electron.launch({ executablePath: binary.path!, args: [repoRoot], env: { ...process.env, LD_STUDIO_CONFIG_DIR: config } as Record<string, string> });
    try {
      const page = await app.firstWindow();
      await page.waitForLoadState('domcontentloaded');
      expect(await page.title()).toBe('LD Studio');
      expect(page.url()).toMatch(/^ld-studio:\/\/app\//);
      // The renderer has the bridge and nothing else from Node.
      expect(await page.evaluate(() => typeof (globalThis as unknown as { ldStudio?: unknown }).ldStudio)).toBe('object');
      expect(await page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe('undefined');
      const prefs = await app.evaluate(({ BrowserWindow }) => {
        const wp = (BrowserWindow.getAllWindows()[0].webContents as unknown as { getLastWebPreferences(): Record<string, unknown> | null }).getLastWebPreferences();
        return { contextIsolation: wp?.contextIsolation, sandbox: wp?.sandbox, nodeIntegration: wp?.nodeIntegration };
      });
      expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false });
      await page.getByTestId('open-sample').click();
      await expect.poll(() => page.getByTestId('project-name').isVisible(), { timeout: 60_000 }).toBe(true);
      await page.screenshot({ path: join(screenshotDir, 'electron-sample.png') });
      // File → Export Landmarks… reaches the renderer: the Export mode becomes the current one
      await app.evaluate(({ Menu }) => {
        const file = Menu.getApplicationMenu()!.items.find((i) => i.label === 'File')!;
        file.submenu!.items.find((i) => i.label === 'Export Landmarks…')!.click();
      });
      await expect.poll(() => page.getByTestId('mode-export').getAttribute('aria-current'), { timeout: 10_000 }).toBe('page');
    } finally {
      await app.close();
      rmSync(config, { recursive: true, force: true });
    }
  });
});
