/**
 * Debian's python3-pydicom ships small real DICOM files covering encodings the shared data lacks
 * (big endian, deflate, RGB planar, YBR, JPEG baseline, RLE colour, multi-frame …). Tests read them
 * in place and, when numpy is there too, compare with the pixel values pydicom (+ GDCM) gives.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const pydicomFilesDir = process.env.PYDICOM_TEST_FILES ?? '/usr/lib/python3/dist-packages/pydicom/data/test_files';
export const hasPydicomFiles = existsSync(join(pydicomFilesDir, 'MR_small.dcm'));
export const pydicomSkipReason = `pydicom test files not found at ${pydicomFilesDir} (apt-get install -y python3-pydicom, or set PYDICOM_TEST_FILES)`;

/** Debian's packages live under /usr/bin/python3; a python3 on PATH may lack numpy. */
const PYTHON = process.env.PYDICOM_PYTHON ?? '/usr/bin/python3';

export const hasPydicomNumpy =
  hasPydicomFiles && spawnSync(PYTHON, ['-c', 'import numpy, pydicom'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
export const numpySkipReason = `${PYTHON} cannot import numpy and pydicom (apt-get install -y python3-numpy python3-pydicom)`;

/** pydicom alone decodes native, deflated and RLE data; JPEG, JPEG-LS and JPEG 2000 need GDCM. */
export const hasPydicomGdcm = hasPydicomNumpy && spawnSync(PYTHON, ['-c', 'import gdcm'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
export const gdcmSkipReason = `${PYTHON} cannot import gdcm, which pydicom needs for compressed references (apt-get install -y python3-gdcm)`;

if (!hasPydicomFiles) console.warn(`[skip] ${pydicomSkipReason}`);
else if (!hasPydicomNumpy) console.warn(`[skip] pixel comparison with pydicom: ${numpySkipReason}`);
else if (!hasPydicomGdcm) console.warn(`[skip] pixel comparison of JPEG / JPEG-LS / JPEG 2000 files: ${gdcmSkipReason}`);

export interface PydicomReference {
  ok: boolean;
  shape?: number[];
  photometric?: string;
  error?: string;
  /** Modality values (grey) or RGB, frame-major, row-major, channels last. */
  pixels?: Float64Array;
}

/** Runs pydicom once over all the files and reads back what it decoded. */
export function pydicomReference(files: string[]): Map<string, PydicomReference> {
  const out = mkdtempSync(join(tmpdir(), 'ld-pydicom-'));
  try {
    const script = resolve(__dirname, 'pydicom_reference.py');
    const stdout = execFileSync(PYTHON, [script, out, ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as PydicomReference & { file: string });
    return new Map(
      lines.map((line, i) => {
        if (line.ok) {
          const bytes = readFileSync(join(out, `${i}.f64`));
          line.pixels = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        }
        return [line.file, line];
      }),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
