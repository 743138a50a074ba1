/**
 * Which mode a project opens in: the one the user was in when they last left it (remembered per
 * project folder in the renderer's localStorage), else the next step of the workflow — Import
 * while it has no images, Train while it has no run, Review once propagated landmarks wait for
 * review, Template otherwise. A review in progress is thus not lost behind the Train mode on restart.
 */
import type { ProjectSnapshot } from '../../../common/api';
import { MODE_IDS, type ModeId } from '../modes/modeIds';

const STORAGE_KEY = 'ld-studio.lastMode';
/** Enough projects for anyone; the oldest are forgotten first. */
const MAX_PROJECTS = 50;

type Remembered = Record<string, ModeId>;

/** Just what is needed of the Web Storage API (tests pass a Map-backed one). */
export type ModeStorage = Pick<Storage, 'getItem' | 'setItem'>;

function read(storage: ModeStorage | undefined): Remembered {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '{}');
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, m]) => (MODE_IDS as readonly unknown[]).includes(m))) as Remembered;
  } catch {
    return {}; // unreadable or disabled storage: fall back to the workflow's default
  }
}

export function rememberMode(storage: ModeStorage | undefined, projectDir: string, mode: ModeId): void {
  const all = read(storage);
  delete all[projectDir]; // re-inserted last: the newest
  all[projectDir] = mode;
  const kept = Object.entries(all).slice(-MAX_PROJECTS);
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(kept)));
  } catch {
    // storage full or disabled: the default will do next time
  }
}

/** The workflow's next step for a project as it stands. */
export function defaultMode(snapshot: Pick<ProjectSnapshot, 'images' | 'runs' | 'landmarks' | 'template'>): ModeId {
  if (snapshot.images.length === 0) return 'import';
  if (snapshot.runs.length === 0) return 'train';
  const templateImage = snapshot.template?.imageId;
  const predicted = snapshot.landmarks.some((l) => l.imageId !== templateImage && l.points.some((p) => p.status === 'predicted' || p.status === 'corrected'));
  return predicted ? 'review' : 'template';
}

export function initialMode(storage: ModeStorage | undefined, snapshot: Parameters<typeof defaultMode>[0] & { dir: string }): ModeId {
  const remembered = read(storage)[snapshot.dir];
  return remembered && remembered !== 'project' ? remembered : defaultMode(snapshot);
}

/** The browser's localStorage, where there is one. */
export function browserStorage(): ModeStorage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined; // access can throw where storage is disabled
  }
}
