/**
 * The validators the DICOM community uses on derived objects: dicom3tools' dciodvfy (IOD rules) and
 * dcentvfy (consistency of patient/study/series/frame of reference across files), and pydicom as an
 * independent reader. Tests skip with a message when they are not installed
 * (apt-get install -y dicom3tools python3-pydicom python3-numpy).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const runs = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return r.error ? undefined : r;
};

export const hasDciodvfy = runs('dciodvfy', ['-help']) !== undefined;
export const hasDcentvfy = runs('dcentvfy', ['-help']) !== undefined;
export const dicom3toolsSkipReason = 'dicom3tools (dciodvfy, dcentvfy) not installed (apt-get install -y dicom3tools)';

export interface Verification {
  errors: string[];
  warnings: string[];
  /** Everything it printed, stdout and stderr. */
  output: string;
}

function verification(stdout: string, stderr: string): Verification {
  const output = `${stdout}${stderr}`;
  const lines = output.split('\n').map((l) => l.trim());
  return { errors: lines.filter((l) => l.startsWith('Error')), warnings: lines.filter((l) => l.startsWith('Warning')), output };
}

/** dciodvfy on one file: lines starting with "Error" are IOD violations. */
export function dciodvfy(file: string): Verification {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8', timeout: 120_000 });
  return verification(r.stdout ?? '', r.stderr ?? '');
}

/** dcentvfy over a derived object and its sources: inconsistent entity attributes are reported. */
export function dcentvfy(files: string[]): Verification {
  const r = spawnSync('dcentvfy', files, { encoding: 'utf8', timeout: 120_000 });
  return verification(r.stdout ?? '', r.stderr ?? '');
}

const PYTHON = process.env.PYDICOM_PYTHON ?? '/usr/bin/python3';
export const hasPydicomNumpy = spawnSync(PYTHON, ['-c', 'import numpy, pydicom'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
export const pydicomSkipReason = `${PYTHON} cannot import numpy and pydicom (apt-get install -y python3-numpy python3-pydicom)`;

export interface PydicomSegFrame {
  segment: number;
  source: string;
  sha256: string;
  sum: number;
}

export interface PydicomSeg {
  sopClass: string;
  type: string;
  rows: number;
  columns: number;
  frames: PydicomSegFrame[];
}

/** pydicom's view of a SEG: per frame the segment, the source SOP Instance UID and a hash of its uint8 pixels. */
export function pydicomReadSeg(file: string): PydicomSeg {
  const script = resolve(__dirname, 'seg_readback.py');
  const r = spawnSync(PYTHON, [script, file], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`pydicom could not read ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as PydicomSeg;
}

/** pydicom's view of a landmark SR: tracking identifiers, UIDs, points and referenced images. */
export function pydicomReadSr(file: string): { sopClass: string; template: string; groups: Array<{ id: string; uid: string; graphicType: string; point: number[]; image: string }> } {
  const script = resolve(__dirname, 'sr_readback.py');
  const r = spawnSync(PYTHON, [script, file], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`pydicom could not read ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

if (!hasDciodvfy) console.warn(`[skip] ${dicom3toolsSkipReason}`);
if (!hasPydicomNumpy) console.warn(`[skip] pydicom read-back: ${pydicomSkipReason}`);
