import { LandmarkFileError, type TextPlace } from './fileError';

// Number() accepts "", " ", "0x1f", "Infinity": none of them is a coordinate
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal number written in a text file; anything else is an error naming the place and the field. */
export function parseDecimal(text: string, what: string, place: TextPlace): number {
  const trimmed = text.trim();
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isFinite(value)) {
    const shown = trimmed === '' ? 'empty' : `'${trimmed.slice(0, 40)}'`;
    throw new LandmarkFileError(`${what} is not a number (${shown})`, place);
  }
  return value;
}

/** A confidence must lie in [0, 1] (types.ts); out-of-range values are mistakes, not data. */
export function checkConfidence(value: number, what: string, place: TextPlace): number {
  if (!(value >= 0 && value <= 1)) throw new LandmarkFileError(`${what} must lie between 0 and 1 (got ${value})`, place);
  return value;
}

/**
 * Shortest text that reads back to the same double (JavaScript's own), so writing and reading a file
 * loses nothing; -0 is written as 0.
 */
export function formatNumber(value: number): string {
  return Object.is(value, -0) ? '0' : String(value);
}
