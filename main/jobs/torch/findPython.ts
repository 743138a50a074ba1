/**
 * Finds a Python interpreter that can `import torch` and run our engine. Users have several
 * (system, conda, venv, pyenv): the explicit choice wins, then the active environment, then PATH,
 * then common install locations. The report says which one was used and why the others were not.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { torchPackageDir } from './resources';

export interface TorchInfo {
  python: string;
  executable: string;
  torch: string;
  cuda: boolean;
  devices: Array<{ index: number; name: string; memoryGiB: number }>;
  torchvision: string | null;
  onnx: string | null;
}

export interface PythonProbe {
  candidate: string;
  ok: boolean;
  detail: string;
  info?: TorchInfo;
}

export interface TorchDiscovery {
  found?: TorchInfo & { interpreter: string };
  probes: PythonProbe[];
}

export function pythonCandidates(explicit?: string): string[] {
  const env = process.env;
  const onPath = (name: string) =>
    (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name)).find((p) => existsSync(p));
  const home = homedir();
  const list = [
    explicit,
    env.LD_STUDIO_PYTHON,
    env.VIRTUAL_ENV && join(env.VIRTUAL_ENV, 'bin', 'python'),
    env.CONDA_PREFIX && join(env.CONDA_PREFIX, 'bin', 'python'),
    onPath('python3'),
    onPath('python'),
    '/usr/bin/python3',
    '/usr/local/bin/python3',
    '/opt/conda/bin/python',
    join(home, 'miniconda3', 'bin', 'python'),
    join(home, 'anaconda3', 'bin', 'python'),
    join(home, 'mambaforge', 'bin', 'python'),
  ];
  return [...new Set(list.filter((p): p is string => Boolean(p)))];
}

export function engineEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const pkg = torchPackageDir();
  const pythonPath = [pkg, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  return { ...process.env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1', ...extra };
}

export function probePython(candidate: string): PythonProbe {
  if (candidate.includes('/') && !existsSync(candidate)) return { candidate, ok: false, detail: 'not found' };
  const res = spawnSync(candidate, ['-m', 'ld_torch', 'info'], { encoding: 'utf8', timeout: 120_000, env: engineEnv() });
  return probeResult(candidate, res);
}

/** probePython without blocking the event loop (the app's main process must stay responsive). */
export function probePythonAsync(candidate: string): Promise<PythonProbe> {
  if (candidate.includes('/') && !existsSync(candidate)) return Promise.resolve({ candidate, ok: false, detail: 'not found' });
  return new Promise((resolve) => {
    execFile(candidate, ['-m', 'ld_torch', 'info'], { encoding: 'utf8', timeout: 120_000, env: engineEnv(), maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      // error.code: the exit status (a number), or a spawn failure such as 'ENOENT' (a string); killed: the timeout
      const code = (error as (Error & { code?: unknown; killed?: boolean }) | null)?.code;
      if (!error) resolve(probeResult(candidate, { status: 0, stdout, stderr }));
      else if (typeof code === 'number' && !(error as { killed?: boolean }).killed) resolve(probeResult(candidate, { status: code, stdout, stderr }));
      else resolve(probeResult(candidate, { error, status: null, stdout, stderr }));
    });
  });
}

function probeResult(candidate: string, res: { error?: Error; status: number | null; stdout: string; stderr: string }): PythonProbe {
  if (res.error) return { candidate, ok: false, detail: res.error.message };
  if (res.status !== 0) {
    const last = (res.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? `exit ${res.status}`;
    return { candidate, ok: false, detail: /No module named 'torch'/.test(res.stderr) ? "no module named 'torch'" : last };
  }
  try {
    const info = JSON.parse(res.stdout.trim().split('\n').pop()!) as TorchInfo;
    return { candidate, ok: true, detail: `torch ${info.torch}${info.cuda ? `, CUDA: ${info.devices.map((d) => d.name).join(', ')}` : ', CPU only'}`, info };
  } catch {
    return { candidate, ok: false, detail: `unexpected output from the engine's info command: ${res.stdout.slice(0, 200)}` };
  }
}

let cached: TorchDiscovery | undefined;

/** Probes candidates in order and stops at the first that has torch (results cached per process). */
export function findTorch(explicit?: string): TorchDiscovery {
  if (!explicit && cached) return cached;
  const probes: PythonProbe[] = [];
  for (const candidate of pythonCandidates(explicit)) {
    const probe = probePython(candidate);
    probes.push(probe);
    if (probe.ok) {
      const result = { found: { ...probe.info!, interpreter: candidate }, probes };
      if (!explicit) cached = result;
      return result;
    }
    if (explicit && candidate === explicit) break; // an explicit choice that fails is reported, not replaced
  }
  const result = { probes };
  if (!explicit) cached = result;
  return result;
}

/** findTorch without blocking the event loop; shares findTorch's per-process cache. */
export async function findTorchAsync(explicit?: string): Promise<TorchDiscovery> {
  if (!explicit && cached) return cached;
  const probes: PythonProbe[] = [];
  for (const candidate of pythonCandidates(explicit)) {
    const probe = await probePythonAsync(candidate);
    probes.push(probe);
    if (probe.ok) {
      const result = { found: { ...probe.info!, interpreter: candidate }, probes };
      if (!explicit) cached = result;
      return result;
    }
    if (explicit && candidate === explicit) break;
  }
  const result = { probes };
  if (!explicit) cached = result;
  return result;
}

export function describeMissingTorch(d: TorchDiscovery): string {
  if (d.probes.length === 0) return 'no Python interpreter found';
  return `no Python with torch found (${d.probes.map((p) => `${p.candidate}: ${p.detail}`).join('; ')}); install PyTorch (e.g. \`apt-get install python3-torch python3-torchvision\` or pip) or pass --python`;
}
