import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLaunchArgs } from '../../main/args';

describe('launch arguments', () => {
  it('reads --project (resolved against cwd), --port, --host, --allow-remote', () => {
    const a = parseLaunchArgs(['--project', 'studies/ceph', '--port=8123', '--host', '127.0.0.1', '--allow-remote'], '/data');
    expect(a).toEqual({ project: resolve('/data', 'studies/ceph'), port: 8123, host: '127.0.0.1', allowRemote: true, sample: false, allowHosts: [], errors: [] });
  });

  it('ignores Electron/Chromium switches and positionals', () => {
    const a = parseLaunchArgs(['.', '--no-sandbox', '--inspect=9229', '--project=/p'], '/');
    expect(a.project).toBe('/p');
    expect(a.errors).toEqual([]);
  });

  it('reports bad values instead of throwing', () => {
    expect(parseLaunchArgs(['--port', 'abc']).errors).toEqual(["--port must be an integer from 0 to 65535, got 'abc'"]);
    expect(parseLaunchArgs(['--port', '70000']).errors).toHaveLength(1);
    expect(parseLaunchArgs(['--project']).errors).toEqual(['--project needs a value']);
    expect(parseLaunchArgs([])).toEqual({ allowRemote: false, sample: false, allowHosts: [], errors: [] });
    expect(parseLaunchArgs(['--sample']).sample).toBe(true);
  });

  it('reads --tls-cert/--tls-key (both or neither, resolved against cwd) and --allow-host (repeatable, comma-separated)', () => {
    const a = parseLaunchArgs(['--tls-cert', 'c.pem', '--tls-key=/k.pem', '--allow-host', 'ws1.lab', '--allow-host=10.0.0.5, ws2'], '/data');
    expect(a).toMatchObject({ tlsCert: resolve('/data', 'c.pem'), tlsKey: resolve('/k.pem'), allowHosts: ['ws1.lab', '10.0.0.5', 'ws2'], errors: [] });
    expect(parseLaunchArgs(['--tls-cert', 'c.pem']).errors).toEqual(['--tls-cert and --tls-key go together: give both PEM files, or neither']);
  });
});
