/**
 * One browser-mode session for an e2e file: the app built, `ld-studio serve` started with its own config
 * folder in a fresh work folder, Chromium with one page whose errors are collected; `close` undoes it all.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { buildApp, screenshotDir } from './appBuild';
import { launchChromium } from './chromium';
import { startServe, type ServeProcess } from './serveProcess';

export interface BrowserSession {
  work: string;
  serve: ServeProcess;
  browser: Browser;
  page: Page;
  /** Uncaught errors of the page, in order. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openBrowserSession(prefix: string, env: Record<string, string> = {}, options: { open?: boolean } = {}): Promise<BrowserSession> {
  buildApp();
  mkdirSync(screenshotDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), prefix));
  const serve = await startServe({ LD_STUDIO_CONFIG_DIR: join(work, 'config'), ...env });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  if (options.open ?? true) await page.goto(serve.url);
  return {
    work, serve, browser, page, pageErrors,
    async close() {
      await browser.close();
      await serve.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Project → create a project in `dir` and wait until it is open. */
export async function createProject(page: Page, dir: string): Promise<void> {
  await page.getByTestId('project-dir-input').fill(dir);
  await page.getByTestId('create-project').click();
  await expect.poll(() => page.getByTestId('project-name').isVisible()).toBe(true);
}
