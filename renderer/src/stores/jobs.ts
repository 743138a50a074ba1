import { defineStore } from 'pinia';
import { ref } from 'vue';
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

  return { progress, listen, forget, cancel };
});
