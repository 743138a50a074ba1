/**
 * What the shortcut sheet (`?` / F1) lists: the commands on screen that have keys, grouped by the
 * first part of their id, in a fixed group order; within a group, in registration order.
 */
import { keyLabel } from './hotkeys';
import type { Command } from './registry';

export interface ShortcutGroup {
  title: string;
  rows: Array<{ id: string; title: string; keys: string[] }>;
}

const GROUPS: Record<string, string> = {
  help: 'Help',
  edit: 'Edit',
  mode: 'Modes',
  template: 'Template',
  review: 'Review',
  segment: 'Segment',
  viewer: 'Viewer',
};

export function shortcutGroups(commands: readonly Command[]): ShortcutGroup[] {
  const groups = new Map<string, ShortcutGroup>();
  for (const c of commands) {
    if (!c.keys?.length) continue;
    const prefix = c.id.split('.')[0];
    const title = GROUPS[prefix] ?? prefix[0].toUpperCase() + prefix.slice(1);
    if (!groups.has(title)) groups.set(title, { title, rows: [] });
    // '?' is typed with Shift on most layouts; the sheet names the key once
    const keys = c.keys.filter((k) => !(k === 'shift+?' && c.keys!.includes('?')));
    groups.get(title)!.rows.push({ id: c.id, title: c.title, keys: keys.map(keyLabel) });
  }
  const order = Object.values(GROUPS);
  const rank = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
  return [...groups.values()].sort((a, b) => rank(a.title) - rank(b.title));
}
