/** Small display helpers shared by the mode panels (no Vue, no state). */

/** 42 → "0:42", 3725 → "1:02:05"; negative or non-finite → "". */
export function formatDuration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** An ISO time as the user's locale writes date and time (the input itself when it does not parse). */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A loss value with 4 significant digits, exponent form when very small or large. */
export function formatLoss(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(4);
}

/** The path separator a path uses (Windows paths have backslashes or a drive letter). */
export function separatorOf(path: string): '/' | '\\' {
  return path.includes('\\') || /^[A-Za-z]:$/.test(path) ? '\\' : '/';
}

/** `dir` + `name` with the separator `dir` already uses. */
export function joinPath(dir: string, name: string): string {
  const sep = separatorOf(dir);
  return dir.endsWith('/') || dir.endsWith('\\') ? dir + name : dir + sep + name;
}

/** The last segment of a path ("" for a root). */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  return trimmed.split(/[\\/]/).pop() ?? '';
}

/** "/a/b" → [{ name: '/', path: '/' }, { name: 'a', path: '/a' }, { name: 'b', path: '/a/b' }]; "C:\a" likewise. */
export function pathCrumbs(path: string): { name: string; path: string }[] {
  const sep = separatorOf(path);
  const crumbs: { name: string; path: string }[] = [];
  let rest = path;
  let acc = '';
  const drive = /^[A-Za-z]:[\\/]?/.exec(rest);
  const unc = /^\\\\[^\\]+\\[^\\]+\\?/.exec(rest);
  if (unc) {
    acc = unc[0].endsWith('\\') ? unc[0] : unc[0] + '\\';
    crumbs.push({ name: acc, path: acc });
    rest = rest.slice(unc[0].length);
  } else if (drive) {
    acc = drive[0][0] + ':' + sep;
    crumbs.push({ name: acc, path: acc });
    rest = rest.slice(drive[0].length);
  } else if (rest.startsWith('/')) {
    acc = '/';
    crumbs.push({ name: '/', path: '/' });
    rest = rest.slice(1);
  }
  for (const part of rest.split(/[\\/]/).filter(Boolean)) {
    acc = acc === '' ? part : acc.endsWith(sep) ? acc + part : acc + sep + part;
    crumbs.push({ name: part, path: acc });
  }
  return crumbs;
}

/** Paths typed or pasted into a field: one per line, surrounding quotes (Windows "Copy as path") removed. */
export function parsePaths(text: string, multiple: boolean): string[] {
  const lines = multiple ? text.split(/\r?\n/) : [text];
  return lines
    .map((l) => l.trim().replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1').trim())
    .filter(Boolean);
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
