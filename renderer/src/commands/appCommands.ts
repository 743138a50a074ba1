/**
 * The commands behind the Electron File menu (`app:command` events, common/appCommands.ts): one per
 * id main's menu can send, registered in the command registry like every other command, so the menu,
 * a shortcut or a button reach the same code. The payload is checked, as every message that crosses
 * a process boundary is.
 */
import { APP_COMMANDS, type AppCommandId } from '../../../common/appCommands';
import { runCommand, type Command } from './registry';

/** What the commands act on: the shell's mode switch and the project store. */
export interface AppCommandTargets {
  showMode(mode: 'project' | 'import' | 'export'): void;
  openProject(dir: string): Promise<unknown>;
  openSample(): Promise<unknown>;
}

export function appCommands(t: AppCommandTargets): Array<Command & { id: AppCommandId }> {
  return [
    // New and Open are forms of the Project mode (a folder picker; no native dialog in browser mode)
    { id: 'project.new', title: 'New project…', run: () => t.showMode('project') },
    { id: 'project.open', title: 'Open project…', run: () => t.showMode('project') },
    {
      id: 'project.openRecent',
      title: 'Open a recent project',
      run: async (args) => {
        if (!args?.dir) throw new Error('Open Recent: the menu item names no project folder');
        await t.openProject(args.dir);
      },
    },
    { id: 'project.openSample', title: 'Open the sample project', run: async () => void (await t.openSample()) },
    { id: 'images.import', title: 'Import images…', run: () => t.showMode('import') },
    { id: 'export.landmarks', title: 'Export landmarks…', run: () => t.showMode('export') },
  ];
}

/** Runs the command an `app:command` payload names; a payload that names none of APP_COMMANDS is an error. */
export async function dispatchAppCommand(payload: unknown): Promise<void> {
  const p = payload as { command?: unknown; dir?: unknown } | null;
  const command = typeof p?.command === 'string' ? p.command : undefined;
  if (!command || !(APP_COMMANDS as readonly string[]).includes(command)) {
    throw new Error(`unknown menu command ${JSON.stringify(command ?? payload)} (known: ${APP_COMMANDS.join(', ')})`);
  }
  await runCommand(command, { dir: typeof p?.dir === 'string' ? p.dir : undefined });
}
