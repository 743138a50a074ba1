/**
 * Command-line options shared by the Electron app (main/app.ts) and browser mode (main/serve.ts).
 * Unknown options are ignored: Electron and Chromium pass their own switches through argv.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface LaunchArgs {
  /** `--project <dir>`: a project folder to open at start (absolute). */
  project?: string;
  /** `--sample`: open the sample project at start (what `npm start` asks for when no --project is given). */
  sample: boolean;
  /** `--port <n>` (browser mode; 0 = random). */
  port?: number;
  /** `--host <addr>` (browser mode; loopback unless --allow-remote). */
  host?: string;
  /** `--allow-remote` (browser mode). */
  allowRemote: boolean;
  /** `--tls-cert <pem>` and `--tls-key <pem>` (browser mode: serve HTTPS), absolute. */
  tlsCert?: string;
  tlsKey?: string;
  /** `--allow-host <name>` (repeatable, or comma-separated): more names the Host header may carry. */
  allowHosts: string[];
  /** Problems with the arguments, for the caller to report. */
  errors: string[];
}

export function parseLaunchArgs(argv: readonly string[], cwd = process.cwd()): LaunchArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: false,
    allowPositionals: true,
    options: {
      project: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      sample: { type: 'boolean' },
    },
  });
  const errors: string[] = [];
  const out: LaunchArgs = { allowRemote: values['allow-remote'] === true, sample: values.sample === true, allowHosts: [], errors };
  // With strict: false a valueless `--project` parses as `true`.
  const str = (name: 'project' | 'port' | 'host' | 'tls-cert' | 'tls-key'): string | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') {
      errors.push(`--${name} needs a value`);
      return undefined;
    }
    return v;
  };
  const project = str('project');
  if (project !== undefined) out.project = resolve(cwd, project);
  const port = str('port');
  if (port !== undefined) {
    const n = Number(port);
    if (Number.isInteger(n) && n >= 0 && n <= 65535) out.port = n;
    else errors.push(`--port must be an integer from 0 to 65535, got '${port}'`);
  }
  const host = str('host');
  if (host !== undefined) out.host = host;
  const cert = str('tls-cert');
  const key = str('tls-key');
  if ((cert === undefined) !== (key === undefined)) errors.push('--tls-cert and --tls-key go together: give both PEM files, or neither');
  else if (cert !== undefined && key !== undefined) {
    out.tlsCert = resolve(cwd, cert);
    out.tlsKey = resolve(cwd, key);
  }
  for (const v of values['allow-host'] ?? []) {
    if (typeof v !== 'string' || v === '') errors.push('--allow-host needs a value');
    else out.allowHosts.push(...v.split(',').map((name) => name.trim()).filter(Boolean));
  }
  return out;
}

const LOOPBACK_URL_HOSTS = new Set(['localhost', '[::1]']);

/**
 * `ELECTRON_RENDERER_URL` (electron-vite's dev server), or why it is refused. The app loads its
 * renderer, with the IPC bridge, from it: anything but an http(s) URL on this machine would hand that
 * bridge to whatever the variable points at.
 */
export function checkDevServerUrl(value: string | undefined): { url?: string; refused?: string } {
  if (value === undefined || value === '') return {};
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { refused: `ELECTRON_RENDERER_URL '${value}' is not a URL` };
  }
  const loopback = LOOPBACK_URL_HOSTS.has(url.hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname);
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !loopback || url.username || url.password) {
    return { refused: `ELECTRON_RENDERER_URL '${value}' is not an http(s) URL on this machine (localhost, 127.0.0.1 or [::1]); ignored` };
  }
  return { url: url.href };
}
