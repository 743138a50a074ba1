/**
 * Cornerstone3D, initialised once per page: core (WebGL; SwiftShader in headless Chromium), tools, and
 * the tools this app uses. Images never go through a network image loader: the main process decodes
 * every format (main/io) and the viewer caches the pixels as local images (see imagePixels.ts).
 */
import { init as initCore } from '@cornerstonejs/core';
import { addTool, BrushTool, init as initTools, PanTool, WindowLevelTool, ZoomTool } from '@cornerstonejs/tools';
import { LandmarkTool } from './LandmarkTool';

let ready: Promise<void> | null = null;

export function ensureCornerstone(): Promise<void> {
  ready ??= (async () => {
    initCore();
    initTools();
    for (const tool of [PanTool, ZoomTool, WindowLevelTool, LandmarkTool, BrushTool]) addTool(tool);
  })();
  return ready;
}
