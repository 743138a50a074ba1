/**
 * Named commands (OHIF's commandsManager + hotkeysManager): the shell and each mode register what the
 * user can do while they are on screen; keyboard shortcuts, buttons, the File menu's events and a
 * shortcut sheet all reach the same entry by its id. Keys are written like "mod+shift+z", "n",
 * "arrowright"; "mod" is Ctrl, or Cmd on macOS.
 */
import { onBeforeUnmount, onMounted } from 'vue';
import { keyOf, typingInField } from './hotkeys';

export interface Command {
  /** e.g. 'edit.undo', 'review.nextImage', 'project.openRecent'. */
  id: string;
  /** What the shortcut sheet and tooltips say. */
  title: string;
  keys?: string[];
  run(args?: { dir?: string }): void | Promise<void>;
}

/** Each mounted component's commands, as a function read afresh at every lookup (oldest first). */
const providers: Array<() => readonly Command[]> = [];

/** Adds commands; the returned function takes them away again. A later registration of an id wins while it lasts. */
export function registerCommands(commands: readonly Command[] | (() => readonly Command[])): () => void {
  const provider = typeof commands === 'function' ? commands : () => commands;
  providers.push(provider);
  return () => {
    const i = providers.indexOf(provider);
    if (i >= 0) providers.splice(i, 1);
  };
}

/** The commands in effect, one per id (the latest registration), for the shortcut sheet. */
export function activeCommands(): Command[] {
  const byId = new Map<string, Command>();
  for (const provider of providers) for (const c of provider()) byId.set(c.id, c);
  return [...byId.values()];
}

export function commandById(id: string): Command | undefined {
  return activeCommands().find((c) => c.id === id);
}

/** Runs a command by id; an id nothing on screen registered is an error naming what is there. */
export async function runCommand(id: string, args?: { dir?: string }): Promise<void> {
  const command = commandById(id);
  if (!command) throw new Error(`no command '${id}' here (available: ${activeCommands().map((c) => c.id).join(', ') || 'none'})`);
  await command.run(args);
}

/** The command a key press means, if any (the most recent registration first). */
export function commandForKey(key: string): Command | undefined {
  const all = providers.flatMap((p) => p());
  for (let i = all.length - 1; i >= 0; i--) if (all[i].keys?.includes(key)) return all[i];
  return undefined;
}

let listening = false;
function onKey(e: KeyboardEvent): void {
  if (typingInField(e) || e.repeat) return;
  const command = commandForKey(keyOf(e));
  if (!command) return;
  e.preventDefault();
  void command.run();
}

/** Registers a component's commands while it is mounted, with their keys bound. */
export function useCommands(commands: () => Command[]): void {
  let unregister: (() => void) | undefined;
  onMounted(() => {
    unregister = registerCommands(commands);
    if (!listening) window.addEventListener('keydown', onKey);
    listening = true;
  });
  onBeforeUnmount(() => unregister?.());
}
