/**
 * Keyboard shortcuts as a table of key → command, registered while a component is mounted (OHIF's
 * habit: one table the toolbar titles and the help overlay read too). Keys are written like
 * "ctrl+shift+z", "n", "arrowright"; "mod" is Ctrl, or Cmd on macOS.
 */
import { onBeforeUnmount, onMounted } from 'vue';

export interface Hotkey {
  keys: string[];
  description: string;
  run(): void | Promise<void>;
}

const isMac = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform);

export function keyOf(e: KeyboardEvent): string {
  const parts: string[] = [];
  if (isMac ? e.metaKey : e.ctrlKey) parts.push('mod');
  if (e.altKey) parts.push('alt');
  if (e.shiftKey) parts.push('shift');
  parts.push(e.key.toLowerCase());
  return parts.join('+');
}

function typingInField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

export function useHotkeys(hotkeys: () => Hotkey[]): void {
  const onKey = (e: KeyboardEvent) => {
    if (typingInField(e) || e.repeat) return;
    const key = keyOf(e);
    const hit = hotkeys().find((h) => h.keys.includes(key));
    if (!hit) return;
    e.preventDefault();
    void hit.run();
  };
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
}

/** "mod+shift+z" → "Ctrl+Shift+Z" for tooltips and the shortcut list. */
export function keyLabel(key: string): string {
  return key
    .split('+')
    .map((k) => (k === 'mod' ? (isMac ? '⌘' : 'Ctrl') : k === 'arrowright' ? '→' : k === 'arrowleft' ? '←' : k.length === 1 ? k.toUpperCase() : k[0].toUpperCase() + k.slice(1)))
    .join('+');
}

/** The viewer keys every mode with an image shares: W window/level, P pan, Z zoom, R reset. */
export function viewerHotkeys(viewer: () => { setTool(tool: 'windowLevel' | 'pan' | 'zoom'): void; resetView(): void } | null | undefined): Hotkey[] {
  return [
    { keys: ['w'], description: 'Window/level tool', run: () => viewer()?.setTool('windowLevel') },
    { keys: ['p'], description: 'Pan tool', run: () => viewer()?.setTool('pan') },
    { keys: ['z'], description: 'Zoom tool', run: () => viewer()?.setTool('zoom') },
    { keys: ['r'], description: 'Reset view', run: () => viewer()?.resetView() },
  ];
}
