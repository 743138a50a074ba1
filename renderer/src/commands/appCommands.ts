/**
 * What the renderer does for each menu command main sends (`app:command`, common/appCommands.ts).
 * The table is typed by the command list, so a menu item without a handler does not compile; the
 * payload is checked anyway, as every message that crosses a process boundary is.
 */
import { APP_COMMANDS, type AppCommandId } from '../../../common/appCommands';

export type AppCommandTable = Record<AppCommandId, (args: { dir?: string }) => void | Promise<void>>;

/** What the handlers act on: the shell's mode switch and the project store. */
export interface AppCommandTargets {
  showMode(mode: 'project' | 'import' | 'export'): void;
  openProject(dir: string): Promise<unknown>;
  openSample(): Promise<unknown>;
}

export function appCommandTable(t: AppCommandTargets): AppCommandTable {
  return {
    // New and Open are forms of the Project mode (a folder picker; no native dialog in browser mode)
    'project.new': () => t.showMode('project'),
    'project.open': () => t.showMode('project'),
    'project.openRecent': async ({ dir }) => {
      if (!dir) throw new Error('Open Recent: the menu item names no project folder');
      await t.openProject(dir);
    },
    'project.openSample': async () => {
      await t.openSample();
    },
    'images.import': () => t.showMode('import'),
    'export.landmarks': () => t.showMode('export'),
  };
}

/** Runs the command a payload names; a payload that names none of APP_COMMANDS is an error. */
export async function dispatchAppCommand(table: AppCommandTable, payload: unknown): Promise<void> {
  const p = payload as { command?: unknown; dir?: unknown } | null;
  const command = typeof p?.command === 'string' ? p.command : undefined;
  if (!command || !(APP_COMMANDS as readonly string[]).includes(command)) {
    throw new Error(`unknown menu command ${JSON.stringify(command ?? payload)} (known: ${APP_COMMANDS.join(', ')})`);
  }
  const dir = typeof p?.dir === 'string' ? p.dir : undefined;
  await table[command as AppCommandId]({ dir });
}
