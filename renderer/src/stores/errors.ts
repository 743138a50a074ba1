import { LdStudioError } from '../api/client';

/** A message a person can act on, from whatever was thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof LdStudioError && err.issues?.length) {
    return `${err.message}: ${err.issues.map((i) => `${i.path.join('.') || 'payload'} ${i.message}`).join('; ')}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A short random id for jobs started from the renderer (progress events carry it back). */
export function newJobId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
