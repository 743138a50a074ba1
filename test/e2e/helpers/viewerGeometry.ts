/**
 * Where an image pixel should appear on screen, computed independently of the app: Cornerstone's
 * reset camera fits the whole image into the canvas, centred, preserving its aspect ratio. Pixel-centre
 * coordinate x spans the image's pixel x, so its screen position is offset + (x + 0.5)·scale.
 */
import type { Page } from 'playwright-core';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Fit {
  box: Box;
  scale: number;
  toScreen(p: { x: number; y: number }): { x: number; y: number };
  toImage(s: { x: number; y: number }): { x: number; y: number };
}

export function fitImage(box: Box, imageWidth: number, imageHeight: number): Fit {
  const scale = Math.min(box.width / imageWidth, box.height / imageHeight);
  const offX = (box.width - imageWidth * scale) / 2;
  const offY = (box.height - imageHeight * scale) / 2;
  return {
    box,
    scale,
    toScreen: (p) => ({ x: box.x + offX + (p.x + 0.5) * scale, y: box.y + offY + (p.y + 0.5) * scale }),
    toImage: (s) => ({ x: (s.x - box.x - offX) / scale - 0.5, y: (s.y - box.y - offY) / scale - 0.5 }),
  };
}

/** The viewer's canvas box in page coordinates. */
export async function viewerBox(page: Page): Promise<Box> {
  const box = await page.locator('[data-testid=viewer] canvas').first().boundingBox();
  if (!box) throw new Error('viewer canvas not visible');
  return box;
}

/** Centres of the landmark markers (Cornerstone's SVG handle circles) in page coordinates. */
export async function markerCentres(page: Page): Promise<{ x: number; y: number }[]> {
  const boxes = await page.locator('[data-testid=viewer] svg circle').evaluateAll((nodes) => nodes.map((n) => n.getBoundingClientRect().toJSON() as Box));
  return boxes.filter((r) => r.width > 0).map((r) => ({ x: r.x + r.width / 2, y: r.y + r.height / 2 }));
}
