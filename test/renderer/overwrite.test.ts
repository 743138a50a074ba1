/**
 * The renderer's side of "exports never replace a file silently" (issue 16): a `conflict` answer
 * becomes a question to the user, and only a yes resends the request with `overwrite: true`.
 */
import { describe, expect, it } from 'vitest';
import { LdStudioError } from '../../renderer/src/api/client';
import { sendAskingToOverwrite } from '../../renderer/src/api/overwrite';

const conflict = new LdStudioError('export:landmarks', 'conflict', 'a file already exists and would be replaced: /out/landmarks.csv; choose another folder or file, or allow overwriting');

/** A stand-in for main: refuses without overwrite while the file exists; records what it was sent. */
function fakeMain() {
  const sent: boolean[] = [];
  const send = async (overwrite: boolean) => {
    sent.push(overwrite);
    if (!overwrite) throw conflict;
    return { files: ['/out/landmarks.csv'] };
  };
  return { sent, send };
}

describe('sendAskingToOverwrite', () => {
  it('asks, naming the file, and resends with overwrite when the user agrees', async () => {
    const main = fakeMain();
    const questions: string[] = [];
    const res = await sendAskingToOverwrite(main.send, (q) => (questions.push(q), true));
    expect(res).toEqual({ files: ['/out/landmarks.csv'] });
    expect(main.sent).toEqual([false, true]);
    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatch(/\/out\/landmarks\.csv.*\n\nReplace the existing file\(s\)\?$/s);
  });

  it('writes nothing more when the user declines', async () => {
    const main = fakeMain();
    expect(await sendAskingToOverwrite(main.send, async () => false)).toBeNull();
    expect(main.sent).toEqual([false]);
  });

  it('does not ask when there is no conflict, and passes other errors on', async () => {
    const asked: string[] = [];
    const ask = (q: string) => (asked.push(q), true);
    expect(await sendAskingToOverwrite(async () => 42, ask)).toBe(42);
    const other = new LdStudioError('export:seg', 'precondition', 'no image has a mask yet');
    await expect(sendAskingToOverwrite(() => Promise.reject(other), ask)).rejects.toBe(other);
    expect(asked).toEqual([]);
  });
});
