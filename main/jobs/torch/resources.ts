import { join } from 'node:path';
import { resourcesDir as resourcesHolding } from '../../resources';

/** The app's resources folder (the one holding the PyTorch engine's package). */
export const resourcesDir = () => resourcesHolding(join('torch', 'ld_torch'));

export const torchPackageDir = () => join(resourcesDir(), 'torch');
