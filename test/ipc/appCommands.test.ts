/**
 * The File menu's commands reach the renderer: every id main's menu can send (common/appCommands.ts,
 * the type main/app.ts builds its menu with) has a renderer handler that does what the item says,
 * and a payload naming no command is refused with the list of known ones. The menu itself needs an
 * Electron binary (test/e2e/electronApp.test.ts, where one exists).
 */
import { describe, expect, it } from 'vitest';
import { APP_COMMANDS } from '../../common/appCommands';
import { appCommandTable, dispatchAppCommand } from '../../renderer/src/commands/appCommands';

function recordingTable() {
  const calls: string[] = [];
  const table = appCommandTable({
    showMode: (mode) => void calls.push(`mode ${mode}`),
    openProject: async (dir) => void calls.push(`open ${dir}`),
    openSample: async () => void calls.push('sample'),
  });
  return { calls, table };
}

describe('menu commands in the renderer', () => {
  it('has one handler per command main can send, and no other', () => {
    expect(Object.keys(recordingTable().table).sort()).toEqual([...APP_COMMANDS].sort());
  });

  it.each([
    [{ command: 'project.new' }, 'mode project'],
    [{ command: 'project.open' }, 'mode project'],
    [{ command: 'project.openRecent', dir: '/data/ceph' }, 'open /data/ceph'],
    [{ command: 'project.openSample' }, 'sample'],
    [{ command: 'images.import' }, 'mode import'],
    [{ command: 'export.landmarks' }, 'mode export'],
  ])('%j → %s', async (payload, expected) => {
    const { calls, table } = recordingTable();
    await dispatchAppCommand(table, payload);
    expect(calls).toEqual([expected]);
  });

  it('refuses payloads that name no known command, doing nothing', async () => {
    const { calls, table } = recordingTable();
    for (const bad of [null, 42, {}, { command: 'project.delete' }, { command: 'toString' }, { command: 7 }]) {
      await expect(dispatchAppCommand(table, bad)).rejects.toThrow(/unknown menu command .*known: project.new/);
    }
    await expect(dispatchAppCommand(table, { command: 'project.openRecent' })).rejects.toThrow(/names no project folder/);
    expect(calls).toEqual([]);
  });
});
