/**
 * The whole landmark workflow in browser mode, driven in Debian's Chromium: create a project, import
 * the hand radiographs, train briefly, place 3 landmarks on the template, propagate, correct one point
 * by dragging, undo and redo it, export Slicer .mrk.json and check the exported coordinates, then accept
 * two images and improve the rest from three templates. Every
 * mode is saved as a screenshot under test-results/e2e/.
 *
 * Real parts throughout: `ld-studio serve` as a child process, the PyTorch engine, onnxruntime
 * propagation, the built renderer with Cornerstone3D on SwiftShader WebGL.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../main/io';
import { readWideCsvFile } from '../../main/io/landmarks';
import { hasTorch, torchPython, torchSkipReason } from '../helpers/torch';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { screenshotDir } from './helpers/appBuild';
import { createProject, openBrowserSession, type BrowserSession } from './helpers/browserSession';
import { chromiumSkipReason } from './helpers/chromium';
import { greyCorrelation, luminanceStats } from './helpers/pixels';
import type { ServeProcess } from './helpers/serveProcess';
import { fitImage, markerCentres, viewerBox, type Fit } from './helpers/viewerGeometry';

const handDir = dataPath('landmarks/hand');
const skipReason = chromiumSkipReason() ?? (hasSharedData ? null : sharedDataSkipReason) ?? (hasTorch ? null : torchSkipReason);
if (skipReason) console.warn(`[skip] browser-mode workflow: ${skipReason}`);

const TEMPLATE = '3167';
const NAMES = ['L1', 'L5', 'L20'];

describe.skipIf(!!skipReason)('browser mode: import → train → template → propagate → review → export', () => {
  let session: BrowserSession;
  let work: string;
  let serve: ServeProcess;
  let page: Page;
  let pageErrors: string[];
  let truth: Map<string, { x: number; y: number }>;

  const shot = (name: string) => page.screenshot({ path: join(screenshotDir, `${name}.png`) });
  const mode = async (id: string) => {
    await page.getByTestId(`mode-${id}`).click();
  };

  beforeAll(async () => {
    // the first test opens the page itself, with and without the token
    session = await openBrowserSession('ld-e2e-', { LD_STUDIO_PYTHON: torchPython }, { open: false });
    ({ work, serve, page, pageErrors } = session);
    const table = await readWideCsvFile(join(handDir, 'landmarks.csv'));
    const row = table.images.find((i) => i.image === TEMPLATE)!;
    // Hand landmark Lk is the k-th point pair of the CSV.
    truth = new Map(NAMES.map((n) => [n, row.points[Number(n.slice(1)) - 1]!]));
  }, 600_000);

  afterAll(() => session?.close());

  it('opens on the start screen with the token, and refuses without it', async () => {
    const bare = await fetch(`${serve.origin}/`);
    expect(bare.status).toBe(401);
    await page.goto(serve.url);
    await expect.poll(() => page.getByTestId('open-sample').isVisible()).toBe(true);
    expect(page.url()).not.toContain('token=');
    await shot('1-project');
  });

  it('creates a project and imports the hand radiographs with thumbnails', async () => {
    await createProject(page, join(work, 'hands'));
    await mode('import');
    await page.getByTestId('import-paths').fill(handDir);
    await page.getByTestId('import-button').click();
    await expect.poll(() => page.getByTestId('image-tile').count(), { timeout: 60_000 }).toBe(9);
    await shot('2-import');
  });

  it('trains a short run with the PyTorch engine', async () => {
    await mode('train');
    await page.getByTestId('setting-steps').fill('12');
    await page.getByTestId('setting-size').fill('128');
    await page.getByTestId('setting-batch').fill('2');
    await page.getByTestId('train-start').click();
    await expect.poll(() => page.locator('[data-testid=run-row][data-status=completed]').count(), { timeout: 300_000, interval: 1000 }).toBe(1);
    // The loss plot and engine picker are at the top of the page.
    await page.locator('main.content').evaluate((el) => el.scrollTo(0, 0));
    await shot('3-train');
  });

  let fit: Fit;
  it('places 3 landmarks on the template where the user clicked', async () => {
    await mode('template');
    await page.getByTestId('template-image').selectOption({ label: `${TEMPLATE}.png` });
    await page.getByTestId('template-set').selectOption('custom');
    await page.getByTestId('custom-names').fill(NAMES.join(', '));
    await page.getByTestId('template-apply').click();
    // the typed names are now the project's set, chosen in the list: nothing to change, no "new template" warning
    await expect.poll(() => page.getByTestId('template-set').inputValue()).toMatch(/^custom-\d+$/);
    expect(await page.getByTestId('template-apply').isDisabled()).toBe(true);
    // the chosen image shows as a preview first; clicks place landmarks once it is the template
    await page.getByTestId('landmark-list').waitFor();
    await page.locator('[data-testid=viewer] canvas').first().waitFor();
    expect(await page.locator('[data-testid=thumb-strip] li').count()).toBe(9);
    await page.waitForTimeout(500);
    const size = await imageSize(page, `${TEMPLATE}.png`);
    fit = fitImage(await viewerBox(page), size.width, size.height);
    for (const name of NAMES) {
      const s = fit.toScreen(truth.get(name)!);
      await page.mouse.click(s.x, s.y);
      await expect.poll(() => page.locator(`[data-testid=landmark-list] li[data-name="${name}"].placed`).count()).toBe(1);
    }
    // Every marker is drawn where its image position maps to, independently computed.
    const worstMarkerOffset = async () => {
      const markers = await markerCentres(page);
      return Math.max(...NAMES.map((name) => {
        const s = fit.toScreen(truth.get(name)!);
        return Math.min(...markers.map((m) => Math.hypot(m.x - s.x, m.y - s.y)));
      }));
    };
    await expect.poll(worstMarkerOffset).toBeLessThan(3);
    // The viewer shows the radiograph, not a blank canvas.
    const stats = luminanceStats(await page.locator('[data-testid=viewer]').screenshot());
    expect(stats.sd).toBeGreaterThan(10);
    expect(stats.distinct).toBeGreaterThan(50);
    // ... with its own grey levels (bone bright), not inverted
    const source = await readImage(dataPath('landmarks/hand', `${TEMPLATE}.png`));
    await expect.poll(async () => greyCorrelation(await page.screenshot({ clip: fit.box }), fit, source)).toBeGreaterThan(0.8);
    await shot('4-template');
  });

  let corrected: { image: string; name: string; before: { x: number; y: number }; after: { x: number; y: number } };
  it('propagates, then a drag corrects a point, undo restores it and redo re-applies it', async () => {
    await mode('review');
    await page.getByTestId('propagate').click();
    await expect.poll(() => page.locator('[data-testid=review-queue] li').count(), { timeout: 300_000, interval: 1000 }).toBe(8);
    const image = (await page.getByTestId('review-image-name').textContent())!.trim();
    const queueOrder = () => page.locator('[data-testid=review-queue] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-image-id')));
    const pointOrder = () => page.locator('[data-testid=point-list] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
    const queueBefore = await queueOrder();
    const pointsBefore = await pointOrder();
    const first = page.locator('[data-testid=point-list] li').first();
    const name = (await first.getAttribute('data-name'))!;
    const before = parseCoords(await first.locator('.coords').textContent());
    await page.waitForTimeout(500);
    const size = await imageSize(page, image);
    const reviewFit = fitImage(await viewerBox(page), size.width, size.height);
    const from = reviewFit.toScreen(before);
    await expect.poll(async () => Math.min(...(await markerCentres(page)).map((m) => Math.hypot(m.x - from.x, m.y - from.y)))).toBeLessThan(3);
    const stats = luminanceStats(await page.locator('[data-testid=viewer]').screenshot());
    expect(stats.sd).toBeGreaterThan(10);
    // towards the image's centre: the least confident point of a barely trained model may sit on an edge
    const to = { x: from.x + (before.x < size.width / 2 ? 20 : -20), y: from.y + (before.y < size.height / 2 ? 12 : -12) };

    // K locks every point: the same drag moves nothing; K again unlocks
    await page.keyboard.press('k');
    await expect.poll(() => page.getByTestId('display-lock').isChecked()).toBe(true);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 6 });
    await page.mouse.up();
    await page.waitForTimeout(300);
    expect(parseCoords(await first.locator('.coords').textContent())).toEqual(before);
    expect(await first.locator('.confidence').textContent()).not.toBe('corrected');
    await page.keyboard.press('k');
    await expect.poll(() => page.getByTestId('display-lock').isChecked()).toBe(false);
    await page.keyboard.press('r'); // the locked drag was the left tool's (window/level): back to the view the drag below expects

    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 6 });
    // the loupe magnifies the image around the cursor while the point is dragged, and goes after
    const loupe = page.getByTestId('viewer-loupe');
    expect(await loupe.count()).toBe(1);
    const loupeBox = (await loupe.boundingBox())!;
    expect(loupeBox.width).toBeGreaterThan(100);
    expect(to.x >= loupeBox.x && to.x <= loupeBox.x + loupeBox.width && to.y >= loupeBox.y && to.y <= loupeBox.y + loupeBox.height).toBe(false);
    expect(luminanceStats(await loupe.screenshot()).sd).toBeGreaterThan(3);
    await page.mouse.up();
    await expect.poll(() => loupe.count()).toBe(0);
    const row = page.locator(`[data-testid=point-list] li[data-name="${name}"]`);
    await expect.poll(async () => row.locator('.confidence').textContent()).toBe('corrected');
    const after = parseCoords(await row.locator('.coords').textContent());
    // the correction moves neither the image in the queue nor the point in the list
    expect(await queueOrder()).toEqual(queueBefore);
    expect(await pointOrder()).toEqual(pointsBefore);
    const expected = reviewFit.toImage(to);
    expect(Math.abs(after.x - expected.x)).toBeLessThan(1.5 / reviewFit.scale);
    expect(Math.abs(after.y - expected.y)).toBeLessThan(1.5 / reviewFit.scale);
    await shot('5-review');

    await page.keyboard.press('Control+z');
    await expect.poll(async () => parseCoords(await row.locator('.coords').textContent())).toEqual(before);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(async () => parseCoords(await row.locator('.coords').textContent())).toEqual(after);
    corrected = { image, name, before, after };
  });

  it('centres a point clicked in the list, and opens the shortcut sheet with ?', async () => {
    const rows = page.locator('[data-testid=point-list] li');
    const name = (await rows.nth(1).getAttribute('data-name'))!;
    const spread = async () => {
      const m = await markerCentres(page);
      return Math.max(...m.map((a) => Math.max(...m.map((b) => Math.hypot(a.x - b.x, a.y - b.y)))));
    };
    const spreadBefore = await spread();
    await rows.nth(1).locator('button').click();
    await expect.poll(async () => (await rows.nth(1).getAttribute('class')) ?? '').toMatch(/\bactive\b/);
    const box = await viewerBox(page);
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await expect.poll(async () => Math.min(...(await markerCentres(page)).map((m) => Math.hypot(m.x - centre.x, m.y - centre.y)))).toBeLessThan(3);
    // polled: the markers are redrawn after each change, and a read between two frames can find none
    await expect.poll(spread).toBeGreaterThan(spreadBefore * 1.5); // zoomed in
    // a point zoomed out of view has no label (it used to stick to the viewer's edge)
    const inView = async () => {
      const m = (await markerCentres(page)).filter((c) => c.x >= box.x && c.x <= box.x + box.width && c.y >= box.y && c.y <= box.y + box.height);
      return new Set(m.map((c) => `${Math.round(c.x)},${Math.round(c.y)}`)).size;
    };
    await expect.poll(async () => (await page.locator('[data-testid=viewer] svg text').count()) - (await inView())).toBe(0);
    expect(name).toBeTruthy();
    await page.keyboard.press('r');

    await page.keyboard.press('Shift+?');
    const sheet = page.getByTestId('shortcut-sheet');
    await expect.poll(() => sheet.count()).toBe(1);
    expect(await sheet.locator('[data-command="review.nextLowConfidence"]').textContent()).toContain('J');
    expect(await sheet.locator('[data-command="help.shortcuts"]').textContent()).toContain('F1');
    await page.keyboard.press('Escape');
    await expect.poll(() => sheet.count()).toBe(0);
  });

  it('zooms with the wheel towards the cursor, reads the pixel under the cursor, hides points with H', async () => {
    await page.keyboard.press('r');
    await page.waitForTimeout(300);
    const image = (await page.getByTestId('review-image-name').textContent())!.trim();
    const size = await imageSize(page, image);
    const reviewFit = fitImage(await viewerBox(page), size.width, size.height);
    const row = page.locator('[data-testid=point-list] li').last();
    const p = parseCoords(await row.locator('.coords').textContent());
    const at = reviewFit.toScreen(p);

    // the status line names the image coordinates under the cursor, and the pixel's value
    await page.mouse.move(at.x, at.y);
    const status = page.getByTestId('viewer-status');
    await expect.poll(async () => (await status.textContent()) ?? '').toMatch(/value \d/);
    const shown = parseCoords((await status.textContent())!.replace(/^x /, '').replace(', y ', ','));
    expect(Math.abs(shown.x - p.x)).toBeLessThan(1 / reviewFit.scale + 0.5);
    expect(Math.abs(shown.y - p.y)).toBeLessThan(1 / reviewFit.scale + 0.5);

    // wheel up zooms in: markers spread, and the one under the cursor stays under it
    const spread = async () => {
      const m = await markerCentres(page);
      return Math.max(...m.map((a) => Math.max(...m.map((b) => Math.hypot(a.x - b.x, a.y - b.y)))));
    };
    const nearest = async () => Math.min(...(await markerCentres(page)).map((m) => Math.hypot(m.x - at.x, m.y - at.y)));
    const spreadBefore = await spread();
    for (let i = 0; i < 4; i++) {
      await page.mouse.wheel(0, -120);
      await page.waitForTimeout(100);
    }
    await expect.poll(spread).toBeGreaterThan(spreadBefore * 1.2);
    await expect.poll(nearest).toBeLessThan(4);
    await page.keyboard.press('r');

    // the marker size setting reaches the markers
    const radius = () => page.locator('[data-testid=viewer] svg circle').evaluateAll((els) => Math.min(...els.map((e) => Number(e.getAttribute('r')))));
    const r0 = await radius();
    await page.getByTestId('display-marker-size').fill('12');
    await expect.poll(radius).toBe(12);
    await page.getByTestId('display-marker-size').fill(String(r0));
    await expect.poll(radius).toBe(r0);
    await page.evaluate('document.activeElement.blur()'); // keys typed into the slider are the slider's

    // H hides every point and shows them again; the setting is remembered
    const markers = (await markerCentres(page)).length;
    await page.keyboard.press('h');
    await expect.poll(async () => (await markerCentres(page)).length).toBe(0);
    expect(await page.evaluate('localStorage.getItem("ld-studio.landmarkDisplay")')).toContain('"showPoints":false');
    await page.keyboard.press('h');
    await expect.poll(async () => (await markerCentres(page)).length).toBeGreaterThanOrEqual(markers);
  });

  it('exports Slicer .mrk.json with the template and the corrected coordinates', async () => {
    await mode('export');
    const out = join(work, 'export');
    await page.locator('[data-testid=export-format][data-format="mrk.json"]').click();
    await page.getByTestId('export-dir-input').fill(out);
    await page.getByTestId('export-button').click();
    await expect.poll(() => page.getByTestId('export-files').locator('li').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await shot('6-export');
    const files = readdirSync(out).filter((f) => f.endsWith('.mrk.json'));
    expect(files.length).toBe(9);
    const stem = corrected.image.replace(/\.[^.]+$/, '');
    const doc = JSON.parse(readFileSync(join(out, `${stem}.mrk.json`), 'utf8')) as MarkupsDoc;
    const cp = doc.markups[0].controlPoints.find((c) => c.label === corrected.name)!;
    // PNG sources: Slicer positions are pixels (see main/io/landmarks/formats/slicerMarkups.ts).
    expect(cp.position[0]).toBeCloseTo(corrected.after.x, 0);
    expect(cp.position[1]).toBeCloseTo(corrected.after.y, 0);
    const tpl = JSON.parse(readFileSync(join(out, `${TEMPLATE}.mrk.json`), 'utf8')) as MarkupsDoc;
    for (const name of NAMES) {
      const p = tpl.markups[0].controlPoints.find((c) => c.label === name)!;
      const t = truth.get(name)!;
      expect(Math.hypot(p.position[0] - t.x, p.position[1] - t.y)).toBeLessThan(2 / fit.scale);
    }
    expect(pageErrors).toEqual([]);
  });

  it('accept 2 images → "Improve the rest": the other images get new points from 3 templates, the queue re-sorts once', async () => {
    await mode('review');
    const queueOrder = () => page.locator('[data-testid=review-queue] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-image-id')!));
    const accepted = () => page.locator('[data-testid=review-queue] li.accepted').evaluateAll((els) => els.map((e) => e.getAttribute('data-image-id')!));
    for (let k = 0; k < 2; k++) {
      expect((await queueOrder()).length).toBe(8);
      const before = await accepted();
      await page.locator(`[data-testid=review-queue] li:not(.accepted)`).first().click();
      await page.keyboard.press('a');
      await expect.poll(async () => (await accepted()).length).toBe(before.length + 1);
    }
    const chosen = await accepted();
    const pointsOf = async () => {
      const snap = await page.evaluate(async () => {
        const res = await fetch('api/invoke/project:get', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'null' });
        return ((await res.json()) as { result: { landmarks: { imageId: string; accepted: boolean; points: { name: string; x: number; y: number }[] }[] } }).result.landmarks;
      });
      return new Map(snap.map((l) => [l.imageId, l]));
    };
    const before = await pointsOf();
    const button = page.getByTestId('propagate');
    await expect.poll(() => button.textContent()).toContain('Improve the rest: 6 images from 3 templates');
    await button.click();
    await expect.poll(() => page.locator('.notices').textContent(), { timeout: 300_000, interval: 1000 }).toContain('from 3 templates');
    const after = await pointsOf();
    // the accepted images keep their points; the others' points move (2 more templates vote)
    for (const id of chosen) expect(after.get(id)!.points).toEqual(before.get(id)!.points);
    const rest = [...after.values()].filter((l) => !chosen.includes(l.imageId) && before.has(l.imageId) && l.points.length);
    expect(rest.length).toBeGreaterThan(0);
    const moved = rest.filter((l) => l.points.some((p, i) => Math.hypot(p.x - before.get(l.imageId)!.points[i].x, p.y - before.get(l.imageId)!.points[i].y) > 0.01));
    expect(moved.length).toBeGreaterThan(0);
    // re-sorted once, after the propagation: open images least confident first, the accepted ones at the end
    const order = await queueOrder();
    expect(order.slice(-2).sort()).toEqual([...chosen].sort());
    await page.waitForTimeout(500);
    expect(await queueOrder()).toEqual(order);
    expect(pageErrors).toEqual([]);
  });
});

interface MarkupsDoc {
  markups: { controlPoints: { label: string; position: number[] }[] }[];
}

function parseCoords(text: string | null): { x: number; y: number } {
  const m = /(-?[\d.]+),\s*(-?[\d.]+)/.exec(text ?? '');
  if (!m) throw new Error(`no coordinates in '${text}'`);
  return { x: Number(m[1]), y: Number(m[2]) };
}

/** The image's size as the project recorded it (the app's own snapshot, read through its API). */
async function imageSize(page: Page, name: string): Promise<{ width: number; height: number }> {
  return page.evaluate(async (n) => {
    const res = await fetch('api/invoke/project:get', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'null' });
    const body = (await res.json()) as { result: { images: { name: string; width: number; height: number }[] } };
    const img = body.result.images.find((i) => i.name === n);
    if (!img) throw new Error(`image ${n} not in the project`);
    return { width: img.width, height: img.height };
  }, name);
}
