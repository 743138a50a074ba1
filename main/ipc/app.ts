/** Handlers for the `app:` domain. */
import type { DomainHandlers } from './types';

export const appHandlers: DomainHandlers<'app:ping'> = {
  'app:ping': async ({ nonce }) => ({ nonce }),
};
