/**
 * Keys as the command registry (registry.ts) writes them: "mod+shift+z", "n", "arrowright"; "mod" is
 * Ctrl, or Cmd on macOS. The event → key name mapping, and key name → label for tooltips.
 */

const isMac = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform);

export function keyOf(e: KeyboardEvent): string {
  const parts: string[] = [];
  if (isMac ? e.metaKey : e.ctrlKey) parts.push('mod');
  if (e.altKey) parts.push('alt');
  if (e.shiftKey) parts.push('shift');
  parts.push(e.key.toLowerCase());
  return parts.join('+');
}

export function typingInField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

const NAMED: Record<string, string> = { arrowright: '→', arrowleft: '←', arrowup: '↑', arrowdown: '↓', delete: 'Del', backspace: 'Backspace', enter: 'Enter', tab: 'Tab', escape: 'Esc' };

/** "mod+shift+z" → "Ctrl+Shift+Z" for tooltips and the shortcut sheet. */
export function keyLabel(key: string): string {
  return key
    .split('+')
    .map((k) => (k === 'mod' ? (isMac ? '⌘' : 'Ctrl') : NAMED[k] ?? (k.length === 1 ? k.toUpperCase() : k[0].toUpperCase() + k.slice(1))))
    .join('+');
}
