import { LdStudioError } from '../api/client';

/** A message a person can act on, from whatever was thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof LdStudioError && err.issues?.length) {
    return `${err.message}: ${err.issues.map((i) => `${i.path.join('.') || 'payload'} ${i.message}`).join('; ')}`;
  }
  return err instanceof Error ? err.message : String(err);
}
