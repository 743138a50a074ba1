import { findTorch, type TorchDiscovery } from '../../main/jobs/torch/findPython';

/** The PyTorch engine's tests run where a Python with torch exists (CI installs Debian's python3-torch). */
export const torchDiscovery: TorchDiscovery = findTorch();
export const hasTorch = Boolean(torchDiscovery.found);
export const torchPython = torchDiscovery.found?.interpreter ?? '';
export const torchSkipReason = hasTorch
  ? ''
  : `no Python with torch: ${torchDiscovery.probes.map((p) => `${p.candidate}: ${p.detail}`).join('; ')} (apt-get install python3-torch python3-torchvision)`;
if (!hasTorch) console.warn(`[skip] PyTorch engine tests: ${torchSkipReason}`);
