import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The app's resources folder, wherever this code runs from: out/cli or out/main (bundles),
 * main/torch (sources under test), or LD_STUDIO_RESOURCES for a packaged layout.
 */
export function resourcesDir(): string {
  const candidates = [process.env.LD_STUDIO_RESOURCES, resolve(__dirname, '../../resources'), resolve(__dirname, '../resources')];
  for (const c of candidates) if (c && existsSync(join(c, 'torch', 'ld_torch'))) return c;
  throw new Error(`LD Studio resources not found (looked in ${candidates.filter(Boolean).join(', ')}); set LD_STUDIO_RESOURCES`);
}

export const torchPackageDir = () => join(resourcesDir(), 'torch');
