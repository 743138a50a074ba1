// Where the Electron binary is, if it is already on disk; never triggers the electron package's lazy
// download (electron ≥ 41 fetches the binary on first use, which needs the internet).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** @returns {{ path: string, why?: undefined } | { path: undefined, why: string }} */
export function electronBinary(root) {
  const require = createRequire(join(root, 'package.json'));
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { path: undefined, why: 'the electron package is not installed' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (!existsSync(pathFile) && !override) {
    return { path: undefined, why: `no binary has been downloaded (${pathFile} is missing; the electron package fetches it on first use, which needs the internet)` };
  }
  const rel = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const bin = override ? join(override, rel) : join(pkgDir, 'dist', rel);
  return existsSync(bin) ? { path: bin } : { path: undefined, why: `binary missing at ${bin}` };
}
