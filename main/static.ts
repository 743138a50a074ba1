/**
 * Serving the built renderer safely, shared by the Electron protocol handler (main/app.ts) and the
 * browser-mode server (main/server.ts): one Content-Security-Policy, one content-type table, one
 * path resolver that refuses anything outside the renderer folder.
 */
import { realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

const CSP_DIRECTIVES = [
  "default-src 'self'",
  // 'wasm-unsafe-eval': tfjs-wasm and the DICOM codecs compile WebAssembly; no JS eval.
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
];

/** Sent as a header on every response, by the protocol handler and by the server. */
export const CONTENT_SECURITY_POLICY = CSP_DIRECTIVES.join('; ');

/**
 * What renderer/index.html carries in its <meta http-equiv="Content-Security-Policy">: the same policy
 * without `frame-ancestors`, which browsers ignore (with a console warning) when it comes from a meta tag.
 */
export const CONTENT_SECURITY_POLICY_META = CSP_DIRECTIVES.filter((d) => !d.startsWith('frame-ancestors')).join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export type StaticLookup =
  | { ok: true; file: string; size: number }
  | { ok: false; status: 400 | 403 | 404; reason: string };

/**
 * Map a request path (still percent-encoded, without the query) to a file inside `rootDir`.
 * Refused (403): `..` or `.` segments in any encoding, backslashes, NUL, and anything whose real path
 * (after symlinks) leaves `rootDir`. A directory serves its index.html.
 */
export async function resolveStaticFile(rootDir: string, rawPath: string): Promise<StaticLookup> {
  if (!rawPath.startsWith('/')) return { ok: false, status: 400, reason: 'path must start with /' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 403, reason: 'forbidden character in path' };
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, status: 403, reason: 'path traversal refused' };

  const root = resolve(rootDir);
  let file = resolve(join(root, ...segments));
  if (!isInside(root, file)) return { ok: false, status: 403, reason: 'path traversal refused' };
  try {
    let info = await stat(file);
    if (info.isDirectory()) {
      file = join(file, 'index.html');
      info = await stat(file);
    }
    if (!info.isFile()) return { ok: false, status: 404, reason: 'not found' };
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    if (!isInside(realRoot, realFile)) return { ok: false, status: 403, reason: 'path leaves the renderer folder' };
    return { ok: true, file: realFile, size: info.size };
  } catch {
    return { ok: false, status: 404, reason: 'not found' };
  }
}

function isInside(root: string, file: string): boolean {
  if (file === root) return true;
  const rel = relative(root, file);
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}
