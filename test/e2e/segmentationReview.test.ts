/**
 * Segmentation review in browser mode: a CT series imported, a DICOM-SEG written by another tool
 * (liver.dcm) loaded as a labelmap overlay, a brush stroke saved / undone / redone, the mask accepted
 * and exported as DICOM-SEG (checked with dciodvfy and read back), and a second foreign SEG with
 * overlapping segments (partial_overlaps.dcm) loaded without error. Screenshots in test-results/e2e/.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../main/io';
import { readSegmentation } from '../../main/io/seg';
import { dciodvfy, dicom3toolsSkipReason, hasDciodvfy } from '../io/exporters/helpers/validators';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { screenshotDir } from './helpers/appBuild';
import { createProject, openBrowserSession, type BrowserSession } from './helpers/browserSession';
import { chromiumSkipReason } from './helpers/chromium';
import { greyCorrelation } from './helpers/pixels';
import { fitImage, viewerBox } from './helpers/viewerGeometry';

const ctDir = dataPath('dicom/ct-3slice-seg');
const skipReason = chromiumSkipReason() ?? (hasSharedData ? null : sharedDataSkipReason) ?? (hasDciodvfy ? null : dicom3toolsSkipReason);
if (skipReason) console.warn(`[skip] browser-mode segmentation review: ${skipReason}`);

describe.skipIf(!!skipReason)('browser mode: DICOM-SEG overlay → brush review → DICOM-SEG export', () => {
  let session: BrowserSession;
  let work: string;
  let page: Page;
  let pageErrors: string[];
  const shot = (name: string) => page.screenshot({ path: join(screenshotDir, `${name}.png`) });

  /** Pixels in the viewer that are clearly coloured (the labelmap), not grey (the CT). */
  const colouredPixels = async () => {
    const { PNG } = await import('pngjs');
    const img = PNG.sync.read(await page.getByTestId('viewer').screenshot());
    let n = 0;
    for (let i = 0; i < img.width * img.height; i++) {
      const [r, g, b] = [img.data[4 * i], img.data[4 * i + 1], img.data[4 * i + 2]];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
    return n;
  };
  /** The saved mask's foreground fraction, as the main process reports it. */
  const foreground = (imageId: string) =>
    page.evaluate(async (id) => {
      const res = await fetch('api/invoke/segment:list', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'null' });
      const body = (await res.json()) as { result: { imageId: string; foreground: number; source: string }[] };
      return body.result.find((m) => m.imageId === id) ?? null;
    }, imageId);

  beforeAll(async () => {
    session = await openBrowserSession('ld-e2e-seg-');
    ({ work, page, pageErrors } = session);
  }, 600_000);

  afterAll(() => session?.close());

  let imageId: string;
  it('creates a project and imports a three-slice CT series', async () => {
    await createProject(page, join(work, 'ct'));
    await page.getByTestId('mode-import').click();
    await page.getByTestId('import-kind-files').click();
    await page.getByTestId('import-paths').fill(['01.dcm', '02.dcm', '03.dcm'].map((f) => join(ctDir, f)).join('\n'));
    await page.getByTestId('import-button').click();
    await expect.poll(() => page.getByTestId('image-tile').count(), { timeout: 60_000 }).toBe(3);
  });

  it('loads a DICOM-SEG from another tool as a labelmap overlay', async () => {
    await page.getByTestId('mode-segment').click();
    await page.locator('[data-testid=viewer] canvas').first().waitFor();
    await page.waitForTimeout(500);
    // the CT in its own grey levels: padding and air dark, bone bright (not inverted)
    const slice = await readImage(join(ctDir, (await page.getByTestId('segment-image-name').textContent())!.trim()));
    const fit = fitImage(await viewerBox(page), slice.width, slice.height);
    await expect.poll(async () => greyCorrelation(await page.screenshot({ clip: fit.box }), fit, slice, slice.dicom?.window)).toBeGreaterThan(0.8);
    const before = await colouredPixels();
    await page.getByTestId('seg-path').fill(join(ctDir, 'liver.dcm'));
    await page.getByTestId('seg-import').click();
    await expect.poll(() => page.locator('[data-testid=mask-list] li .confidence', { hasText: 'imported' }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    // Show a slice that has liver in it.
    const row = page.locator('[data-testid=mask-list] li', { hasText: 'imported' }).first();
    imageId = (await row.getAttribute('data-image-id'))!;
    await row.locator('button').click();
    await expect.poll(colouredPixels, { timeout: 20_000 }).toBeGreaterThan(before + 500);
    await shot('7-segment-overlay');
  });

  it('saves a brush stroke, undoes and redoes it', async () => {
    const start = await foreground(imageId);
    expect(start?.source).toBe('imported');
    await page.getByTestId('tool-brush').click();
    const box = (await page.locator('[data-testid=viewer] canvas').first().boundingBox())!;
    // A stroke across the upper-left quarter (air and body wall, not liver).
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.35, { steps: 10 });
    await page.mouse.up();
    await expect.poll(async () => (await foreground(imageId))?.source).toBe('corrected');
    const after = (await foreground(imageId))!.foreground;
    expect(after).toBeGreaterThan(start!.foreground);
    await shot('8-segment-brushed');
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await foreground(imageId))!.foreground).toBeCloseTo(start!.foreground, 6);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(async () => (await foreground(imageId))!.foreground).toBeCloseTo(after, 6);
    await page.getByTestId('mask-accept').click();
    await expect.poll(() => page.locator(`[data-testid=mask-list] li[data-image-id="${imageId}"] .badge`).count()).toBe(1);
  });

  it('exports the reviewed masks as a DICOM-SEG that dciodvfy accepts', async () => {
    await page.getByTestId('mode-export').click();
    await page.getByTestId('code-search').fill('liver');
    await page.locator('[data-testid=code-matches] li button', { hasText: /^Liver$/ }).first().click();
    const out = join(work, 'liver-reviewed.dcm');
    await page.getByTestId('seg-out').fill(out);
    await page.getByTestId('export-seg').click();
    await expect.poll(() => page.getByTestId('dicom-export-files').locator('li').count(), { timeout: 60_000 }).toBe(1);
    await shot('9-export-seg');
    const check = dciodvfy(out);
    expect(check.errors, check.output).toEqual([]);
    const seg = await readSegmentation(out);
    expect(seg.segments[0].label).toBeTruthy();
    expect(seg.frames.length).toBeGreaterThan(0);
  });

  it('loads a SEG with overlapping segments without error', async () => {
    await page.getByTestId('mode-segment').click();
    await page.getByTestId('seg-path').fill(join(ctDir, 'partial_overlaps.dcm'));
    await page.getByTestId('seg-import').click();
    // five overlapping segments: the first is shown, and any other can be chosen
    await expect.poll(() => page.getByTestId('seg-segment').locator('option').count(), { timeout: 30_000 }).toBe(5);
    await page.getByTestId('seg-segment').selectOption('3');
    await expect.poll(() => page.getByText(/Loaded segment 3 'PURPLE' of 5/).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await page.locator('.notice-error').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('keeps its side panel inside its width at 1600 and 1280 px, the Prediction select whole', async () => {
    for (const width of [1600, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(200);
      const panel = page.locator('.side-panel').first();
      const overflow = await panel.evaluate((el) => el.scrollWidth - el.clientWidth);
      expect(overflow, `${width} px: the panel scrolls sideways`).toBeLessThanOrEqual(0);
      const p = (await panel.boundingBox())!;
      const select = (await page.locator('.side-panel select').nth(1).boundingBox())!;
      expect(select.x + select.width, `${width} px: the Prediction select is clipped`).toBeLessThanOrEqual(p.x + p.width);
    }
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  it('closes an error notice when the user moves to another mode', async () => {
    await page.getByTestId('seg-path').fill(join(work, 'no-such-file.dcm'));
    await page.getByTestId('seg-import').click();
    await expect.poll(() => page.locator('.notice-error').count(), { timeout: 30_000 }).toBe(1);
    await page.getByTestId('mode-import').click();
    await expect.poll(() => page.locator('.notice-error').count()).toBe(0);
    await page.getByTestId('mode-segment').click();
  });
});
