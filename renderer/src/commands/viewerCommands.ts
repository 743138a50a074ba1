import { nextLabelMode, useLandmarkDisplay } from '../stores/landmarkDisplay';
import { keysOf } from './keymap';
import type { Command } from './registry';

/** The viewer keys every mode with an image shares: W window/level, P pan, Z zoom, R reset. */
export function viewerCommands(viewer: () => { setTool(tool: 'windowLevel' | 'pan' | 'zoom'): void; resetView(): void } | null | undefined): Command[] {
  return [
    { id: 'viewer.windowLevel', keys: keysOf('windowLevel'), title: 'Window/level tool', run: () => viewer()?.setTool('windowLevel') },
    { id: 'viewer.pan', keys: keysOf('pan'), title: 'Pan tool', run: () => viewer()?.setTool('pan') },
    { id: 'viewer.zoom', keys: keysOf('zoom'), title: 'Zoom tool', run: () => viewer()?.setTool('zoom') },
    { id: 'viewer.reset', keys: keysOf('resetView'), title: 'Reset view', run: () => viewer()?.resetView() },
  ];
}

/** The landmark display keys of the modes that show landmarks: H shows/hides every point, Shift+L cycles the labels, K locks/unlocks dragging. */
export function landmarkDisplayCommands(): Command[] {
  const store = useLandmarkDisplay();
  return [
    { id: 'viewer.togglePoints', keys: keysOf('togglePoints'), title: 'Show / hide all points', run: () => void (store.display.showPoints = !store.display.showPoints) },
    { id: 'viewer.lockPoints', keys: keysOf('lockPoints'), title: 'Lock / unlock all points (no dragging)', run: () => void (store.display.lockPoints = !store.display.lockPoints) },
    { id: 'viewer.cycleLabels', keys: keysOf('cycleLabels'), title: 'Labels: all, selected only, none', run: () => void (store.display.labels = nextLabelMode(store.display.labels)) },
  ];
}
