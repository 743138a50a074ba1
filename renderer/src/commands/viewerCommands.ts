import type { Command } from './registry';

/** The viewer keys every mode with an image shares: W window/level, P pan, Z zoom, R reset. */
export function viewerCommands(viewer: () => { setTool(tool: 'windowLevel' | 'pan' | 'zoom'): void; resetView(): void } | null | undefined): Command[] {
  return [
    { id: 'viewer.windowLevel', keys: ['w'], title: 'Window/level tool', run: () => viewer()?.setTool('windowLevel') },
    { id: 'viewer.pan', keys: ['p'], title: 'Pan tool', run: () => viewer()?.setTool('pan') },
    { id: 'viewer.zoom', keys: ['z'], title: 'Zoom tool', run: () => viewer()?.setTool('zoom') },
    { id: 'viewer.reset', keys: ['r'], title: 'Reset view', run: () => viewer()?.resetView() },
  ];
}
