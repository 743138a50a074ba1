/** Handlers for the `engine:` domain: what the tfjs engine can use on this machine. */
import { probeBackends, versions, type BackendProbe } from '../engine/backends';
import type { DomainHandlers } from './types';

// Probing spawns a child process for the WebGPU adapter (synchronously, up to 20 s), and the answer
// does not change while the app runs: probe once per process.
let probes: BackendProbe[] | undefined;

/** The tfjs backends of this machine, probed once per process. */
export function probedBackends(): BackendProbe[] {
  probes ??= probeOnce();
  return probes;
}

function probeOnce(): BackendProbe[] {
  // Inside Electron, process.execPath (which the WebGPU probe spawns with `-e`) is the Electron binary:
  // without ELECTRON_RUN_AS_NODE it would start a second app instead of running the script. The call
  // is synchronous, so setting the variable around it affects nothing else.
  const inElectron = typeof process.versions.electron === 'string';
  const previous = process.env.ELECTRON_RUN_AS_NODE;
  if (inElectron) process.env.ELECTRON_RUN_AS_NODE = '1';
  try {
    return probeBackends();
  } finally {
    if (inElectron) {
      if (previous === undefined) delete process.env.ELECTRON_RUN_AS_NODE;
      else process.env.ELECTRON_RUN_AS_NODE = previous;
    }
  }
}

export const engineHandlers: DomainHandlers<'engine:info'> = {
  'engine:info': async () => {
    const probes = probedBackends();
    // null, not undefined, for a missing package: JSON (browser mode) would drop the key.
    const found = Object.entries(versions()).map(([name, version]) => [name, version ?? null] as const);
    const shell: Record<string, string | null> = process.versions.electron ? { electron: process.versions.electron, chromium: process.versions.chrome ?? null } : {};
    return { versions: { ...shell, ...Object.fromEntries(found) }, backends: probes };
  },
};
