/** Handlers for the `job:` domain: cancelling a running import or propagation by its jobId. */
import type { DomainHandlers } from './types';

export const jobHandlers: DomainHandlers<'job:cancel'> = {
  'job:cancel': async ({ jobId }, { session }) => ({ cancelled: session.cancelJob(jobId) }),
};
