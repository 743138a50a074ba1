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
      sample: { type: 'boolean' },
    },
  });
  const errors: string[] = [];
  const out: LaunchArgs = { allowRemote: values['allow-remote'] === true, sample: values.sample === true, errors };
  // With strict: false a valueless `--project` parses as `true`.
  const str = (name: 'project' | 'port' | 'host'): string | undefined => {
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
  return out;
}
