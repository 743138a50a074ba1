/**
 * Exports refuse to replace existing files (code `conflict`, naming them). The user decides: this
 * sends the request without `overwrite`, and on a conflict asks whether to replace the files and,
 * if yes, sends it again with `overwrite: true`.
 */
import { LdStudioError } from './client';

export type AskUser = (question: string) => boolean | Promise<boolean>;

/** The browser's own dialog: modal, keyboard-accessible, and shown by Electron too. */
const askWithConfirmDialog: AskUser = (question) => window.confirm(question);

/** `send(false)`; on a conflict, `send(true)` if the user agrees. Null when the user said no. */
export async function sendAskingToOverwrite<T>(send: (overwrite: boolean) => Promise<T>, ask: AskUser = askWithConfirmDialog): Promise<T | null> {
  try {
    return await send(false);
  } catch (err) {
    if (!(err instanceof LdStudioError) || err.code !== 'conflict') throw err;
    if (!(await ask(`${err.message}.\n\nReplace the existing file(s)?`))) return null;
    return send(true);
  }
}
