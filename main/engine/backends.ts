/**
 * Backend discovery and selection. `auto` prefers, in order: `tensorflow` (libtensorflow through
 * @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, when a user installed one), `webgpu` (the
 * `webgpu` npm package, when Dawn finds an adapter), then `wasm` (always there).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { BackendName } from '../../common/names';
import { tf } from './tf';

export type { BackendName };
export type BackendRequest = 'auto' | BackendName;
export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendProbe {
  name: BackendName;
  available: boolean;
  /** Why it is (un)available: the package found, the adapter, or what is missing. */
  detail: string;
  version?: string;
}

export interface BackendChoice {
  name: BackendName;
  reason: string;
  probes: BackendProbe[];
}

const requireHere = createRequire(__filename);

function packageVersion(name: string): string | undefined {
  try {
    return (requireHere(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function probeTensorflow(): BackendProbe {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const version = packageVersion(pkg);
    if (version) return { name: 'tensorflow', available: true, detail: `${pkg} ${version} is installed`, version };
  }
  return {
    name: 'tensorflow',
    available: false,
    detail: 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed (optional; `npm i @tensorflow/tfjs-node-gpu` where libtensorflow can be downloaded)',
  };
}

/** Dawn (the `webgpu` package) flags from LD_WEBGPU_FLAGS, comma-separated, e.g. `backend=opengl`. */
export function webgpuFlags(): string[] {
  return (process.env.LD_WEBGPU_FLAGS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Dawn's OpenGL backend (e.g. Mesa's llvmpipe on a machine without a GPU) offers only
 * "compatibility" adapters; it also needs a surfaceless EGL platform when there is no display.
 */
function webgpuAdapterOptions(): Record<string, string> {
  if (!webgpuFlags().includes('backend=opengl')) return {};
  process.env.EGL_PLATFORM ??= 'surfaceless';
  return { featureLevel: 'compatibility' };
}

/**
 * Dawn can abort the process when a driver is broken, so the adapter is probed in a child process.
 */
function probeWebgpu(): BackendProbe {
  const version = packageVersion('webgpu');
  if (!version) return { name: 'webgpu', available: false, detail: 'the optional `webgpu` package is not installed' };
  const script = `
    const { create } = require(${JSON.stringify(requireHere.resolve('webgpu'))});
    const gpu = create(${JSON.stringify(webgpuFlags())});
    gpu.requestAdapter(${JSON.stringify(webgpuAdapterOptions())}).then(async (a) => {
      if (!a) { console.log(JSON.stringify({ ok: false, detail: 'no WebGPU adapter found' })); process.exit(0); }
      const info = a.info || {};
      console.log(JSON.stringify({ ok: true, detail: [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'adapter found' }));
      process.exit(0);
    }, (e) => { console.log(JSON.stringify({ ok: false, detail: String(e && e.message || e) })); process.exit(0); });`;
  // ELECTRON_RUN_AS_NODE: inside Electron, execPath is the app itself.
  const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  const line = (res.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as { ok: boolean; detail: string };
    return { name: 'webgpu', available: parsed.ok, detail: `webgpu ${version}: ${parsed.detail}`, version };
  } catch {
    const why = res.error ? res.error.message : (res.stderr ?? '').trim().split('\n').slice(-1)[0] || `exit ${res.status}`;
    return { name: 'webgpu', available: false, detail: `webgpu ${version}: adapter probe failed (${why})`, version };
  }
}

export function probeBackends(): BackendProbe[] {
  return [
    probeTensorflow(),
    probeWebgpu(),
    { name: 'wasm', available: true, detail: 'built in (single-threaded in Node, 4 GiB heap)', version: packageVersion('@tensorflow/tfjs-backend-wasm') },
    { name: 'cpu', available: true, detail: 'built in (pure JavaScript, slow; for tests)', version: packageVersion('@tensorflow/tfjs-backend-cpu') },
  ];
}

/** Decide which backend to use, without initialising it. */
export function chooseBackend(request: BackendRequest, probes = probeBackends()): BackendChoice {
  const byName = new Map(probes.map((p) => [p.name, p]));
  if (request !== 'auto') {
    const probe = byName.get(request)!;
    if (!probe.available) throw new Error(`backend '${request}' is not available: ${probe.detail}`);
    return { name: request, reason: `requested; ${probe.detail}`, probes };
  }
  for (const name of ['tensorflow', 'webgpu', 'wasm'] as const) {
    const probe = byName.get(name)!;
    if (probe.available) {
      const skipped = probes.filter((p) => !p.available).map((p) => `${p.name}: ${p.detail}`);
      return { name, reason: [`auto picked ${name} (${probe.detail})`, ...skipped.map((s) => `skipped ${s}`)].join('; '), probes };
    }
  }
  throw new Error('no tfjs backend available');
}

/** Load and activate a backend in this process (or worker). */
export async function activateBackend(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    const pkg = packageVersion('@tensorflow/tfjs-node-gpu') ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    requireHere(pkg);
  } else if (name === 'webgpu' && !tf.findBackendFactory('webgpu')) {
    // The webgpu backend registers itself only if navigator.gpu exists when it is imported.
    const { create, globals } = requireHere('webgpu') as { create: (f: string[]) => unknown; globals: object };
    Object.assign(globalThis, globals);
    const gpu = create(webgpuFlags()) as { requestAdapter(o?: object): Promise<unknown> };
    const extra = webgpuAdapterOptions();
    const requestAdapter = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = (o?: object) => requestAdapter({ ...o, ...extra });
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    // A literal require, so bundlers include it and it registers on the same tfjs-core instance.
    require('@tensorflow/tfjs-backend-webgpu');
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend '${name}' failed to initialise`);
  await tf.ready();
}

export function versions(): Record<string, string | undefined> {
  return {
    node: process.versions.node,
    'tfjs-core': packageVersion('@tensorflow/tfjs-core'),
    'tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm'),
    'tfjs-backend-webgpu': packageVersion('@tensorflow/tfjs-backend-webgpu'),
    webgpu: packageVersion('webgpu'),
    'tfjs-node': packageVersion('@tensorflow/tfjs-node'),
    'tfjs-node-gpu': packageVersion('@tensorflow/tfjs-node-gpu'),
  };
}
