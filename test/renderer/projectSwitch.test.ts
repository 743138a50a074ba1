/**
 * Switching projects in the renderer (issue 16): the undo history and the thumbnails belong to the
 * project they were made in. Undo right after creating a new project used to replay the previous
 * project's memo ("no image 'img-1' in this project"); image ids repeat across projects, so a cached
 * thumbnail of img-1 would show the previous project's image.
 */
import { createPinia, setActivePinia } from 'pinia';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LdStudioBridge, ProjectSnapshot } from '../../common/api';
import { useProjectStore } from '../../renderer/src/stores/project';
import { useUndoStore } from '../../renderer/src/stores/undo';

let openDir: string | null = null;
const snapshotOf = (dir: string): ProjectSnapshot => ({
  dir, name: dir, version: 1, images: [], landmarkSets: [], template: null, runs: [], activeRunId: null, landmarks: [], savedAt: null,
});

/** The main process, as far as these calls go: which project is open, and each image's thumbnail in it. */
const bridge = {
  async invoke(channel: string, payload?: { dir?: string; imageId?: string }) {
    switch (channel) {
      case 'project:create':
      case 'project:open':
        openDir = payload!.dir!;
        return { result: snapshotOf(openDir) };
      case 'project:openSample':
        openDir = '/sample';
        return { result: snapshotOf(openDir) };
      case 'project:get':
        return { result: openDir ? snapshotOf(openDir) : null };
      case 'project:close':
        openDir = null;
        return { result: { closed: true } };
      case 'project:recent':
        return { result: [] };
      case 'images:thumbnail':
        return { result: { dataUrl: `thumbnail of ${payload!.imageId} in ${openDir}` } };
      default:
        throw new Error(`unexpected channel ${channel}`);
    }
  },
  on: () => () => undefined,
} as unknown as LdStudioBridge;

beforeAll(() => {
  (globalThis as { window?: unknown }).window = { ldStudio: bridge };
});
beforeEach(() => setActivePinia(createPinia()));

/** A memo of the open project, as the landmark and mask stores record them. */
function recordEdit(): { undone: string[] } {
  const made = openDir;
  const log = { undone: [] as string[] };
  useUndoStore().record({
    label: 'move landmark',
    undo: async () => {
      if (openDir !== made) throw new Error("no image 'img-1' in this project");
      log.undone.push('undo');
    },
    redo: async () => undefined,
  });
  return log;
}

describe('switching projects', () => {
  it('create, open, the sample and close each start with no undo history; a refresh keeps it', async () => {
    const project = useProjectStore();
    const undo = useUndoStore();
    await project.create('/a');
    const edit = recordEdit();
    await project.refresh(); // the same project: its edits can still be undone
    expect(undo.canUndo).toBe(true);

    await project.create('/b');
    expect(undo.canUndo).toBe(false);
    expect(await undo.undo()).toBe(false); // nothing to replay against the new project
    expect(edit.undone).toEqual([]);

    for (const switchProject of [() => project.open('/a'), () => project.openSample(), () => project.close()]) {
      recordEdit();
      await switchProject();
      expect(undo.canUndo).toBe(false);
    }
  });

  it("a thumbnail is the open project's, not a cached one of the same id in the previous project", async () => {
    const project = useProjectStore();
    await project.open('/a');
    expect(await project.thumbnail('img-1')).toBe('thumbnail of img-1 in /a');
    await project.open('/b');
    expect(await project.thumbnail('img-1')).toBe('thumbnail of img-1 in /b');
  });
});
