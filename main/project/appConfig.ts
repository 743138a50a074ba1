/**
 * Where LD Studio keeps its own settings (not a project's): the recent-projects list and the sample
 * project. `LD_STUDIO_CONFIG_DIR` wins; else Electron's userData folder when the app passes it; else
 * the platform's config folder + `ld-studio` (XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/
 * Application Support on macOS, %APPDATA% on Windows).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { RecentProject } from '../../common/api';
import { writeFileAtomic } from '../io/atomicWrite';
import { PROJECT_FILE_NAME } from './projectFile';

export function defaultConfigDir(userDataDir?: string): string {
  const env = process.env.LD_STUDIO_CONFIG_DIR;
  if (env) return resolve(env);
  if (userDataDir) return resolve(userDataDir);
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'ld-studio');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'ld-studio');
  return join(process.env.XDG_CONFIG_HOME || join(home, '.config'), 'ld-studio');
}

/**
 * The developer's sample images: `LD_STUDIO_SAMPLE_IMAGES`, else `<repo>/../shared/data/landmarks/hand`
 * when this code runs from a checkout that has the team's data beside it, else none.
 */
export function defaultSampleImagesDir(): string | null {
  const env = process.env.LD_STUDIO_SAMPLE_IMAGES;
  if (env) return resolve(env);
  const repo = findRepoRoot(__dirname);
  if (!repo) return null;
  const dir = resolve(repo, '..', 'shared', 'data', 'landmarks', 'hand');
  return existsSync(dir) ? dir : null;
}

/** The checkout holding this code (main/…, out/cli, out/main): the folder whose package.json is ld-studio's. */
function findRepoRoot(from: string): string | null {
  let dir = resolve(from);
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ld-studio') return dir;
      } catch {
        // not ours
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

const RECENT_FILE = 'recent-projects.json';
const MAX_RECENT = 12;
const recentShape = z.object({
  version: z.literal(1),
  projects: z.array(z.object({ dir: z.string(), name: z.string(), openedAt: z.string() })),
});

/** The recent-projects list (most recent first) kept in the config folder. */
export class RecentProjects {
  constructor(readonly configDir: string) {}

  get file(): string {
    return join(this.configDir, RECENT_FILE);
  }

  list(): RecentProject[] {
    return this.read().map((p) => ({ ...p, missing: !existsSync(join(p.dir, PROJECT_FILE_NAME)) }));
  }

  /** Put a project at the top of the list (called on create and open). */
  touch(dir: string, name: string): void {
    const rest = this.read().filter((p) => p.dir !== dir);
    this.write([{ dir, name, openedAt: new Date().toISOString() }, ...rest].slice(0, MAX_RECENT));
  }

  private read(): Array<{ dir: string; name: string; openedAt: string }> {
    try {
      const parsed = recentShape.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      return parsed.success ? parsed.data.projects : [];
    } catch {
      return []; // absent or unreadable: start a new list
    }
  }

  private write(projects: Array<{ dir: string; name: string; openedAt: string }>): void {
    mkdirSync(this.configDir, { recursive: true });
    writeFileAtomic(this.file, JSON.stringify({ version: 1, projects }, null, 2) + '\n');
  }
}
