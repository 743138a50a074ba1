/** UIDs, dates and numbers formatted the way DICOM value representations require. */
import { createHash, randomUUID } from 'node:crypto';
import packageJson from '../../../package.json';

/** The application as it names itself in the objects it writes (algorithm, equipment, observer). */
export const SOFTWARE = { name: 'LD Studio', version: packageJson.version } as const;

/** "LD Studio 0.1.0": Segment Algorithm Name, device observer model and the like. */
export const SOFTWARE_NAME_AND_VERSION = `${SOFTWARE.name} ${SOFTWARE.version}`;

/** Implementation Version Name (SH, at most 16 characters). */
export const IMPLEMENTATION_VERSION_NAME = `LDSTUDIO_${SOFTWARE.version}`.slice(0, 16);

/** A UUID as a UID under the 2.25 root (PS3.5 B.2): no registered organisation root needed. */
function uuidHexToUid(hex: string): string {
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

/** A new, globally unique UID. */
export function newUid(): string {
  return uuidHexToUid(randomUUID().replace(/-/g, ''));
}

/**
 * The same UID for the same key, every time and on every machine: a name-based (SHA-256, RFC 9562
 * version 8) UUID under 2.25. Used where a UID must be stable across exports, e.g. a landmark's
 * Tracking Unique Identifier, so one landmark is linkable across the images of a cohort.
 */
export function uidFromKey(key: string): string {
  const bytes = createHash('sha256').update(`ld-studio:${key}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC variant
  return uuidHexToUid(bytes.toString('hex'));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** DA and TM of a moment in local time, the convention of DICOM dates without a timezone offset. */
export function dicomDateTime(at: Date = new Date()): { date: string; time: string } {
  return {
    date: `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}`,
    time: `${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`,
  };
}

/**
 * A Decimal String value of at most 16 characters (PS3.5 6.2): the shortest of JavaScript's
 * round-trip text, fixed or exponential notation that fits, losing as little precision as needed.
 * dcmjs would otherwise cut longer text at 16 characters, which can change the number.
 */
export function formatDS(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`a Decimal String cannot hold ${value}`);
  const plain = String(value);
  if (plain.length <= 16) return plain;
  for (let digits = 15; digits >= 1; digits--) {
    for (const text of [Number(value.toPrecision(digits)).toString(), value.toExponential(digits - 1)]) {
      if (text.length <= 16) return text;
    }
  }
  return value.toExponential(0);
}

/** A Code String (CS): upper case letters, digits, space and underscore, at most 16 characters. */
export function toCodeString(text: string): string {
  return text
    .toUpperCase()
    .replace(/[^A-Z0-9 _]/g, '_')
    .slice(0, 16);
}
