/**
 * One key means one thing across modes (issue 13: "a keyboard shortcut sheet, with one key meaning
 * one thing"), and the sheet lists what is on screen with readable key names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KEYS } from '../../renderer/src/commands/keymap';
import { activeCommands, registerCommands } from '../../renderer/src/commands/registry';
import { shortcutGroups } from '../../renderer/src/commands/shortcutSheet';
import { viewerCommands } from '../../renderer/src/commands/viewerCommands';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

describe('keymap', () => {
  it('binds every key to one action only', () => {
    const owner = new Map<string, string>();
    const clashes: string[] = [];
    for (const [action, keys] of Object.entries(KEYS)) {
      for (const key of keys) {
        if (owner.has(key)) clashes.push(`${key}: ${owner.get(key)} and ${action}`);
        owner.set(key, action);
      }
    }
    expect(clashes).toEqual([]);
  });

  it('keeps the modes\' Alt+digit keys apart from the actions', () => {
    const all = Object.values(KEYS).flat() as string[];
    expect(all.filter((k) => /^alt\+\d$/.test(k))).toEqual([]);
  });
});

describe('shortcut sheet', () => {
  it('groups the commands on screen that have keys, with key labels, help first', () => {
    cleanups.push(registerCommands(viewerCommands(() => null)));
    cleanups.push(registerCommands([
      { id: 'review.nextImage', title: 'Next image', keys: [...KEYS.nextImage], run: () => undefined },
      { id: 'project.open', title: 'Open…', run: () => undefined },
      { id: 'help.shortcuts', title: 'Keyboard shortcuts', keys: [...KEYS.shortcuts], run: () => undefined },
    ]));
    const groups = shortcutGroups(activeCommands());
    expect(groups.map((g) => g.title)).toEqual(['Help', 'Review', 'Viewer']);
    expect(groups[0].rows[0].keys).toEqual(['?', 'F1']);
    expect(groups[1].rows[0]).toMatchObject({ id: 'review.nextImage', keys: ['N', '→'] });
    expect(groups[2].rows.map((r) => r.keys[0])).toEqual(['W', 'P', 'Z', 'R']);
  });
});
