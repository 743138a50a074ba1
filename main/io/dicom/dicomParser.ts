/**
 * dicom-parser ships a UMD bundle whose named exports Node's ESM loader cannot see, so it is loaded
 * with require (the same way in tests, the CLI bundle and Electron's main process).
 */
import { createRequire } from 'node:module';

export type { DataSet, Element, Fragment } from 'dicom-parser';

const requireHere = createRequire(__filename);

export const dicomParser = requireHere('dicom-parser') as typeof import('dicom-parser');
