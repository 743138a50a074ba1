import { defineStore } from 'pinia';
import { ref, type Ref } from 'vue';
import type { IpcEvents } from '../../../common/api';
import { useApi } from '../api/client';

export type JobProgress = IpcEvents['job:progress'];

/** Progress of imports, propagations and exports, by the jobId the renderer gave them. */
export const useJobStore = defineStore('jobs', () => {
  const progress = ref<Record<string, JobProgress>>({});

  function listen(): void {
    useApi().on('job:progress', (p) => {
      progress.value = { ...progress.value, [p.jobId]: p };
    });
  }
  const forget = (jobId: string) => {
    const { [jobId]: _gone, ...rest } = progress.value;
    progress.value = rest;
  };
  const cancel = (jobId: string) => useApi().invoke('job:cancel', { jobId });

  /**
   * Runs a job the main process reports on: a fresh id in `current` while it runs (the views show its
   * progress and offer cancel under that id), cleared and forgotten however it ends.
   */
  async function track<T>(prefix: string, current: Ref<string | null>, start: (jobId: string) => Promise<T>): Promise<T> {
    const jobId = newJobId(prefix);
    current.value = jobId;
    try {
      return await start(jobId);
    } finally {
      current.value = null;
      forget(jobId);
    }
  }

  return { progress, listen, forget, cancel, track };
});

/** A short random id for jobs started from the renderer (progress events carry it back). */
export function newJobId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
