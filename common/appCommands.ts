/**
 * The commands main's menus send to the renderer as `app:command` events. main/app.ts builds its
 * File menu from these ids; renderer/src/commands/appCommands.ts has one handler per id (a test holds
 * both to this list).
 */
export const APP_COMMANDS = ['project.new', 'project.open', 'project.openRecent', 'project.openSample', 'images.import', 'export.landmarks'] as const;

export type AppCommandId = (typeof APP_COMMANDS)[number];

export interface AppCommand {
  command: AppCommandId;
  /** project.openRecent: the project folder. */
  dir?: string;
}
