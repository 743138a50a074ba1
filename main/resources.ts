import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The app's resources folder holding `subfolder`, wherever this code runs from: out/cli or out/main
 * (bundles), main/<module> (sources under test), or LD_STUDIO_RESOURCES for a packaged layout.
 */
export function resourcesDir(subfolder: string): string {
  const candidates = [process.env.LD_STUDIO_RESOURCES, resolve(__dirname, '../../resources'), resolve(__dirname, '../resources')];
  for (const c of candidates) if (c && existsSync(join(c, subfolder))) return c;
  throw new Error(`LD Studio resources not found (looked for ${subfolder} in ${candidates.filter(Boolean).join(', ')}); set LD_STUDIO_RESOURCES`);
}
