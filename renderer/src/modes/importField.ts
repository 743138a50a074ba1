/**
 * What the Import mode's path field holds after an import: the typed paths that failed (or under
 * which a file failed), so a typo can be fixed in place rather than typed again; the paths that
 * imported cleanly are cleared.
 */
import type { ImportFailure } from '../../../common/api';

/** A path without surrounding blanks and trailing separators, as main reports it. */
const normal = (p: string) => p.trim().replace(/(.)[\\/]+$/, '$1');

export function pathsToKeep(typed: readonly string[], failed: readonly ImportFailure[]): string[] {
  const failures = failed.map((f) => normal(f.path));
  return typed.filter((path) => {
    const p = normal(path);
    return failures.some((f) => f === p || f.startsWith(`${p}/`) || f.startsWith(`${p}\\`));
  });
}
