/**
 * The renderer's command registry, and the File menu's commands on it: every id main's menu can send
 * (common/appCommands.ts, the type main/app.ts builds its menu with) reaches a renderer command that
 * does what the item says; keys find the latest registration; a payload naming no command is refused.
 * The menu itself needs an Electron binary (test/e2e/electronApp.test.ts, where one exists).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { APP_COMMANDS } from '../../common/appCommands';
import { appCommands, dispatchAppCommand } from '../../renderer/src/commands/appCommands';
import { activeCommands, commandForKey, registerCommands, runCommand } from '../../renderer/src/commands/registry';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function recordingMenu() {
  const calls: string[] = [];
  const commands = appCommands({
    showMode: (mode) => void calls.push(`mode ${mode}`),
    openProject: async (dir) => void calls.push(`open ${dir}`),
    openSample: async () => void calls.push('sample'),
  });
  cleanups.push(registerCommands(commands));
  return { calls, commands };
}

describe('menu commands in the renderer', () => {
  it('has one command per id main can send, and no other', () => {
    expect(recordingMenu().commands.map((c) => c.id).sort()).toEqual([...APP_COMMANDS].sort());
  });

  it.each([
    [{ command: 'project.new' }, 'mode project'],
    [{ command: 'project.open' }, 'mode project'],
    [{ command: 'project.openRecent', dir: '/data/ceph' }, 'open /data/ceph'],
    [{ command: 'project.openSample' }, 'sample'],
    [{ command: 'images.import' }, 'mode import'],
    [{ command: 'export.landmarks' }, 'mode export'],
  ])('%j → %s', async (payload, expected) => {
    const { calls } = recordingMenu();
    await dispatchAppCommand(payload);
    expect(calls).toEqual([expected]);
  });

  it('refuses payloads that name no known command, doing nothing', async () => {
    const { calls } = recordingMenu();
    for (const bad of [null, 42, {}, { command: 'project.delete' }, { command: 'toString' }, { command: 7 }]) {
      await expect(dispatchAppCommand(bad)).rejects.toThrow(/unknown menu command .*known: project.new/);
    }
    await expect(dispatchAppCommand({ command: 'project.openRecent' })).rejects.toThrow(/names no project folder/);
    expect(calls).toEqual([]);
  });
});

describe('command registry', () => {
  it('runs by id, binds keys, and the latest registration of an id or key wins until it leaves', async () => {
    const calls: string[] = [];
    cleanups.push(registerCommands([
      { id: 'review.next', title: 'Next image', keys: ['n'], run: () => void calls.push('review next') },
      { id: 'edit.undo', title: 'Undo', keys: ['mod+z'], run: () => void calls.push('undo') },
    ]));
    const leave = registerCommands(() => [{ id: 'segment.next', title: 'Next mask', keys: ['n'], run: () => void calls.push('segment next') }]);
    await commandForKey('n')!.run();
    await runCommand('edit.undo');
    leave();
    await commandForKey('n')!.run();
    expect(calls).toEqual(['segment next', 'undo', 'review next']);
    expect(commandForKey('x')).toBeUndefined();
    expect(activeCommands().map((c) => c.id)).toEqual(['review.next', 'edit.undo']);
    await expect(runCommand('segment.next')).rejects.toThrow(/no command 'segment.next' here \(available: review.next, edit.undo\)/);
  });
});
